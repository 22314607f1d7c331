//! The Hessian2 decoder into the kinds of values services declare, and the argument splitter.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use rpc_codec::serialization::hessian::split_arguments;
use rpc_codec::{Hessian2, Serialization};

#[derive(serde::Serialize, serde::Deserialize)]
#[allow(dead_code)]
struct User {
    name: String,
    age: i32,
    tags: Vec<String>,
    score: f64,
    admin: bool,
    id: i64,
    nickname: Option<String>,
}

fn each<T: serde::de::DeserializeOwned>(data: &[u8])
where
    Hessian2: Serialization<T>,
{
    let _ = <Hessian2 as Serialization<T>>::deserialize(data);
}

fuzz_target!(|data: &[u8]| {
    each::<String>(data);
    each::<i64>(data);
    each::<f64>(data);
    each::<Vec<String>>(data);
    each::<HashMap<String, String>>(data);
    each::<Option<Vec<i32>>>(data);
    each::<User>(data);
    each::<Vec<User>>(data);
    each::<Vec<u8>>(data);
    let arity = data.first().map_or(0, |&b| (b % 8) as usize);
    let _ = split_arguments(data, arity);
});

//! Hessian 2.0, as Apache Dubbo's hessian-lite writes and reads it: Dubbo's default
//! serialization (wire id 2 in dubbo2 headers, `hessian2`/`hessian4` in Triple).
//!
//! Our own codec: the one Rust crate for Hessian (`hessian_rs`) is GPL-3.0 and unmaintained,
//! and the product needs hessian-lite's quirks (the `0x5f` double, CESU-8 strings counted in
//! UTF-16 units) and a decoder that is total on hostile input.
//!
//! How Rust types map to Java's:
//!
//! | Rust | Hessian | Java |
//! |---|---|---|
//! | `bool` | `T`/`F` | `boolean` |
//! | `i8`, `i16`, `i32`, `u8`, `u16` | int | `int` (and `byte`, `short`) |
//! | `i64`, `u32` beyond `i32`, `u64` up to `i64::MAX` | long | `long` |
//! | `f32`, `f64` | double | `double` (and `float`) |
//! | `String`, `&str`, `char` | string | `String` |
//! | `Vec<u8>`, `serde_bytes` | binary | `byte[]` |
//! | `Vec<T>`, slices, sets | untyped list | `ArrayList` |
//! | `HashMap`, `BTreeMap` | untyped map `H` | `HashMap` |
//! | a struct | object of the struct's serde name | the class of that name |
//! | a unit enum variant | object with one field, `name` | a Java `enum` |
//! | `Option<T>` | null or the value | a nullable reference |
//!
//! Name the Java class with serde: `#[serde(rename = "org.apache.dubbo.samples.User")]`.
//! Fields are matched by name in any order, as Java's reader does. A class Rust has no type for
//! reads as a map of its fields.
//!
//! At the top level of a body, a tuple is an argument list: its elements are written one after
//! another, as dubbo writes a call's arguments, and `()` is no value at all (a method without
//! arguments). Everywhere else a tuple is a list and `()` is null.
//!
//! ```
//! # mod rpc { pub mod codec { pub use rpc_codec::*; } }
//! use bytes::BytesMut;
//! use rpc::codec::{Hessian2, Serialization};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! #[serde(rename = "org.apache.dubbo.samples.User")]
//! struct User {
//!     name: String,
//!     age: i32,
//! }
//!
//! let mut body = BytesMut::new();
//! Hessian2::serialize(&User { name: "bob".into(), age: 3 }, &mut body).unwrap();
//! assert_eq!(body[0], b'C'); // the class definition comes first
//! let back: User = Hessian2::deserialize(&body).unwrap();
//! assert_eq!(back, User { name: "bob".into(), age: 3 });
//! ```

mod class_cache;
mod de;
mod ser;
mod string;
mod tag;

use std::borrow::Cow;

use bytes::BytesMut;
use serde::{de::DeserializeOwned, Serialize};

pub(crate) use de::Decoder;
pub(crate) use ser::Encoder;

use super::{decode_error, encode_error, Format, Serialization, SerializationId};
use crate::SerializationError;

/// Hessian 2.0 (hessian-lite's dialect), for Dubbo interop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hessian2;

impl Format for Hessian2 {
    const ID: SerializationId = SerializationId::Hessian2;
}

impl<T: Serialize + DeserializeOwned> Serialization<T> for Hessian2 {
    fn serialize(value: &T, dst: &mut BytesMut) -> Result<(), SerializationError> {
        let mut encoder = Encoder::new(std::mem::take(dst));
        let written = encoder.write_body(value);
        *dst = encoder.into_inner();
        written.map_err(|e| encode_error(Self::ID, std::any::type_name::<T>(), e))
    }

    fn deserialize(src: &[u8]) -> Result<T, SerializationError> {
        Decoder::new(src).read_body().map_err(|e| decode_error(Self::ID, std::any::type_name::<T>(), e))
    }
}

/// One body from arguments that were each encoded as a Hessian stream of their own (Triple's
/// wrapper carries them so): their class definitions and references are renumbered into one
/// stream, as the generated server reads an argument list.
pub fn merge_arguments<A: AsRef<[u8]>>(args: &[A]) -> Result<BytesMut, SerializationError> {
    let mut encoder = Encoder::new(BytesMut::new());
    for (index, arg) in args.iter().enumerate() {
        let mut decoder = Decoder::new(arg.as_ref());
        let merged = encoder.write_value(&serde_transcode::Transcoder::new(&mut decoder));
        let whole = merged.and_then(|()| match decoder.is_at_end() {
            true => Ok(()),
            false => Err(Error::new("bytes after the value")),
        });
        whole.map_err(|e| decode_error(SerializationId::Hessian2, "an argument", format!("argument {index}: {e}")))?;
    }
    Ok(encoder.into_inner())
}

/// The arguments of a body (`arity` Hessian values in one stream), each as a stream of its own,
/// as Triple's wrapper carries them: the inverse of [`merge_arguments`].
pub fn split_arguments(body: &[u8], arity: usize) -> Result<Vec<BytesMut>, SerializationError> {
    let mut decoder = Decoder::new(body);
    let mut args = Vec::with_capacity(arity.min(body.len()));
    for index in 0..arity {
        let mut encoder = Encoder::new(BytesMut::new());
        encoder
            .write_value(&serde_transcode::Transcoder::new(&mut decoder))
            .map_err(|e| encode_error(SerializationId::Hessian2, "an argument", format!("argument {index}: {e}")))?;
        args.push(encoder.into_inner());
    }
    if !decoder.is_at_end() {
        return Err(decode_error(SerializationId::Hessian2, "arguments", format!("more than {arity} arguments")));
    }
    Ok(args)
}

/// Why a value could not be written or read as Hessian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    reason: Cow<'static, str>,
    at: Option<usize>,
}

impl Error {
    pub(crate) fn new(reason: impl Into<Cow<'static, str>>) -> Error {
        Error { reason: reason.into(), at: None }
    }

    pub(crate) fn at(reason: impl Into<Cow<'static, str>>, at: usize) -> Error {
        Error { reason: reason.into(), at: Some(at) }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some(at) => write!(f, "{} (at byte {at})", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for Error {}

impl serde::ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::new(msg.to_string())
    }
}

impl serde::de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::new(msg.to_string())
    }
}

#[cfg(test)]
pub(crate) mod tests;

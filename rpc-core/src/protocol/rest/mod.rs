//! Triple over HTTP/1.1 with JSON (Dubbo 3.3's "triple rest"): `POST /{service}/{method}`
//! with the arguments as JSON answers the result as JSON, so `curl` or a browser can call any
//! service on the same port as the other protocols.
//!
//! The body is a JSON array with one element per argument, or an object keyed by the
//! arguments' names; a method of one argument also takes the bare value (and a one-element
//! array is unwrapped unless the argument is itself a list). `tri-service-version` /
//! `rest-service-version` and `tri-service-group` / `rest-service-group` pick the version and
//! group, `tri-service-timeout` (milliseconds) sets the deadline. An error is a JSON object
//! `{"status", "code", "message"}` with the HTTP status its code maps to.

mod arguments;
pub(crate) mod server;

use super::Detection;

/// The request methods we serve; a request line starts with one and a space.
const METHODS: [&[u8]; 2] = [b"POST ", b"GET "];

/// Whether a connection's first bytes begin an HTTP/1.x request line we serve.
pub(crate) fn detect(prefix: &[u8]) -> Detection {
    let mut more = false;
    for method in METHODS {
        if prefix.starts_with(method) {
            return Detection::Match;
        }
        more |= method.starts_with(prefix);
    }
    if more {
        Detection::NeedMore
    } else {
        Detection::No
    }
}

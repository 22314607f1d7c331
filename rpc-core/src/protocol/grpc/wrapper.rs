//! Triple's wrapper mode: how Java Dubbo calls an interface (non-IDL) service over gRPC.
//! The request message is a `TripleRequestWrapper { serializeType = 1; repeated bytes args =
//! 2; repeated string argTypes = 3 }`, each argument a Hessian stream of its own; the reply a
//! `TripleResponseWrapper { serializeType = 1; bytes data = 2; string type = 3 }` (Dubbo's
//! hand-rolled `TripleCustomerProtocolWrapper`, which we parse as strictly as it does).
//!
//! Java picks the mode by the method's signature: protobuf types are sent raw, anything else
//! wrapped. A provider here does the same by the service's declared serialization: a service
//! declared `protobuf` reads raw messages; for any other, a request that parses as a wrapper
//! whose arguments match the method's is unwrapped.

use bytes::{BufMut, Bytes, BytesMut};

use crate::{Request, Status};

/// The message a Hessian2 call is sent as over Triple, as Java's consumer sends a call of an
/// interface service: its arguments split into a stream each, with their Java class names
/// (from the method's descriptor).
pub(crate) fn wrap_call(request: &Request) -> Result<Bytes, Status> {
    let method = request.method_descriptor().ok_or_else(|| {
        Status::invalid_argument(
            "a Hessian2 call over Triple needs the method's Java types: call through a generated client",
        )
    })?;
    let types = rpc_codec::dubbo::parameter_types(method.java_parameters)
        .filter(|types| types.len() == method.arguments.len())
        .ok_or_else(|| {
            Status::invalid_argument(format!("the Java types of {} do not match its arguments", method.name))
        })?;
    let arg_types: Vec<String> = types.iter().map(|t| rpc_codec::dubbo::class_name(t)).collect();
    let args = rpc_codec::serialization::hessian::split_arguments(&request.body, arg_types.len())
        .map_err(|e| Status::invalid_argument(format!("arguments not split for Triple's wrapper: {e}")))?;
    Ok(encode_request(HESSIAN, &args, &arg_types))
}

/// A parsed `TripleRequestWrapper`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RequestWrapper {
    pub(crate) serialize_type: String,
    pub(crate) args: Vec<Bytes>,
    pub(crate) arg_types: Vec<String>,
}

/// The longest serialization or class name a wrapper is taken to carry. A protobuf message
/// whose field 1 is a long byte string (a 64 KiB payload) reads like a wrapper's
/// `serializeType` at first; taking it for a name copied and UTF-8-checked the whole payload
/// on every call, 2.3 % of the server's samples at 64 KiB.
const MAX_NAME: usize = 1024;

/// The wrapper `message` is, if it is one: only fields 1–3, each length-delimited, as Java's
/// parser insists, its names no longer than [`MAX_NAME`]; anything else is not a wrapper.
pub(crate) fn parse_request(message: &Bytes) -> Option<RequestWrapper> {
    let mut wrapper = RequestWrapper { serialize_type: String::new(), args: Vec::new(), arg_types: Vec::new() };
    let mut seen_type = false;
    for_each_field(message, |key, field| {
        match key {
            0x0a | 0x1a if field.len() > MAX_NAME => return None,
            0x0a if !seen_type => {
                wrapper.serialize_type = String::from_utf8(field.to_vec()).ok()?;
                seen_type = true;
            }
            0x12 => wrapper.args.push(field),
            0x1a => wrapper.arg_types.push(String::from_utf8(field.to_vec()).ok()?),
            _ => return None,
        }
        Some(())
    })?;
    (seen_type && wrapper.args.len() == wrapper.arg_types.len()).then_some(wrapper)
}

/// Calls `each` with every field of a wrapper message (its key byte and payload); `None` if
/// a field is not length-delimited under a one-byte key, runs past the end, or `each` says so.
fn for_each_field(message: &Bytes, mut each: impl FnMut(u8, Bytes) -> Option<()>) -> Option<()> {
    let mut pos = 0;
    while pos < message.len() {
        let key = message[pos];
        pos += 1;
        let (len, used) = varint(message.get(pos..)?)?;
        pos += used;
        let end = pos.checked_add(usize::try_from(len).ok()?).filter(|&end| end <= message.len())?;
        each(key, message.slice(pos..end))?;
        pos = end;
    }
    Some(())
}

/// A `TripleResponseWrapper`: `data` left out when the result is null, `type_name` the
/// method's declared return type as Java names it.
pub(crate) fn encode_response(serialize_type: &str, data: Option<&[u8]>, type_name: &str) -> Bytes {
    let mut out = BytesMut::new();
    field(&mut out, 0x0a, serialize_type.as_bytes());
    if let Some(data) = data {
        field(&mut out, 0x12, data);
    }
    field(&mut out, 0x1a, type_name.as_bytes());
    out.freeze()
}

/// A `TripleRequestWrapper`, as a Java consumer writes one: the type, then every argument,
/// then every argument's Java class name.
pub(crate) fn encode_request<A: AsRef<[u8]>>(serialize_type: &str, args: &[A], arg_types: &[String]) -> Bytes {
    let mut out = BytesMut::new();
    field(&mut out, 0x0a, serialize_type.as_bytes());
    for arg in args {
        field(&mut out, 0x12, arg.as_ref());
    }
    for name in arg_types {
        field(&mut out, 0x1a, name.as_bytes());
    }
    out.freeze()
}

/// A parsed `TripleResponseWrapper`: the result's Hessian value, absent for null.
pub(crate) fn parse_response(message: &Bytes) -> Option<Option<Bytes>> {
    let mut data = None;
    for_each_field(message, |key, field| match key {
        0x12 => {
            data = Some(field);
            Some(())
        }
        0x0a | 0x1a => Some(()),
        _ => None,
    })?;
    Some(data)
}

/// The serializeType a Java consumer writes for Hessian2.
pub(crate) const HESSIAN: &str = "hessian4";

/// Whether a wrapper's `serializeType` is Hessian2: Java writes `hessian4` for it.
pub(crate) fn is_hessian(serialize_type: &str) -> bool {
    matches!(serialize_type, "hessian4" | "hessian2")
}

fn field(out: &mut BytesMut, key: u8, payload: &[u8]) {
    out.put_u8(key);
    let mut len = payload.len() as u64;
    while len >= 0x80 {
        out.put_u8((len as u8) | 0x80);
        len >>= 7;
    }
    out.put_u8(len as u8);
    out.put_slice(payload);
}

fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_java_sends_parses_and_ours_matches_javas() {
        // WIRE §4.5: sayHello("world") and its reply "Hello world", as Java's wrapper writes them.
        let request = Bytes::from_static(b"\x0a\x08hessian4\x12\x06\x05world\x1a\x10java.lang.String");
        let wrapper = parse_request(&request).unwrap();
        assert_eq!(wrapper.serialize_type, "hessian4");
        assert_eq!(wrapper.args, [Bytes::from_static(b"\x05world")]);
        assert_eq!(wrapper.arg_types, ["java.lang.String"]);
        let reply = encode_response("hessian4", Some(b"\x0bHello world"), "java.lang.String");
        assert_eq!(&reply[..], b"\x0a\x08hessian4\x12\x0c\x0bHello world\x1a\x10java.lang.String");
    }

    #[test]
    fn requests_and_replies_round_trip() {
        let request = encode_request(HESSIAN, &[&b"\x05world"[..]], &["java.lang.String".to_string()]);
        assert_eq!(&request[..], b"\x0a\x08hessian4\x12\x06\x05world\x1a\x10java.lang.String");
        let reply = encode_response(HESSIAN, Some(b"\x91"), "int");
        assert_eq!(parse_response(&reply), Some(Some(Bytes::from_static(b"\x91"))));
        assert_eq!(parse_response(&encode_response(HESSIAN, None, "void")), Some(None));
        assert_eq!(parse_response(&Bytes::from_static(b"\x08\x01")), None);
    }

    #[test]
    fn other_messages_are_not_wrappers() {
        // A HelloRequest { name = "x", sleep_ms = 5 }: field 2 is a varint.
        assert_eq!(parse_request(&Bytes::from_static(b"\x0a\x01x\x10\x05")), None);
        // Truncated, or a length past the end.
        assert_eq!(parse_request(&Bytes::from_static(b"\x0a\x08hess")), None);
        assert_eq!(parse_request(&Bytes::from_static(b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")), None);
        // Arguments without their types.
        assert_eq!(parse_request(&Bytes::from_static(b"\x0a\x08hessian4\x12\x01\x91")), None);
        assert_eq!(parse_request(&Bytes::new()), None);
        // A protobuf message with a long text in field 1 (a payload), however valid as UTF-8.
        let mut payload = vec![0x0a, 0x80, 0x10];
        payload.extend_from_slice(&[b'Z'; 2048]);
        assert_eq!(parse_request(&Bytes::from(payload)), None);
    }
}

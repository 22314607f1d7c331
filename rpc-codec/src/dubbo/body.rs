//! dubbo2 bodies with Hessian2 (Dubbo's `DubboCodec`): the request's fields, the response's
//! kind, value and attachments, and exceptions as Java objects.

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use crate::serialization::hessian::{Decoder, Encoder, Error};

/// The dubbo protocol version a Java 3.3 consumer sends, and answers with.
pub const DUBBO_VERSION: &str = "2.0.2";

/// A call, as a dubbo2 request body carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DubboRequest {
    /// The dubbo protocol version (`2.0.2`).
    pub dubbo_version: ByteString,
    /// The service's interface name.
    pub path: ByteString,
    /// The service version; Dubbo reads `0.0.0`, empty and `*` as "none".
    pub version: Option<ByteString>,
    /// The method name.
    pub method: ByteString,
    /// The JVM descriptor of the parameter types, e.g. `Ljava/lang/String;I`.
    pub parameter_types: ByteString,
    /// The arguments: as many Hessian values as the descriptor has types, a Hessian body of
    /// their own (their class definitions and references start with them).
    pub arguments: Bytes,
    /// The attachments with string values (`timeout`, `group`, the caller's own). The
    /// `path`, `interface` and `version` attachments, which repeat the fields above, are left
    /// out when reading and written from the fields (as Java's consumer writes them).
    pub attachments: Vec<(ByteString, ByteString)>,
}

impl DubboRequest {
    /// Reads a request body. Total: a malformed body is an error. Names and attachments share
    /// `body`'s memory where they are ASCII (they usually are), and the arguments are a slice
    /// of it.
    pub fn decode(body: &Bytes) -> Result<DubboRequest, Error> {
        Self::decode_with(body, None)
    }

    /// [`decode`](Self::decode), remembering in `cache` (one per connection) what the body
    /// began and ended with, so the next body with the same head or attachments reads them
    /// without parsing.
    pub fn decode_cached(body: &Bytes, cache: &mut RequestCache) -> Result<DubboRequest, Error> {
        Self::decode_with(body, Some(cache))
    }

    fn decode_with(body: &Bytes, mut cache: Option<&mut RequestCache>) -> Result<DubboRequest, Error> {
        let mut de = Decoder::new(body);
        let head = match cache.as_deref_mut() {
            Some(cache) => cache.head(&mut de, body)?,
            None => RequestHead::read(&mut de, body)?,
        };
        let start = de.position();
        for _ in 0..head.count {
            de.skip_value()?;
        }
        let arguments = body.slice(start..de.position());
        let attachments = match cache {
            _ if de.is_at_end() => Vec::new(),
            Some(cache) => cache.attachments(&mut de, body)?,
            None => read_attachments(&mut de, body, ADDRESSING)?,
        };
        let RequestHead { dubbo_version, path, version, method, parameter_types, .. } = head;
        Ok(DubboRequest { dubbo_version, path, version, method, parameter_types, arguments, attachments })
    }

    /// Appends the body.
    pub fn encode(&self, dst: &mut BytesMut) {
        let version = self.version.as_deref();
        let address =
            [("path", &*self.path), ("interface", &*self.path)].into_iter().chain(version.map(|v| ("version", v)));
        let attachments = address.chain(self.attachments.iter().map(|(k, v)| (&**k, &**v)));
        let call =
            CallParts { path: &self.path, version, method: &self.method, parameter_types: &self.parameter_types };
        encode_call(&self.dubbo_version, call, &self.arguments, attachments, dst);
    }

    /// The value of attachment `key`.
    pub fn attachment(&self, key: &str) -> Option<&str> {
        self.attachments.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }
}

/// The attachments of a response that has none but the protocol version.
const ONLY_VERSION: &[u8] = b"H\x05dubbo\x052.0.2Z";

/// The attachments that repeat a request's own fields: left out when reading.
const ADDRESSING: &[&str] = &["path", "interface", "version"];

/// The fields of a request body before its arguments, and how many arguments follow.
#[derive(Debug, Clone)]
struct RequestHead {
    dubbo_version: ByteString,
    path: ByteString,
    version: Option<ByteString>,
    method: ByteString,
    parameter_types: ByteString,
    count: usize,
}

impl RequestHead {
    fn read(de: &mut Decoder<'_>, body: &Bytes) -> Result<RequestHead, Error> {
        let dubbo_version = de.read_optional_bytestring(body)?.unwrap_or_default();
        let path = de.read_optional_bytestring(body)?.unwrap_or_default();
        let version = de.read_optional_bytestring(body)?;
        let method = de.read_optional_bytestring(body)?.unwrap_or_default();
        let parameter_types = de.read_optional_bytestring(body)?.unwrap_or_default();
        let count = super::parameter_count(&parameter_types)
            .ok_or_else(|| Error::new(format!("malformed parameter types {:?}", &*parameter_types)))?;
        Ok(RequestHead { dubbo_version, path, version, method, parameter_types, count })
    }

    /// The same head in memory of its own, so keeping it does not keep a read buffer.
    fn to_owned(&self) -> RequestHead {
        RequestHead {
            dubbo_version: owned(&self.dubbo_version),
            path: owned(&self.path),
            version: self.version.as_ref().map(owned),
            method: owned(&self.method),
            parameter_types: owned(&self.parameter_types),
            count: self.count,
        }
    }
}

fn owned(s: &ByteString) -> ByteString {
    ByteString::from(&**s)
}

/// What a connection's last request began and ended with. A consumer sends the same head
/// (protocol version, service, version, method, parameter types) with every call of a method,
/// and usually the same attachments; bytes that begin or end a body the same way read the
/// same way (a Hessian string carries its own length and defines no reference), so they are
/// compared instead of parsed. It holds copies, never a read buffer.
#[derive(Debug, Default)]
pub struct RequestCache {
    head_bytes: Vec<u8>,
    head: Option<RequestHead>,
    tail_bytes: Vec<u8>,
    tail: Vec<(ByteString, ByteString)>,
}

/// Longest head or attachments kept: a longer one is read every time.
const CACHED_MAX: usize = 1024;

impl RequestCache {
    fn head(&mut self, de: &mut Decoder<'_>, body: &Bytes) -> Result<RequestHead, Error> {
        if let Some(head) = &self.head {
            if body.starts_with(&self.head_bytes) {
                de.pass(self.head_bytes.len());
                return Ok(head.clone());
            }
        }
        let head = RequestHead::read(de, body)?;
        let end = de.position();
        if end <= CACHED_MAX {
            self.head_bytes.clear();
            self.head_bytes.extend_from_slice(&body[..end]);
            self.head = Some(head.to_owned());
        }
        Ok(head)
    }

    fn attachments(&mut self, de: &mut Decoder<'_>, body: &Bytes) -> Result<Vec<(ByteString, ByteString)>, Error> {
        let start = de.position();
        if !self.tail_bytes.is_empty() && body[start..] == self.tail_bytes[..] {
            de.pass(body.len() - start);
            return Ok(self.tail.clone());
        }
        let attachments = read_attachments(de, body, ADDRESSING)?;
        if de.is_at_end() && body.len() - start <= CACHED_MAX {
            self.tail_bytes.clear();
            self.tail_bytes.extend_from_slice(&body[start..]);
            self.tail = attachments.iter().map(|(k, v)| (owned(k), owned(v))).collect();
        }
        Ok(attachments)
    }
}

/// What a call names: the fields of a request body before its arguments.
#[derive(Debug, Clone, Copy)]
pub struct CallParts<'a> {
    /// The service's interface name.
    pub path: &'a str,
    /// The service version (`None` writes null).
    pub version: Option<&'a str>,
    /// The method name.
    pub method: &'a str,
    /// The JVM descriptor of the parameter types.
    pub parameter_types: &'a str,
}

/// Appends a request body from its parts without building a [`DubboRequest`] (a consumer's
/// per-call path).
pub fn encode_call<'a>(
    dubbo_version: &str,
    call: CallParts<'_>,
    arguments: &[u8],
    attachments: impl IntoIterator<Item = (&'a str, &'a str)>,
    dst: &mut BytesMut,
) {
    // Room for the names, the arguments and a few attachments: the buffer is written once.
    dst.reserve(
        arguments.len()
            + dubbo_version.len()
            + call.path.len() * 3
            + call.method.len()
            + call.parameter_types.len()
            + 96,
    );
    let mut enc = Encoder::new(std::mem::take(dst));
    write_head(&mut enc, dubbo_version, call);
    enc.write_raw(arguments);
    write_map(&mut enc, attachments);
    *dst = enc.into_inner();
}

fn write_head(enc: &mut Encoder, dubbo_version: &str, call: CallParts<'_>) {
    enc.write_string(dubbo_version);
    enc.write_string(call.path);
    match call.version {
        Some(version) => enc.write_string(version),
        None => enc.write_null(),
    }
    enc.write_string(call.method);
    enc.write_string(call.parameter_types);
}

/// A call's head and first attachments, encoded once: a consumer calls a method many times
/// with the same ones, so its per-call body is then these bytes, the arguments and the call's
/// own attachments (what [`encode_call`] writes, byte for byte), in parts.
#[derive(Debug, Clone)]
pub struct CallTemplate {
    head: Bytes,
    /// The attachments map's opening and its fixed entries.
    fixed: Bytes,
    /// The same, and the map's end: the attachments of a call that adds none.
    closed: Bytes,
}

impl CallTemplate {
    /// The template of calls to `call` whose attachments begin with `fixed`.
    pub fn new<'a>(
        dubbo_version: &str,
        call: CallParts<'_>,
        fixed: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> CallTemplate {
        let mut enc = Encoder::new(BytesMut::new());
        write_head(&mut enc, dubbo_version, call);
        let head = enc.into_inner().freeze();
        let mut enc = Encoder::new(BytesMut::new());
        enc.begin_map();
        write_entries(&mut enc, fixed);
        let fixed = enc.into_inner().freeze();
        let mut closed = BytesMut::from(&fixed[..]);
        closed.extend_from_slice(b"Z");
        CallTemplate { head, fixed, closed: closed.freeze() }
    }

    /// The body as parts (for [`super::DubboFrame::from_parts`]): the head, `arguments`
    /// as they are, and the attachments, the fixed ones first.
    pub fn parts<'a>(&self, arguments: Bytes, attachments: impl IntoIterator<Item = (&'a str, &'a str)>) -> [Bytes; 3] {
        let mut attachments = attachments.into_iter().peekable();
        let tail = if attachments.peek().is_none() {
            self.closed.clone()
        } else {
            let mut tail = BytesMut::with_capacity(self.fixed.len() + 64);
            tail.extend_from_slice(&self.fixed);
            let mut enc = Encoder::new(tail);
            write_entries(&mut enc, attachments);
            enc.end();
            enc.into_inner().freeze()
        };
        [self.head.clone(), arguments, tail]
    }
}

/// A Java exception, as much of it as travels into a [`crate::Attachments`]-level error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaException {
    /// Its class, e.g. `java.lang.IllegalStateException`.
    pub class: String,
    /// Its `detailMessage`.
    pub message: Option<String>,
}

/// What a call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DubboResult {
    /// A value: one Hessian value, a body of its own.
    Value(Bytes),
    /// Null (or void).
    Null,
    /// The method threw.
    Exception(JavaException),
}

/// A dubbo2 response body (status OK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DubboResponse {
    /// The result.
    pub result: DubboResult,
    /// Attachments, when the kind carries them (dubbo 2.0.2 and later).
    pub attachments: Vec<(ByteString, ByteString)>,
}

// The response kinds (`DubboCodec.RESPONSE_*`).
const WITH_EXCEPTION: i32 = 0;
const VALUE: i32 = 1;
const NULL_VALUE: i32 = 2;
const WITH_ATTACHMENTS: i32 = 3;

/// The exception class we send for a failed call.
pub const EXCEPTION_CLASS: &str = "java.lang.RuntimeException";

/// Whether a caller that sent `dubbo_version` reads response attachments: Dubbo sends the
/// kinds with attachments to 2.0.2 ..= 2.0.99 only (`Version.isSupportResponseAttachment`).
pub fn supports_response_attachments(dubbo_version: &str) -> bool {
    // What every Dubbo 2.7 and 3 consumer sends.
    if dubbo_version == DUBBO_VERSION {
        return true;
    }
    let mut parts = dubbo_version.split('.').map(|p| p.parse::<u32>());
    matches!((parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(Ok(2)), Some(Ok(0)), Some(Ok(patch)), None) if (2..=99).contains(&patch))
}

impl DubboResponse {
    /// Appends the body; `attachments` says whether the caller reads them (see
    /// [`supports_response_attachments`]).
    pub fn encode(&self, with_attachments: bool, dst: &mut BytesMut) {
        let value = match &self.result {
            DubboResult::Value(value) => value.len(),
            _ => 64,
        };
        dst.reserve(value + 32 + self.attachments.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>());
        let mut enc = Encoder::new(std::mem::take(dst));
        let extra = if with_attachments { WITH_ATTACHMENTS } else { 0 };
        match &self.result {
            DubboResult::Value(value) => {
                enc.write_int(VALUE + extra);
                enc.write_raw(value);
            }
            DubboResult::Null => enc.write_int(NULL_VALUE + extra),
            DubboResult::Exception(exception) => {
                enc.write_int(WITH_EXCEPTION + extra);
                write_exception(&mut enc, exception.message.as_deref().unwrap_or_default());
            }
        }
        if with_attachments {
            let ours = self.attachments.iter().map(|(k, v)| (&**k, &**v));
            let version = (!self.attachments.iter().any(|(k, _)| k == "dubbo")).then_some(("dubbo", DUBBO_VERSION));
            write_map(&mut enc, ours.chain(version));
        }
        *dst = enc.into_inner();
    }

    /// A value's response body as parts (for [`super::DubboFrame::from_parts`]): its kind,
    /// the value as encoded, and the attachments if the caller reads them (`attachments`,
    /// then the `dubbo` version). Writes what [`encode`](Self::encode) writes for a value.
    pub fn value_parts(value: Bytes, with_attachments: bool, attachments: &[(ByteString, ByteString)]) -> [Bytes; 3] {
        /// The kinds as Hessian's one-byte ints, and the attachments of a response that has none
        /// of its own.
        const VALUE_KIND: &[u8] = &[0x90 + VALUE as u8];
        const VALUE_WITH_ATTACHMENTS_KIND: &[u8] = &[0x90 + (VALUE + WITH_ATTACHMENTS) as u8];
        if !with_attachments {
            return [Bytes::from_static(VALUE_KIND), value, Bytes::new()];
        }
        let tail = if attachments.is_empty() {
            Bytes::from_static(ONLY_VERSION)
        } else {
            let mut enc = Encoder::new(BytesMut::with_capacity(64));
            let ours = attachments.iter().map(|(k, v)| (&**k, &**v));
            let version = (!attachments.iter().any(|(k, _)| k == "dubbo")).then_some(("dubbo", DUBBO_VERSION));
            write_map(&mut enc, ours.chain(version));
            enc.into_inner().freeze()
        };
        [Bytes::from_static(VALUE_WITH_ATTACHMENTS_KIND), value, tail]
    }

    /// Reads a response body. Total: a malformed body is an error.
    pub fn decode(body: &Bytes) -> Result<DubboResponse, Error> {
        let mut de = Decoder::new(body);
        let kind = de.read_i32()?;
        let result = match kind % WITH_ATTACHMENTS {
            _ if !(0..=5).contains(&kind) => {
                return Err(Error::new(format!(
                    "Unknown result flag, expect '0' '1' '2' '3' '4' '5', but received: {kind}"
                )));
            }
            VALUE => {
                let start = de.position();
                de.skip_value()?;
                DubboResult::Value(body.slice(start..de.position()))
            }
            NULL_VALUE => DubboResult::Null,
            _ => DubboResult::Exception(read_exception(&mut de)?),
        };
        let attachments = if kind < WITH_ATTACHMENTS {
            Vec::new()
        } else if body[de.position()..] == *ONLY_VERSION {
            // What every reply of ours (and of Java's, without attachments) ends with.
            vec![(ByteString::from_static("dubbo"), ByteString::from_static(DUBBO_VERSION))]
        } else {
            read_attachments(&mut de, body, &[])?
        };
        Ok(DubboResponse { result, attachments })
    }
}

/// A `java.lang.RuntimeException` with `message`, encoded on its own, as Triple's wrapper
/// carries a business exception.
pub fn encode_exception(message: &str, dst: &mut BytesMut) {
    let mut enc = Encoder::new(std::mem::take(dst));
    write_exception(&mut enc, message);
    *dst = enc.into_inner();
}

/// A Java exception encoded on its own (Triple's wrapper carries one so).
pub fn decode_exception(bytes: &[u8]) -> Result<JavaException, Error> {
    let mut de = Decoder::new(bytes);
    read_exception(&mut de)
}

fn read_exception(de: &mut Decoder<'_>) -> Result<JavaException, Error> {
    let class = de.peek_class()?.map(|c| c.name.to_string()).unwrap_or_else(|| "java.lang.Throwable".into());
    let message = de.read_value::<ThrowableMessage>()?.detail_message;
    Ok(JavaException { class, message })
}

/// A status other than OK: the body is the error message as a Hessian string.
pub fn encode_error_message(message: &str, dst: &mut BytesMut) {
    let mut enc = Encoder::new(std::mem::take(dst));
    enc.write_string(message);
    *dst = enc.into_inner();
}

/// The message of an error response (any status but OK).
pub fn decode_error_message(body: &[u8]) -> Result<String, Error> {
    Decoder::new(body).read_optional_string().map(Option::unwrap_or_default)
}

/// An event body: null for a heartbeat, else a short string (`"R"`: the provider is going
/// read-only, `"W"`: writeable again).
pub fn encode_event(event: Option<&str>, dst: &mut BytesMut) {
    let mut enc = Encoder::new(std::mem::take(dst));
    match event {
        Some(text) => enc.write_string(text),
        None => enc.write_null(),
    }
    *dst = enc.into_inner();
}

/// A Java `RuntimeException` with `message`, no stack and no cause, the fields Java's
/// readers (and dubbo clients in other languages) look for.
fn write_exception(enc: &mut Encoder, message: &str) {
    const FIELDS: &[&str] = &["detailMessage", "stackTrace", "cause"];
    enc.begin_object(EXCEPTION_CLASS, FIELDS);
    enc.write_string(message);
    enc.write_empty_typed_list("[java.lang.StackTraceElement");
    enc.write_null();
}

fn write_map<'a>(enc: &mut Encoder, entries: impl IntoIterator<Item = (&'a str, &'a str)>) {
    enc.begin_map();
    write_entries(enc, entries);
    enc.end();
}

fn write_entries<'a>(enc: &mut Encoder, entries: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (key, value) in entries {
        enc.write_string(key);
        enc.write_string(value);
    }
}

/// The attachments map: string keys and values kept (sharing `body` where ASCII), entries
/// with other values (null, numbers, objects) and the keys in `leave_out` skipped. Null for
/// no map.
fn read_attachments(
    de: &mut Decoder<'_>,
    body: &Bytes,
    leave_out: &[&str],
) -> Result<Vec<(ByteString, ByteString)>, Error> {
    let mut entries = Vec::new();
    if de.take_null() {
        return Ok(entries);
    }
    de.begin_map()?;
    while !de.take_end() {
        let key = de.read_string_or_skip(body)?;
        if key.as_deref().is_some_and(|k| leave_out.contains(&k)) {
            de.skip_value()?;
            continue;
        }
        let value = de.read_string_or_skip(body)?;
        if let (Some(key), Some(value)) = (key, value) {
            entries.push((key, value));
        }
    }
    de.end_map();
    Ok(entries)
}

#[derive(serde::Deserialize)]
struct ThrowableMessage {
    #[serde(rename = "detailMessage")]
    detail_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(parts: &[&[u8]]) -> Bytes {
        Bytes::from(parts.concat())
    }

    #[test]
    fn the_request_java_writes_reads() {
        // WIRE §2.5: DemoService.sayHello("world") from hessian-lite 4.0.3.
        let body = text(&[
            b"\x05",
            b"2.0.2",
            b"\x30\x21",
            b"org.apache.dubbo.demo.DemoService",
            b"\x05",
            b"0.0.0",
            b"\x08",
            b"sayHello",
            b"\x12",
            b"Ljava/lang/String;",
            b"\x05",
            b"world",
            b"\x48\x04",
            b"path",
            b"\x30\x21",
            b"org.apache.dubbo.demo.DemoService",
            b"\x07",
            b"timeout",
            b"\x04",
            b"3000",
            b"\x5a",
        ]);
        let request = DubboRequest::decode(&body).unwrap();
        assert_eq!(request.path, "org.apache.dubbo.demo.DemoService");
        assert_eq!(request.version.as_deref(), Some("0.0.0"));
        assert_eq!((&*request.method, &*request.parameter_types), ("sayHello", "Ljava/lang/String;"));
        assert_eq!(&request.arguments[..], b"\x05world");
        assert_eq!(request.attachment("timeout"), Some("3000"));
        assert_eq!(request.attachment("path"), None, "the path is the body's own field");
        let mut again = BytesMut::new();
        request.encode(&mut again);
        let again = again.freeze();
        assert_eq!(DubboRequest::decode(&again).unwrap(), request);
        // What we write starts as Java's does; the attachments add `interface` and `version`.
        assert_eq!(again[..body.len() - 55], body[..body.len() - 55]);
    }

    #[test]
    fn a_call_template_writes_what_encode_call_writes() {
        let call = CallParts {
            path: "demo.Greeter",
            version: Some("1.0.0"),
            method: "sayHi",
            parameter_types: "Ljava/lang/String;",
        };
        let fixed = [("path", "demo.Greeter"), ("interface", "demo.Greeter")];
        let template = CallTemplate::new(DUBBO_VERSION, call, fixed);
        for extra in [&[][..], &[("timeout", "250"), ("trace", "t-1")][..]] {
            let mut expected = BytesMut::new();
            encode_call(DUBBO_VERSION, call, b"\x02hi", fixed.into_iter().chain(extra.iter().copied()), &mut expected);
            let ours = template.parts(Bytes::from_static(b"\x02hi"), extra.iter().copied()).concat();
            assert_eq!(ours, expected.to_vec());
        }
    }

    #[test]
    fn response_parts_write_what_encode_writes() {
        let value = Bytes::from_static(b"\x05hello");
        for attachments in [vec![], vec![("trace".into(), "t".into())]] {
            for with_attachments in [false, true] {
                let response =
                    DubboResponse { result: DubboResult::Value(value.clone()), attachments: attachments.clone() };
                let mut whole = BytesMut::new();
                response.encode(with_attachments, &mut whole);
                let parts = DubboResponse::value_parts(value.clone(), with_attachments, &attachments);
                assert_eq!(parts.concat(), whole.to_vec(), "{attachments:?} {with_attachments}");
            }
        }
    }

    #[test]
    fn a_connections_cache_reads_every_body_as_a_fresh_decode_does() {
        let request = |method: &str, argument: &str, timeout: &str| {
            let mut body = BytesMut::new();
            DubboRequest {
                dubbo_version: DUBBO_VERSION.into(),
                path: "demo.Greeter".into(),
                version: Some("1.0.0".into()),
                method: method.into(),
                parameter_types: "Ljava/lang/String;".into(),
                // A short ASCII string: its length, then its bytes.
                arguments: text(&[&[argument.len() as u8], argument.as_bytes()]),
                attachments: vec![("timeout".into(), timeout.into())],
            }
            .encode(&mut body);
            body.freeze()
        };
        let mut cache = RequestCache::default();
        let bodies = [
            request("sayHi", "a", "3000"),
            request("sayHi", "bb", "3000"), // the same head and attachments
            request("sayHi", "c", "200"),   // other attachments
            request("sayBye", "c", "200"),  // another head
            request("sayHi", "a", "3000"),
        ];
        for body in &bodies {
            assert_eq!(DubboRequest::decode_cached(body, &mut cache).unwrap(), DubboRequest::decode(body).unwrap());
        }
        // A body that starts as the cached head but is cut short is still an error.
        let cut = bodies[0].slice(..bodies[0].len() - 12);
        assert_eq!(DubboRequest::decode_cached(&cut, &mut cache).is_err(), DubboRequest::decode(&cut).is_err());
        assert!(DubboRequest::decode_cached(&bodies[0].slice(..40), &mut cache).is_err());
    }

    #[test]
    fn the_response_java_writes_reads_and_we_write_it_the_same() {
        // RESPONSE_VALUE_WITH_ATTACHMENTS "Hello world".
        let body = text(&[b"\x94\x0b", b"Hello world", b"\x48\x05", b"dubbo", b"\x05", b"2.0.2", b"\x5a"]);
        let response = DubboResponse::decode(&body).unwrap();
        assert_eq!(response.result, DubboResult::Value(Bytes::from_static(b"\x0bHello world")));
        assert_eq!(response.attachments, [("dubbo".into(), "2.0.2".into())]);
        let mut ours = BytesMut::new();
        DubboResponse { result: response.result.clone(), attachments: vec![] }.encode(true, &mut ours);
        assert_eq!(ours.freeze(), body);
    }

    #[test]
    fn exceptions_round_trip_and_javas_read() {
        let exception = JavaException { class: EXCEPTION_CLASS.into(), message: Some("boom".into()) };
        let mut body = BytesMut::new();
        DubboResponse { result: DubboResult::Exception(exception.clone()), attachments: vec![] }
            .encode(false, &mut body);
        assert_eq!(DubboResponse::decode(&body.freeze()).unwrap().result, DubboResult::Exception(exception.clone()));
        let mut alone = BytesMut::new();
        encode_exception("boom", &mut alone);
        assert_eq!(decode_exception(&alone).unwrap(), exception);
        // Java's own RuntimeException("boom"), whose cause refers to itself, after kind 0.
        let mut java = vec![0x90];
        java.extend_from_slice(&crate::serialization::hessian::tests::java_runtime_exception());
        let read = DubboResponse::decode(&Bytes::from(java)).unwrap();
        assert_eq!(
            read.result,
            DubboResult::Exception(JavaException { class: EXCEPTION_CLASS.into(), message: Some("boom".into()) })
        );
    }

    #[test]
    fn only_dubbo_2_0_2_to_2_0_99_reads_response_attachments() {
        assert!(supports_response_attachments("2.0.2"));
        assert!(supports_response_attachments("2.0.99"));
        assert!(!supports_response_attachments("2.4.10"));
        assert!(!supports_response_attachments("2.0.1"));
        assert!(!supports_response_attachments("3.3.1"));
        assert!(!supports_response_attachments(""));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(DubboRequest::decode(&Bytes::from_static(b"\x05")).is_err());
        let bad_desc = text(&[b"\x052.0.2\x01a\x4e\x01m\x01Q"]);
        assert!(DubboRequest::decode(&bad_desc).unwrap_err().to_string().contains("parameter types"));
        // Two parameters declared, one sent.
        let short = text(&[b"\x052.0.2\x01a\x4e\x01m\x02II\x91"]);
        assert!(DubboRequest::decode(&short).is_err());
        assert!(DubboResponse::decode(&Bytes::from_static(b"\x97")).is_err());
    }
}

//! How a call's parts travel as HTTP/2 headers: content type ↔ serialization, `grpc-timeout`
//! ↔ deadline, custom metadata ↔ attachments, `grpc-status`/`grpc-message` ↔ [`Status`].

use std::time::Duration;

use base64::Engine;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use rpc_codec::{Attachments, SerializationId};

use crate::{Code, Status};

pub(crate) const GRPC_STATUS: &str = "grpc-status";
pub(crate) const GRPC_MESSAGE: &str = "grpc-message";
pub(crate) const GRPC_TIMEOUT: &str = "grpc-timeout";
/// Dubbo 3 Triple's names for version and group.
pub(crate) const SERVICE_VERSION: &str = "tri-service-version";
pub(crate) const SERVICE_GROUP: &str = "tri-service-group";
/// Dubbo 3 Triple's name for the calling application.
pub(crate) const CONSUMER_APPNAME: &str = "tri-consumer-appname";
/// Marks a reply whose message is a business exception (Java's `RpcException.BIZ_EXCEPTION`,
/// 3), in the first HEADERS frame, as Java's Triple provider sends one.
pub(crate) const EXCEPTION_CODE: &str = "tri-exception-code";
pub(crate) const BIZ_EXCEPTION: &str = "3";
/// Our own code of a status sent as a business exception, so an `rpc` consumer gets the
/// status back exactly (Java ignores it).
pub(crate) const RPC_STATUS: &str = "rpc-status";

/// What a request's content type asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ContentType {
    /// `application/grpc` (protobuf), `application/grpc+{proto,json,msgpack,hessian2}`, or
    /// Python Dubbo's `application/grpc+data` (the caller's own bytes, protobuf in Triple's IDL mode).
    Grpc(SerializationId),
    /// `application/grpc+x` with a subtype we cannot map to a serialization.
    UnknownSubtype(String),
    /// Not gRPC at all: answered with HTTP 415.
    NotGrpc,
}

pub(crate) fn content_type(headers: &HeaderMap) -> ContentType {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return ContentType::NotGrpc;
    };
    let Some(rest) = value.strip_prefix("application/grpc") else {
        return ContentType::NotGrpc;
    };
    // Parameters (`; charset=…`) do not change the codec.
    let subtype = rest.split(';').next().unwrap_or_default().trim();
    match subtype {
        "" | "+proto" | "+data" => ContentType::Grpc(SerializationId::Protobuf),
        "+hessian2" => ContentType::Grpc(SerializationId::Hessian2),
        "+json" => ContentType::Grpc(SerializationId::Json),
        "+msgpack" => ContentType::Grpc(SerializationId::MsgPack),
        other => match other.strip_prefix('+') {
            Some(name) => ContentType::UnknownSubtype(name.to_string()),
            None => ContentType::NotGrpc,
        },
    }
}

/// The content type that announces `serialization`.
pub(crate) fn content_type_value(serialization: SerializationId) -> HeaderValue {
    HeaderValue::from_static(match serialization {
        SerializationId::Protobuf => "application/grpc",
        SerializationId::Json => "application/grpc+json",
        SerializationId::MsgPack => "application/grpc+msgpack",
        SerializationId::Hessian2 => "application/grpc+hessian2",
    })
}

/// A `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n).
pub(crate) fn parse_timeout(value: &str) -> Option<Duration> {
    // The unit is one ASCII byte; a value ending in a wider character is no timeout (and
    // must not be split inside it: the fuzzer found that panic).
    if !value.as_bytes().last()?.is_ascii() {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// `timeout` as a `grpc-timeout` value, in the finest unit that fits 8 digits.
pub(crate) fn format_timeout(timeout: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let candidates = [
        (timeout.as_nanos(), "n"),
        (timeout.as_micros(), "u"),
        (timeout.as_millis(), "m"),
        (u128::from(timeout.as_secs()), "S"),
        (u128::from(timeout.as_secs() / 60), "M"),
    ];
    for (value, unit) in candidates {
        if value <= MAX {
            return format!("{value}{unit}");
        }
    }
    format!("{}H", (timeout.as_secs() / 3600).min(MAX as u64))
}

/// Headers that are part of the protocol, not the caller's metadata.
/// Headers that are the protocol's own (gRPC's, Triple's, HTTP's), not a caller's metadata.
fn is_reserved(name: &str) -> bool {
    name.starts_with("grpc-")
        || name.starts_with("tri-")
        || name.starts_with("rest-")
        || matches!(
            name,
            "content-type"
                | "te"
                | "user-agent"
                | "host"
                | "content-length"
                | "accept"
                | "accept-encoding"
                | "connection"
                | "keep-alive"
                | "transfer-encoding"
                | "expect"
        )
}

/// The caller's custom metadata as attachments; `-bin` values are base64 (padded or not)
/// and must decode to UTF-8, the only kind of value an attachment holds.
pub(crate) fn attachments_from(headers: &HeaderMap) -> Result<Attachments, Status> {
    let mut attachments = Attachments::new();
    for (name, value) in headers {
        let name = name.as_str();
        if is_reserved(name) {
            continue;
        }
        let text = if name.ends_with("-bin") {
            let raw = value.as_bytes();
            let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(raw.strip_suffix(b"==").or_else(|| raw.strip_suffix(b"=")).unwrap_or(raw))
                .map_err(|e| Status::invalid_argument(format!("metadata {name}: not base64: {e}")))?;
            String::from_utf8(decoded)
                .map_err(|_| Status::invalid_argument(format!("metadata {name}: binary values must be UTF-8 here")))?
        } else {
            value
                .to_str()
                .map_err(|_| Status::invalid_argument(format!("metadata {name}: not printable ASCII")))?
                .to_string()
        };
        attachments.insert(name.to_string(), text);
    }
    Ok(attachments)
}

/// Writes attachments as metadata. Keys become lower case (HTTP/2 requires it); values that
/// are not printable ASCII go under a `-bin` key, base64-encoded. Names HTTP cannot carry are
/// skipped with a debug log.
pub(crate) fn put_attachments(headers: &mut HeaderMap, attachments: &Attachments) {
    for (key, value) in attachments.iter() {
        let key = key.to_ascii_lowercase();
        if is_reserved(&key) {
            continue;
        }
        // gRPC's ASCII values are printable ASCII; anything else travels base64 under `-bin`.
        let printable = value.bytes().all(|b| (0x20..0x7f).contains(&b));
        let binary = key.ends_with("-bin") || !printable;
        let (name, value) = if binary {
            let name = if key.ends_with("-bin") { key } else { format!("{key}-bin") };
            (name, HeaderValue::from_str(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(value)))
        } else {
            (key, HeaderValue::from_str(value))
        };
        match (HeaderName::from_bytes(name.as_bytes()), value) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => tracing::debug!(key = %name, "attachment not representable as HTTP/2 metadata; not sent"),
        }
    }
}

/// Characters `grpc-message` percent-encodes: anything outside printable ASCII, and `%`.
const MESSAGE_ESCAPES: &AsciiSet = &CONTROLS.add(b'%');

/// `grpc-status` and `grpc-message` for `status` (an error: code 0 is sent as UNKNOWN).
pub(crate) fn put_status(headers: &mut HeaderMap, status: &Status) {
    let code = if status.code() == Code::Ok { Code::Unknown } else { status.code() };
    headers.insert(GRPC_STATUS, HeaderValue::from(u16::from(code as u8)));
    let message = utf8_percent_encode(status.message(), MESSAGE_ESCAPES).to_string();
    if let Ok(value) = HeaderValue::from_str(&message) {
        headers.insert(GRPC_MESSAGE, value);
    }
}

/// The status in `grpc-status`/`grpc-message`, if `headers` carry one; `Ok(())` for code 0.
pub(crate) fn status_from(headers: &HeaderMap) -> Option<Result<(), Status>> {
    let code = headers.get(GRPC_STATUS)?;
    let code = code.to_str().ok().and_then(|c| c.parse::<u8>().ok()).map_or(Code::Unknown, Code::from_u8);
    if code == Code::Ok {
        return Some(Ok(()));
    }
    let message = headers
        .get(GRPC_MESSAGE)
        .and_then(|m| m.to_str().ok())
        .map(|m| percent_decode_str(m).decode_utf8_lossy().into_owned())
        .unwrap_or_default();
    Some(Err(Status::new(code, message)))
}

/// The status for an HTTP response that carries no `grpc-status` (gRPC's HTTP-to-gRPC
/// mapping), e.g. a proxy's error page.
pub(crate) fn status_from_http(status: http::StatusCode) -> Status {
    let code = match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    };
    Status::new(code, format!("HTTP status {status} without a gRPC status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_map_to_serializations() {
        let of = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            content_type(&headers)
        };
        assert_eq!(of("application/grpc"), ContentType::Grpc(SerializationId::Protobuf));
        assert_eq!(of("application/grpc+proto"), ContentType::Grpc(SerializationId::Protobuf));
        assert_eq!(of("application/grpc+json; charset=utf-8"), ContentType::Grpc(SerializationId::Json));
        assert_eq!(of("application/grpc+msgpack"), ContentType::Grpc(SerializationId::MsgPack));
        // Python Dubbo (apache-dubbo 3.0.0b1) sends its own bytes as `+data`.
        assert_eq!(of("application/grpc+data"), ContentType::Grpc(SerializationId::Protobuf));
        assert_eq!(of("application/grpc+hessian2"), ContentType::Grpc(SerializationId::Hessian2));
        assert_eq!(of("application/grpc+thrift"), ContentType::UnknownSubtype("thrift".into()));
        assert_eq!(of("application/json"), ContentType::NotGrpc);
        assert_eq!(content_type(&HeaderMap::new()), ContentType::NotGrpc);
    }

    #[test]
    fn timeouts_parse_and_format() {
        assert_eq!(parse_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_timeout("99999999n"), Some(Duration::from_nanos(99_999_999)));
        // The last two: a value ending in a multi-byte character (found by fuzzing: it
        // panicked when split inside the character).
        for bad in ["", "m", "123456789m", "1x", "-1S", "1.5S", "S1", "1ڹ", "S\0\0\0\0`ڹ"] {
            assert_eq!(parse_timeout(bad), None, "{bad}");
        }
        // The finest unit that fits gRPC's eight digits: exact where one does.
        for (timeout, wire) in [
            (Duration::from_nanos(5), "5n"),
            (Duration::from_millis(250), "250000u"),
            (Duration::from_secs(2), "2000000u"),
            (Duration::from_secs(86_400), "86400000m"),
            (Duration::from_secs(86_400 * 400), "34560000S"),
        ] {
            assert_eq!(format_timeout(timeout), wire);
            assert_eq!(parse_timeout(wire), Some(timeout), "{wire}");
        }
        // Truncated, never rounded up, where no unit is exact (over 99,999,999 s).
        let odd = Duration::from_secs(100_000_030);
        assert_eq!(format_timeout(odd), "1666667M");
        assert_eq!(parse_timeout("1666667M"), Some(Duration::from_secs(100_000_020)));
    }

    #[test]
    fn attachments_travel_as_metadata() {
        let attachments: Attachments =
            [("tenant", "acme"), ("Trace-Id", "abc"), ("note", "grüße"), ("grpc-status", "0")].into_iter().collect();
        let mut headers = HeaderMap::new();
        put_attachments(&mut headers, &attachments);
        assert!(!headers.contains_key("grpc-status"));
        assert!(headers.contains_key("note-bin"));
        let back = attachments_from(&headers).unwrap();
        assert_eq!(back.get("tenant"), Some("acme"));
        assert_eq!(back.get("trace-id"), Some("abc"));
        assert_eq!(back.get("note-bin"), Some("grüße"));
        headers.insert("bad-bin", HeaderValue::from_static("!!!"));
        assert_eq!(attachments_from(&headers).unwrap_err().code(), Code::InvalidArgument);
    }

    #[test]
    fn statuses_round_trip_through_trailers() {
        let status = Status::not_found("no service a.B (100% sure)\nreally");
        let mut headers = HeaderMap::new();
        put_status(&mut headers, &status);
        assert_eq!(status_from(&headers), Some(Err(status)));
        headers.insert(GRPC_STATUS, HeaderValue::from_static("0"));
        assert_eq!(status_from(&headers), Some(Ok(())));
        headers.insert(GRPC_STATUS, HeaderValue::from_static("x"));
        assert_eq!(status_from(&headers).unwrap().unwrap_err().code(), Code::Unknown);
        assert_eq!(status_from(&HeaderMap::new()), None);
    }
}

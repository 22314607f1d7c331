//! How a dubbo2 call maps to ours, both ways: a request body ↔ a [`Request`], a result ↔ a
//! response body or an error status, with Dubbo's status codes and error strings.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use rpc_codec::dubbo::{
    self, status, DubboFrame, DubboHeader, DubboRequest, DubboResponse, DubboResult, JavaException, FLAG_EVENT,
    HESSIAN2_SERIALIZATION,
};
use rpc_codec::serialization::transcode_value;
use rpc_codec::{Metadata, SerializationId};

use crate::{Code, Request, Response, Status};

/// Attachment on an exception reply naming our status code, so an `rpc` consumer gets the
/// code back (Java's consumers see a `RuntimeException` with the message).
pub(crate) const STATUS_ATTACHMENT: &str = "rpc.status";

/// A service version as Dubbo means it: `0.0.0`, empty, `*` and none all mean "no version".
pub(crate) fn version_of(version: Option<&str>) -> &str {
    match version {
        None | Some("" | "0.0.0" | "*") => "",
        Some(version) => version,
    }
}

/// Our request for a dubbo call: Hessian2 arguments, the `group` attachment as its group, the
/// `timeout` attachment (milliseconds) as its deadline, the caller's other attachments as
/// ours. The names move over as they are (sharing the frame's memory); the attachments are
/// read in one pass.
pub(crate) fn request_from_dubbo(call: DubboRequest, oneway: bool) -> Request {
    let DubboRequest { path, version, method, arguments, attachments, .. } = call;
    let mut metadata = Metadata::call(path, method);
    metadata.version = match version {
        Some(version) if !version_of(Some(&version)).is_empty() => version,
        _ => ByteString::new(),
    };
    let mut deadline = None;
    for (key, value) in attachments {
        match &*key {
            "group" => metadata.group = value,
            "timeout" => {
                deadline = value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|&ms| ms > 0)
                    .map(|ms| Instant::now() + Duration::from_millis(ms));
            }
            // The call's address again, and the protocol version: not the caller's own.
            "path" | "interface" | "version" | "dubbo" => {}
            _ => metadata.attachments.insert(key, value),
        }
    }
    Request::from_parts(metadata, SerializationId::Hessian2, oneway, arguments, deadline)
}

/// A response frame to request `id` with `status` and a message body (any status but OK).
pub(crate) fn error_frame(id: i64, code: u8, message: &str) -> DubboFrame {
    let mut body = BytesMut::new();
    dubbo::encode_error_message(message, &mut body);
    DubboFrame::new(DubboHeader { flags: HESSIAN2_SERIALIZATION, status: code, id, body_len: 0 }, body.freeze())
}

/// The answer to a heartbeat: an event response with a null body.
pub(crate) fn heartbeat_reply(id: i64, serialization: u8) -> DubboFrame {
    let mut body = BytesMut::new();
    dubbo::encode_event(None, &mut body);
    let header = DubboHeader { flags: FLAG_EVENT | serialization, status: status::OK, id, body_len: 0 };
    DubboFrame::new(header, body.freeze())
}

/// The reply to a call that ran: its value, null, or the exception its error becomes. A
/// provider without capacity (`ResourceExhausted`) answers status 100, as a Java provider's
/// full thread pool does, so the caller knows it did not run. `attachments`: whether the
/// caller reads response attachments (its dubbo version).
pub(crate) fn reply_frame(id: i64, result: Result<Response, Status>, attachments: bool, payload: usize) -> DubboFrame {
    let header = DubboHeader { flags: HESSIAN2_SERIALIZATION, status: status::OK, id, body_len: 0 };
    let response = match result {
        // A value goes out as it was encoded: the frame's body is in parts.
        Ok(response) if !matches!(&response.body[..], b"" | b"N") => {
            let extra: Vec<_> = response.attachments.iter().map(|(k, v)| (k.into(), v.into())).collect();
            let frame = DubboFrame::from_parts(header, DubboResponse::value_parts(response.body, attachments, &extra));
            return checked_size(frame, payload);
        }
        Ok(response) => DubboResponse {
            result: DubboResult::Null,
            attachments: response.attachments.iter().map(|(k, v)| (k.into(), v.into())).collect(),
        },
        Err(status) if status.code() == Code::ResourceExhausted => {
            let message = format!("Server side thread pool is exhausted, detail msg: {}", status.message());
            return error_frame(id, status::SERVER_THREADPOOL_EXHAUSTED_ERROR, &message);
        }
        Err(status) => DubboResponse {
            result: DubboResult::Exception(JavaException {
                class: dubbo::EXCEPTION_CLASS.into(),
                message: Some(status.message().to_string()),
            }),
            attachments: vec![(STATUS_ATTACHMENT.into(), (status.code() as u8).to_string().into())],
        },
    };
    let mut body = BytesMut::new();
    response.encode(attachments, &mut body);
    checked_size(DubboFrame::new(header, body.freeze()), payload)
}

/// `frame`, or Dubbo's serialization error if its body is over the payload limit.
fn checked_size(frame: DubboFrame, payload: usize) -> DubboFrame {
    if frame.body_len() > payload {
        let message = format!("Data length too large: {}, max payload: {payload}", frame.body_len());
        return error_frame(frame.header.id, status::SERIALIZATION_ERROR, &message);
    }
    frame
}

/// The caller's result from a reply frame (status and body), as [`Status`] codes go: Dubbo's
/// "not run" statuses are `Unavailable` and marked not sent, so a cluster may retry them. The
/// value is re-encoded from Hessian2 into `serialization`, the one the call was made in.
pub(crate) fn response_from_reply(frame: DubboFrame, serialization: SerializationId) -> Result<Response, Status> {
    if frame.header.status != status::OK {
        let message = dubbo::decode_error_message(&frame.body).unwrap_or_else(|e| format!("(unreadable: {e})"));
        let code = frame.header.status;
        return Err(match code {
            status::SERVER_THREADPOOL_EXHAUSTED_ERROR => Status::unavailable(message).not_sent(),
            status::BAD_REQUEST => Status::invalid_argument(message),
            status::SERVICE_ERROR => Status::not_found(message),
            status::CLIENT_TIMEOUT | status::SERVER_TIMEOUT => Status::deadline_exceeded(message),
            status::SERIALIZATION_ERROR => Status::resource_exhausted(message),
            _ => Status::unknown(format!("dubbo status {code}: {message}")),
        });
    }
    let response = DubboResponse::decode(&frame.body)
        .map_err(|e| Status::internal(format!("dubbo response does not decode: {e}")))?;
    let mut attachments = rpc_codec::Attachments::new();
    for (key, value) in response.attachments {
        // The provider's protocol version, which every reply carries: not the call's.
        if &*key != "dubbo" {
            attachments.insert(key, value);
        }
    }
    let body = match response.result {
        DubboResult::Value(value) => value,
        DubboResult::Null => Bytes::from_static(b"N"),
        DubboResult::Exception(exception) => {
            let code = attachments.get(STATUS_ATTACHMENT).and_then(|c| c.parse::<u8>().ok()).map(Code::from_u8);
            let message = exception.message.unwrap_or_default();
            return Err(match code {
                Some(code) if code != Code::Ok => Status::new(code, message),
                _ => Status::unknown(format!("{}: {message}", exception.class)),
            });
        }
    };
    let body = match serialization {
        SerializationId::Hessian2 => body,
        other => transcode_value(SerializationId::Hessian2, other, &body)
            .map_err(|e| Status::internal(format!("dubbo reply not re-encoded as {other}: {e}")))?
            .freeze(),
    };
    let mut response = Response::new(serialization, body);
    response.attachments = attachments;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_that_mean_none() {
        for none in [None, Some(""), Some("0.0.0"), Some("*")] {
            assert_eq!(version_of(none), "");
        }
        assert_eq!(version_of(Some("1.0.0")), "1.0.0");
    }

    #[test]
    fn errors_round_trip_with_their_codes() {
        let frame = reply_frame(7, Err(Status::invalid_argument("no")), true, 1 << 20);
        let status = response_from_reply(frame, SerializationId::Hessian2).unwrap_err();
        assert_eq!((status.code(), status.message()), (Code::InvalidArgument, "no"));
        let frame = reply_frame(7, Err(Status::not_found("gone")), false, 1 << 20);
        let status = response_from_reply(frame, SerializationId::Hessian2).unwrap_err();
        assert_eq!(status.code(), Code::Unknown, "a caller without attachments gets Java's view");
        assert!(status.message().contains("java.lang.RuntimeException: gone"));
        let busy = response_from_reply(
            reply_frame(7, Err(Status::resource_exhausted("full")), true, 1 << 20),
            SerializationId::Hessian2,
        );
        assert!(busy.as_ref().unwrap_err().is_not_sent());
        let big = reply_frame(7, Ok(Response::new(SerializationId::Hessian2, Bytes::from(vec![0x4e; 64]))), true, 16);
        assert_eq!(big.header.status, status::SERIALIZATION_ERROR);
    }
}

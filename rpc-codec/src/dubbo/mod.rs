//! Apache Dubbo's `dubbo://` protocol (dubbo2): the 16-byte header, the framing, and the
//! Hessian2 bodies of calls, results, errors and events. The byte layout is in
//! `docs/DUBBO.md`; the protocol runs in `rpc-core` beside our own.

mod body;
mod codec;
mod descriptor;
mod header;

pub use body::{
    decode_error_message, decode_exception, encode_call, encode_error_message, encode_event, encode_exception,
    supports_response_attachments, CallParts, CallTemplate, DubboRequest, DubboResponse, DubboResult, JavaException,
    RequestCache, DUBBO_VERSION, EXCEPTION_CLASS,
};
pub use codec::{DubboCodec, DubboFrame, DubboInbound};
pub use descriptor::{class_name, parameter_count, parameter_types};
pub use header::{
    status, DubboHeader, DEFAULT_PAYLOAD, DUBBO_HEADER_LEN, DUBBO_MAGIC, FLAG_EVENT, FLAG_REQUEST, FLAG_TWOWAY,
    HESSIAN2_SERIALIZATION,
};

//! Support for generated code: what `#[rpc::service]` expands to calls these. Not a stable
//! API; the paths it names are `::rpc::__private::…` only.

mod body;
mod defaults;
mod errors;
mod streams;

pub use body::SizeHint;
pub use bytes::{Bytes, BytesMut};
pub use defaults::{DefaultProbe, HasDefault, NoDefault};
pub use errors::{
    args_decode_error, args_encode_error, reply_decode_error, reply_encode_error, streaming_only, unknown_method,
    Convertible, ErrorProbe, Inconvertible, NotAnErrorType,
};
pub use futures_core::Stream;
pub use rpc_codec::serialization::probe::{
    NoWireFormat, NotSerde, SerdeOnly, TupleProbe, ViaNeither, ViaProtobuf, ViaSerde, WireProbe,
};
pub use rpc_codec::{__deserialize, __serialize};
pub use rpc_core::__private::ToSocketAddrs;
pub use rpc_core::__private::{Service, ServiceExt};
pub use rpc_core::cluster::hash_key;
pub use streams::{call_streaming, encode_stream, first_message, single_message};

/// `request` with generated argument hashing, for consistent-hash balancing.
pub fn with_arg_key(mut request: crate::Request, key: rpc_core::ArgKeyFn) -> crate::Request {
    request.set_arg_key_fn(key);
    request
}

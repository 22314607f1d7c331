//! The messages of `grpc.reflection.v1` (and `v1alpha`, whose wire form is the same), as
//! `reflection.proto` defines them.

use bytes::Bytes;
use prost::{Message, Oneof};

#[derive(Clone, PartialEq, Message)]
pub(super) struct ServerReflectionRequest {
    #[prost(string, tag = "1")]
    pub(super) host: String,
    #[prost(oneof = "MessageRequest", tags = "3, 4, 5, 6, 7")]
    pub(super) message_request: Option<MessageRequest>,
}

#[derive(Clone, PartialEq, Oneof)]
pub(super) enum MessageRequest {
    #[prost(string, tag = "3")]
    FileByFilename(String),
    #[prost(string, tag = "4")]
    FileContainingSymbol(String),
    #[prost(message, tag = "5")]
    FileContainingExtension(ExtensionRequest),
    #[prost(string, tag = "6")]
    AllExtensionNumbersOfType(String),
    #[prost(string, tag = "7")]
    ListServices(String),
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct ExtensionRequest {
    #[prost(string, tag = "1")]
    pub(super) containing_type: String,
    #[prost(int32, tag = "2")]
    pub(super) extension_number: i32,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct ServerReflectionResponse {
    #[prost(string, tag = "1")]
    pub(super) valid_host: String,
    #[prost(message, optional, tag = "2")]
    pub(super) original_request: Option<ServerReflectionRequest>,
    #[prost(oneof = "MessageResponse", tags = "4, 5, 6, 7")]
    pub(super) message_response: Option<MessageResponse>,
}

/// Named as in `reflection.proto`.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, PartialEq, Oneof)]
pub(super) enum MessageResponse {
    #[prost(message, tag = "4")]
    FileDescriptorResponse(FileDescriptorResponse),
    #[prost(message, tag = "5")]
    AllExtensionNumbersResponse(ExtensionNumberResponse),
    #[prost(message, tag = "6")]
    ListServicesResponse(ListServiceResponse),
    #[prost(message, tag = "7")]
    ErrorResponse(ErrorResponse),
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct FileDescriptorResponse {
    /// Serialized `FileDescriptorProto`s: the file asked for, then what it imports.
    #[prost(bytes = "bytes", repeated, tag = "1")]
    pub(super) file_descriptor_proto: Vec<Bytes>,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct ExtensionNumberResponse {
    #[prost(string, tag = "1")]
    pub(super) base_type_name: String,
    #[prost(int32, repeated, tag = "2")]
    pub(super) extension_number: Vec<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct ListServiceResponse {
    #[prost(message, repeated, tag = "1")]
    pub(super) service: Vec<ServiceResponse>,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct ServiceResponse {
    #[prost(string, tag = "1")]
    pub(super) name: String,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct ErrorResponse {
    /// A gRPC status code.
    #[prost(int32, tag = "1")]
    pub(super) error_code: i32,
    #[prost(string, tag = "2")]
    pub(super) error_message: String,
}

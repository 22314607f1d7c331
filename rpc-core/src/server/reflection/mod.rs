//! gRPC server reflection, `grpc.reflection.v1.ServerReflection` and its older name
//! `grpc.reflection.v1alpha.ServerReflection` (grpcurl, Postman, `rpcctl describe` and
//! grpcio's reflection client ask either): the services a provider hosts, and the `.proto`
//! descriptors of those built from `.proto` files, from the descriptor sets given to
//! [`ServerBuilder::grpc_reflection`](crate::ServerBuilder::grpc_reflection).
//!
//! `ServerReflectionInfo` is one bidirectional stream: each request gets one response, in
//! order. A symbol or file it does not know is answered with an `error_response`
//! (`NOT_FOUND`) on the stream, as gRPC's own servers answer it; the stream stays open.

mod descriptors;
mod messages;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use prost::Message;
use rpc_codec::SerializationId;

pub(crate) use descriptors::Descriptors;
use messages::{
    ErrorResponse, ExtensionNumberResponse, FileDescriptorResponse, ListServiceResponse, MessageRequest,
    MessageResponse, ServerReflectionRequest, ServerReflectionResponse, ServiceResponse,
};

use crate::provider::RpcService;
use crate::{
    BoxFuture, CallFuture, Code, MessageStream, MethodDescriptor, MethodKind, Request, ServiceDescriptor, Status,
};

const METHOD: &str = "ServerReflectionInfo";

const METHODS: &[MethodDescriptor] = &[MethodDescriptor {
    name: METHOD,
    arguments: &["requests"],
    idempotent: true,
    oneway: false,
    kind: MethodKind::Bidirectional,
    java_parameters: "Lio/grpc/reflection/v1/ServerReflectionRequest;",
    java_return: "Lio/grpc/reflection/v1/ServerReflectionResponse;",
}];

static V1: ServiceDescriptor = ServiceDescriptor {
    name: "grpc.reflection.v1.ServerReflection",
    version: "",
    serialization: SerializationId::Protobuf,
    methods: METHODS,
};

static V1ALPHA: ServiceDescriptor = ServiceDescriptor {
    name: "grpc.reflection.v1alpha.ServerReflection",
    version: "",
    serialization: SerializationId::Protobuf,
    methods: METHODS,
};

/// One of the two names of the reflection service, over the provider's descriptors.
#[derive(Clone)]
pub(crate) struct ReflectionService {
    descriptor: &'static ServiceDescriptor,
    descriptors: Arc<Descriptors>,
    /// What `list_services` answers: every hosted service, these two included.
    services: Arc<Vec<String>>,
}

impl ReflectionService {
    /// Both names, serving `descriptors` and listing `hosted` and themselves.
    pub(crate) fn both(descriptors: Descriptors, hosted: impl IntoIterator<Item = String>) -> [ReflectionService; 2] {
        let mut services: Vec<String> = hosted.into_iter().collect();
        services.extend([V1.name.to_string(), V1ALPHA.name.to_string()]);
        services.sort_unstable();
        services.dedup();
        let (descriptors, services) = (Arc::new(descriptors), Arc::new(services));
        [&V1, &V1ALPHA].map(|descriptor| ReflectionService {
            descriptor,
            descriptors: descriptors.clone(),
            services: services.clone(),
        })
    }

    fn answer(&self, message: Bytes) -> Result<Bytes, Status> {
        let request = ServerReflectionRequest::decode(message).map_err(|e| {
            Status::invalid_argument(format!("{}: not a ServerReflectionRequest: {e}", self.descriptor.name))
        })?;
        let not_found = |what: String| {
            MessageResponse::ErrorResponse(ErrorResponse { error_code: Code::NotFound as i32, error_message: what })
        };
        let files = |files: Option<Vec<Bytes>>, what: String| match files {
            Some(file_descriptor_proto) => {
                MessageResponse::FileDescriptorResponse(FileDescriptorResponse { file_descriptor_proto })
            }
            None => not_found(what),
        };
        let descriptors = &self.descriptors;
        let response = match &request.message_request {
            Some(MessageRequest::ListServices(_)) => MessageResponse::ListServicesResponse(ListServiceResponse {
                service: self.services.iter().map(|name| ServiceResponse { name: name.clone() }).collect(),
            }),
            Some(MessageRequest::FileByFilename(name)) => {
                files(descriptors.file_by_name(name), format!("no file {name:?} here"))
            }
            Some(MessageRequest::FileContainingSymbol(symbol)) => {
                files(descriptors.file_containing_symbol(symbol), format!("no symbol {symbol:?} here"))
            }
            Some(MessageRequest::FileContainingExtension(extension)) => files(
                descriptors.file_containing_extension(&extension.containing_type, extension.extension_number),
                format!("no extension {} of {:?} here", extension.extension_number, extension.containing_type),
            ),
            Some(MessageRequest::AllExtensionNumbersOfType(message)) => match descriptors.extension_numbers(message) {
                Some(extension_number) => MessageResponse::AllExtensionNumbersResponse(ExtensionNumberResponse {
                    base_type_name: message.clone(),
                    extension_number,
                }),
                None => not_found(format!("no message {message:?} here")),
            },
            None => MessageResponse::ErrorResponse(ErrorResponse {
                error_code: Code::InvalidArgument as i32,
                error_message: "the request asks for nothing".into(),
            }),
        };
        tracing::debug!(request = ?request.message_request, "reflection");
        let reply = ServerReflectionResponse {
            valid_host: request.host.clone(),
            original_request: Some(request),
            message_response: Some(response),
        };
        Ok(reply.encode_to_vec().into())
    }
}

impl RpcService for ReflectionService {
    fn descriptor(&self) -> &'static ServiceDescriptor {
        self.descriptor
    }

    fn call(&self, request: Request) -> CallFuture {
        let status = Status::unimplemented(format!(
            "{}/{} is a bidirectional stream: call it as one",
            self.descriptor.name,
            request.method()
        ));
        CallFuture::from(std::future::ready(Err(status)))
    }

    fn call_streaming(&self, request: Request, inbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>> {
        if request.method() != METHOD {
            let status =
                Status::unimplemented(format!("{} has no method {:?}", self.descriptor.name, request.method()));
            return Box::pin(std::future::ready(Err(status)));
        }
        let this = self.clone();
        let replies = inbound.map(move |message| message.and_then(|message| this.answer(message)));
        Box::pin(std::future::ready(Ok(replies.boxed())))
    }
}

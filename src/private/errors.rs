//! Errors of generated code: the statuses it raises, and the conversions between a method's
//! error type and [`Status`].
//!
//! A method's error type `E` must convert both ways (`From<Status>` for failures of the call,
//! `Into<Status>` for what a handler returns). Generated code converts through [`ErrorProbe`]
//! instead of `?`/`From`: where `E` converts, the probe resolves to [`Convertible`]; where it
//! does not, to [`Inconvertible`], which compiles, except for its `check_error`, which asks for
//! [`NotAnErrorType`]. Generated code calls `check_error` once per method, so a bad error
//! type gives that one error, at the type, instead of one per conversion inside the expansion.

use std::marker::PhantomData;

use rpc_codec::SerializationError;

use crate::{ServiceDescriptor, Status};

/// Implemented by no type: what [`Inconvertible::check_error`] asks of an error type that
/// does not convert to and from [`Status`].
#[diagnostic::on_unimplemented(
    message = "the error type `{Self}` of an rpc method must implement `From<rpc::Status>` and `Into<rpc::Status>`",
    label = "not convertible to and from rpc::Status",
    note = "use `rpc::Status`, or implement `From<rpc::Status> for {Self}` and `From<{Self}> for rpc::Status`"
)]
pub trait NotAnErrorType {}

/// Autoref probe converting between `E` and [`Status`]: [`Convertible`] where `E` converts
/// both ways, else [`Inconvertible`] (only ever compiled next to its failing `check_error`,
/// so its conversions never run).
pub struct ErrorProbe<E>(PhantomData<fn() -> E>);

impl<E> ErrorProbe<E> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        ErrorProbe(PhantomData)
    }
}

pub trait Convertible<E> {
    fn check_error(&self) {}
    fn error_of(&self, status: Status) -> E;
    fn status_of(&self, error: E) -> Status;
}

impl<E: From<Status> + Into<Status>> Convertible<E> for ErrorProbe<E> {
    fn error_of(&self, status: Status) -> E {
        E::from(status)
    }
    fn status_of(&self, error: E) -> Status {
        error.into()
    }
}

pub trait Inconvertible<E> {
    fn check_error(&self)
    where
        E: NotAnErrorType,
    {
    }
    fn error_of(&self, status: Status) -> E;
    fn status_of(&self, error: E) -> Status;
}

impl<E> Inconvertible<E> for &ErrorProbe<E> {
    fn error_of(&self, _: Status) -> E {
        unreachable!("an error type without conversions fails to compile (check_error)")
    }
    fn status_of(&self, _: E) -> Status {
        unreachable!("an error type without conversions fails to compile (check_error)")
    }
}

/// The arguments could not be serialized: nothing was sent, so the call may go elsewhere.
pub fn args_encode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
    Status::invalid_argument(format!("arguments of {}/{method} not sent: {error}", service.name)).not_sent()
}

pub fn args_decode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
    Status::invalid_argument(format!(
        "arguments of {}/{method} do not decode (wrong arity or types?): {error}",
        service.name
    ))
}

pub fn reply_encode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
    Status::internal(format!("result of {}/{method} could not be encoded: {error}", service.name))
}

pub fn reply_decode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
    Status::internal(format!("reply of {}/{method} does not decode: {error}", service.name))
}

pub fn streaming_only(service: &ServiceDescriptor, method: &str) -> Status {
    Status::unimplemented(format!("{}/{method} is a streaming method: call it as a stream", service.name))
}

pub fn unknown_method(service: &ServiceDescriptor, method: &str) -> Status {
    let known: Vec<&str> = service.methods.iter().map(|m| m.name).collect();
    Status::unimplemented(format!("{} has no method {method:?} (it has: {})", service.name, known.join(", ")))
}

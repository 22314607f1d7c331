use tower::BoxError;

use crate::{Code, Response, Status};

/// The status code a failed call counts under: what a service's error says it is.
pub trait ErrorCode {
    /// The code of this error.
    fn error_code(&self) -> Code;
}

impl ErrorCode for Status {
    fn error_code(&self) -> Code {
        self.code()
    }
}

/// As [`Status::from_box_error`] maps it: a `Status` keeps its code, tower's timeout is
/// `DeadlineExceeded`, load shedding `ResourceExhausted`, anything else `Internal`.
impl ErrorCode for BoxError {
    fn error_code(&self) -> Code {
        if let Some(status) = self.downcast_ref::<Status>() {
            status.code()
        } else if self.is::<tower::timeout::error::Elapsed>() {
            Code::DeadlineExceeded
        } else if self.is::<tower::load_shed::error::Overloaded>() {
            Code::ResourceExhausted
        } else {
            Code::Internal
        }
    }
}

/// The code a call ended with: its error's, or for a reply a cluster mode swallowed, the
/// swallowed error's; `OK` otherwise.
pub(crate) fn of_outcome<E: ErrorCode>(outcome: &Result<Response, E>) -> Code {
    match outcome {
        Ok(response) => response.swallowed.as_ref().map_or(Code::Ok, |status| status.code()),
        Err(error) => error.error_code(),
    }
}

/// A code's name as gRPC spells it, the `code` label's value.
pub(super) fn label(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middleware_errors_count_under_the_codes_their_statuses_would_have() {
        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert_eq!(elapsed.error_code(), Code::DeadlineExceeded);
        let status: BoxError = Box::new(Status::permission_denied("no"));
        assert_eq!(status.error_code(), Code::PermissionDenied);
        let other: BoxError = "boom".into();
        assert_eq!(other.error_code(), Code::Internal);
        for n in 0..=16u8 {
            let name = label(Code::from_u8(n));
            assert!(name.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{name}");
        }
    }
}

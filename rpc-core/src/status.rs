use std::fmt;

/// What kind of failure a call met. The numbering is gRPC's, so the HTTP/2 transport maps
/// codes one to one and the binary protocol carries them in the header's status byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Code {
    /// Not an error.
    Ok = 0,
    /// The caller gave up (its future was dropped or it cancelled the call).
    Cancelled = 1,
    /// An error of no other kind.
    Unknown = 2,
    /// The request cannot be processed as sent: undecodable arguments, wrong arity, unknown
    /// serialization id, malformed metadata.
    InvalidArgument = 3,
    /// The deadline passed before a reply arrived, or before the provider started the call.
    DeadlineExceeded = 4,
    /// No such service (name, version, group) on the provider.
    NotFound = 5,
    /// What the call would create exists already.
    AlreadyExists = 6,
    /// The caller may not do this.
    PermissionDenied = 7,
    /// A limit was hit: a frame over the maximum size, a full queue, a concurrency limit.
    ResourceExhausted = 8,
    /// The system is not in the state the call needs.
    FailedPrecondition = 9,
    /// The call was aborted, e.g. by a conflict.
    Aborted = 10,
    /// An argument is out of its valid range.
    OutOfRange = 11,
    /// The service exists but has no such method.
    Unimplemented = 12,
    /// The provider failed: a handler panicked, a result could not be encoded.
    Internal = 13,
    /// No usable connection: refused, closed, dead peer, provider shutting down.
    Unavailable = 14,
    /// Data was lost or corrupted.
    DataLoss = 15,
    /// The caller is not authenticated.
    Unauthenticated = 16,
}

impl Code {
    /// The code for a status byte off the wire; numbers this build does not know become `Unknown`.
    pub fn from_u8(value: u8) -> Code {
        use Code::*;
        const ALL: [Code; 17] = [
            Ok,
            Cancelled,
            Unknown,
            InvalidArgument,
            DeadlineExceeded,
            NotFound,
            AlreadyExists,
            PermissionDenied,
            ResourceExhausted,
            FailedPrecondition,
            Aborted,
            OutOfRange,
            Unimplemented,
            Internal,
            Unavailable,
            DataLoss,
            Unauthenticated,
        ];
        ALL.get(usize::from(value)).copied().unwrap_or(Unknown)
    }

    /// The code's name in lower case, e.g. `not found`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::Cancelled => "cancelled",
            Code::Unknown => "unknown",
            Code::InvalidArgument => "invalid argument",
            Code::DeadlineExceeded => "deadline exceeded",
            Code::NotFound => "not found",
            Code::AlreadyExists => "already exists",
            Code::PermissionDenied => "permission denied",
            Code::ResourceExhausted => "resource exhausted",
            Code::FailedPrecondition => "failed precondition",
            Code::Aborted => "aborted",
            Code::OutOfRange => "out of range",
            Code::Unimplemented => "unimplemented",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::DataLoss => "data loss",
            Code::Unauthenticated => "unauthenticated",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every call: a [`Code`] and a message meant for people.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use rpc::{Code, Status};
/// let status = Status::not_found("no service demo.Nope");
/// assert_eq!(status.code(), Code::NotFound);
/// assert_eq!(status.to_string(), "not found: no service demo.Nope");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Status {
    code: Code,
    message: String,
    /// Known not to have left this client (refused before it was written), so running it
    /// elsewhere cannot run it twice. Never sent on the wire.
    not_sent: bool,
}

macro_rules! constructors {
    ($($name:ident => $code:ident),* $(,)?) => {$(
        #[doc = concat!("A status with code [`Code::", stringify!($code), "`].")]
        pub fn $name(message: impl Into<String>) -> Status {
            Status::new(Code::$code, message)
        }
    )*};
}

impl Status {
    /// A status with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status { code, message: message.into(), not_sent: false }
    }

    /// Marks this status as raised before the request left the client: the cluster client
    /// may then retry even a method that is not idempotent.
    pub fn not_sent(mut self) -> Status {
        self.not_sent = true;
        self
    }

    /// Whether the request is known never to have been written to a provider.
    pub fn is_not_sent(&self) -> bool {
        self.not_sent
    }

    /// What kind of failure this is.
    pub fn code(&self) -> Code {
        self.code
    }

    /// What went wrong, for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    constructors! {
        cancelled => Cancelled,
        unknown => Unknown,
        invalid_argument => InvalidArgument,
        deadline_exceeded => DeadlineExceeded,
        not_found => NotFound,
        already_exists => AlreadyExists,
        permission_denied => PermissionDenied,
        resource_exhausted => ResourceExhausted,
        failed_precondition => FailedPrecondition,
        aborted => Aborted,
        out_of_range => OutOfRange,
        unimplemented => Unimplemented,
        internal => Internal,
        unavailable => Unavailable,
        data_loss => DataLoss,
        unauthenticated => Unauthenticated,
    }

    /// Maps an error from a tower middleware to a status: a `Status` passes through, tower's
    /// timeout becomes `DeadlineExceeded`, load shedding `ResourceExhausted`, anything else `Internal`.
    pub fn from_box_error(error: tower::BoxError) -> Status {
        match error.downcast::<Status>() {
            Ok(status) => *status,
            Err(error) if error.is::<tower::timeout::error::Elapsed>() => Status::deadline_exceeded(error.to_string()),
            Err(error) if error.is::<tower::load_shed::error::Overloaded>() => {
                Status::resource_exhausted(error.to_string())
            }
            Err(error) => Status::internal(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_byte() {
        for n in 0..=16u8 {
            assert_eq!(Code::from_u8(n) as u8, n);
        }
        assert_eq!(Code::from_u8(17), Code::Unknown);
        assert_eq!(Code::from_u8(255), Code::Unknown);
    }

    #[test]
    fn middleware_errors_map_to_precise_codes() {
        let elapsed: tower::BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert_eq!(Status::from_box_error(elapsed).code(), Code::DeadlineExceeded);
        let status: tower::BoxError = Box::new(Status::permission_denied("no"));
        assert_eq!(Status::from_box_error(status), Status::permission_denied("no"));
        let other: tower::BoxError = "boom".into();
        assert_eq!(Status::from_box_error(other).code(), Code::Internal);
    }
}

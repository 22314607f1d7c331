use std::fmt;
use std::process::ExitCode;

/// Why a command failed, which its exit code tells scripts.
#[derive(Debug)]
pub enum Failure {
    /// The other side answered with an error (exit 1).
    Answered(String),
    /// The command line asks for something malformed or unknown (exit 2).
    BadInput(String),
    /// A provider, registry or admin port could not be reached (exit 3).
    Unreachable(String),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Answered(_) => 1,
            Failure::BadInput(_) => 2,
            Failure::Unreachable(_) => 3,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Answered(message) | Failure::BadInput(message) | Failure::Unreachable(message) => {
                f.write_str(message)
            }
        }
    }
}

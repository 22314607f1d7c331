/// A registry operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry cannot be reached; consumers keep their last known set.
    #[error("registry unavailable: {0}")]
    Unavailable(String),
    /// The instance or URL is not acceptable to this registry.
    #[error("invalid registration: {0}")]
    Invalid(String),
}

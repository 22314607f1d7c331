use crate::{BoxFuture, MetadataInfo, RegistryError};

/// Which application instance's `MetadataService` to ask, for which revision: what a
/// subscription needs when an instance's metadata is stored `local` (only the instance itself
/// has it), taken from the instance's record (`dubbo.metadata-service.url-params`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The application, the `MetadataService`'s group.
    pub application: String,
    /// `host:port` of the `MetadataService`.
    pub address: String,
    /// The protocol it is served over (`dubbo` unless the record says otherwise).
    pub protocol: String,
    /// The revision wanted.
    pub revision: String,
}

/// Asks an application instance's `MetadataService` for its metadata, as a Dubbo consumer
/// does (`MetadataUtils.getRemoteMetadata`) for an instance whose metadata is stored `local`
/// (a Java provider's default). Registries know no wire protocol, so the channel that
/// subscribes hands them one ([`Registry::use_metadata_client`](crate::Registry::use_metadata_client));
/// without it such instances are found through their interface-level registrations only.
///
/// `Ok(None)` is an instance that does not know the revision (it changed since its record was
/// read).
pub trait MetadataClient: Send + Sync + 'static {
    /// The metadata `request` names.
    fn metadata(&self, request: MetadataRequest) -> BoxFuture<'static, Result<Option<MetadataInfo>, RegistryError>>;
}

use std::fmt;
use std::str::FromStr;

/// What a provider writes to its registry, as Dubbo 3's `register-mode` chooses it.
///
/// Dubbo 3 keeps two layouts side by side: interface-level registrations (one per service and
/// protocol, what Dubbo 2 consumers and our own read) and application-level instances (one per
/// process, with the services in the application's metadata). A Java Dubbo 3.3 consumer reads
/// both by default and uses either; one set to `FORCE_APPLICATION` reads only the second.
/// Registries without an application-level layout (file, memory, static) keep only the
/// interface-level registrations, whatever the mode. A provider whose application instance is
/// registered also serves Dubbo's `MetadataService` (group: the application), which Java
/// consumers ask for the services of an instance whose metadata is stored `local`.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use rpc::server::RegisterMode;
/// assert_eq!("instance".parse::<RegisterMode>().unwrap(), RegisterMode::Instance);
/// assert_eq!(RegisterMode::default(), RegisterMode::All);
/// assert!("both".parse::<RegisterMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RegisterMode {
    /// Both layouts: Dubbo's default.
    #[default]
    All,
    /// Interface-level registrations only (Dubbo 2's layout).
    Interface,
    /// The application instance only (Dubbo 3's application-level discovery).
    Instance,
}

impl RegisterMode {
    /// Whether interface-level registrations are written.
    pub fn interface_level(self) -> bool {
        matches!(self, RegisterMode::All | RegisterMode::Interface)
    }

    /// Whether the application instance is written.
    pub fn application_level(self) -> bool {
        matches!(self, RegisterMode::All | RegisterMode::Instance)
    }
}

impl FromStr for RegisterMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(RegisterMode::All),
            "interface" => Ok(RegisterMode::Interface),
            "instance" => Ok(RegisterMode::Instance),
            other => Err(format!("register mode {other:?} is not all, interface or instance")),
        }
    }
}

impl fmt::Display for RegisterMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegisterMode::All => "all",
            RegisterMode::Interface => "interface",
            RegisterMode::Instance => "instance",
        })
    }
}

//! `rpcctl`: the command line for `rpc` services.
//!
//! ```text
//! rpcctl ls --registry file:// demo.Greeter              # its providers, as a table
//! rpcctl watch --registry zookeeper://127.0.0.1:2181 demo.Greeter
//! rpcctl call --addr 127.0.0.1:20880 demo.Greeter greet '["world"]'
//! rpcctl describe --admin 127.0.0.1:22222                # what a provider hosts
//! rpcctl offline 127.0.0.1:22222 && rpcctl online 127.0.0.1:22222
//! ```
//!
//! Exit codes: 0 done; 1 the call (or the admin port) answered with an error; 2 bad
//! arguments (clap's own, malformed JSON, an unknown service); 3 something could not be
//! reached (a provider, a registry, an admin port).

mod admin;
mod call;
mod failure;
mod providers;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use failure::Failure;

#[derive(Parser)]
#[command(name = "rpcctl", version, about = "List, watch, describe, call and steer rpc services")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The providers of SERVICE in a registry: address, protocol, weight, version, group.
    Ls {
        /// file://, etcd://host:port, zookeeper://host:port, static://…
        #[arg(long, default_value = "file://")]
        registry: String,
        /// The service's wire name, e.g. demo.Greeter.
        service: String,
        /// How long to wait for the registry's first answer.
        #[arg(long, default_value = "5", value_parser = seconds)]
        timeout: Duration,
    },
    /// Prints providers of SERVICE as they come and go, until interrupted (or --for).
    Watch {
        #[arg(long, default_value = "file://")]
        registry: String,
        service: String,
        /// Stop after this many seconds.
        #[arg(long = "for", value_parser = seconds)]
        duration: Option<Duration>,
    },
    /// Calls METHOD of SERVICE with JSON arguments and prints the JSON result.
    Call {
        /// A provider to call directly…
        #[arg(long, conflicts_with = "registry", required_unless_present = "registry")]
        addr: Option<String>,
        /// …or a registry to find providers of SERVICE in.
        #[arg(long)]
        registry: Option<String>,
        service: String,
        method: String,
        /// The arguments as a JSON array, one element per argument ('["world"]', '[1, 2]',
        /// '[]'); the provider decodes them with its JSON serialization.
        #[arg(default_value = "[]")]
        args: String,
        /// binary (the default) or grpc.
        #[arg(long, default_value = "binary")]
        protocol: String,
        #[arg(long, default_value = "5", value_parser = seconds)]
        timeout: Duration,
        /// The service version to call.
        #[arg(long)]
        service_version: Option<String>,
        /// The service group to call.
        #[arg(long)]
        group: Option<String>,
    },
    /// What a provider hosts (its admin port's /services): services, versions, methods.
    Describe {
        /// The provider's admin port, host:port.
        #[arg(long)]
        admin: String,
        /// Only this service.
        service: Option<String>,
        #[arg(long, env = "RPCCTL_ADMIN_TOKEN")]
        token: Option<String>,
    },
    /// Takes a provider out of its registries (through its admin port) without stopping it.
    Offline {
        /// The provider's admin port, host:port.
        admin: String,
        #[arg(long, env = "RPCCTL_ADMIN_TOKEN")]
        token: Option<String>,
    },
    /// Registers a provider taken offline again.
    Online {
        admin: String,
        #[arg(long, env = "RPCCTL_ADMIN_TOKEN")]
        token: Option<String>,
    },
}

fn seconds(value: &str) -> Result<Duration, String> {
    let seconds: f64 = value.parse().map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(format!("{value} seconds is outside 0 to 86400"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Ls { registry, service, timeout } => providers::list(&registry, &service, timeout).await,
        Command::Watch { registry, service, duration } => providers::watch(&registry, &service, duration).await,
        Command::Call { addr, registry, service, method, args, protocol, timeout, service_version, group } => {
            let target = match (addr, registry) {
                (Some(addr), _) => call::Target::Address(addr),
                (None, Some(registry)) => call::Target::Registry(registry),
                (None, None) => unreachable!("clap requires one"),
            };
            let options = call::Options { protocol, timeout, version: service_version, group };
            call::run(target, &service, &method, &args, options).await
        }
        Command::Describe { admin, service, token } => {
            admin::describe(&admin, service.as_deref(), token.as_deref()).await
        }
        Command::Offline { admin, token } => admin::switch(&admin, "/offline", token.as_deref()).await,
        Command::Online { admin, token } => admin::switch(&admin, "/online", token.as_deref()).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("rpcctl: {failure}");
            failure.exit_code()
        }
    }
}

//! `rpcctl call`: generic invocation with JSON, as Dubbo's `invoke` and grpcurl do it. The
//! arguments go as the provider's JSON serialization expects them (one argument as itself,
//! several as an array, none as null), so any `#[rpc::service]` with serde types answers.

use std::time::Duration;

use rpc::{Channel, Code, Protocol, SerializationId, Status};
use serde_json::Value;
use tower::ServiceExt;

use crate::Failure;

/// Where the call goes.
pub enum Target {
    Address(String),
    Registry(String),
}

pub struct Options {
    pub protocol: String,
    pub timeout: Duration,
    pub version: Option<String>,
    pub group: Option<String>,
}

pub async fn run(target: Target, service: &str, method: &str, args: &str, options: Options) -> Result<(), Failure> {
    let body = body(args)?;
    let protocol = match options.protocol.as_str() {
        "binary" | "rpc" => Protocol::Binary,
        "grpc" | "tri" => Protocol::Grpc,
        other => return Err(Failure::BadInput(format!("protocol {other:?}: binary or grpc"))),
    };
    let channel = match target {
        Target::Address(addr) => Channel::builder()
            .protocol(protocol)
            .connect(addr.as_str())
            .await
            .map_err(|status| Failure::Unreachable(format!("{addr}: {}", status.message())))?,
        Target::Registry(url) => {
            let registry =
                rpc::registry::connect(&url).await.map_err(|e| Failure::Unreachable(format!("registry {url}: {e}")))?;
            Channel::builder()
                .protocol(protocol)
                .registry(registry, service.to_string())
                .build()
                .map_err(|status| Failure::BadInput(status.message().to_string()))?
        }
    };
    let mut request = rpc::Request::new(service.to_string(), method.to_string(), body.into());
    request.serialization = SerializationId::Json;
    if let Some(version) = options.version {
        request.set_version(version);
    }
    if let Some(group) = options.group {
        request.set_group(group);
    }
    let request = request.with_timeout(options.timeout);
    let response = channel.oneshot(request).await.map_err(failure)?;
    let value: Value = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body)
            .map_err(|e| Failure::Answered(format!("the reply is not JSON ({e}): does the provider speak JSON?")))?
    };
    println!("{}", serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()));
    Ok(())
}

/// The request body for `args`, a JSON array of the arguments.
fn body(args: &str) -> Result<Vec<u8>, Failure> {
    let parsed: Value = serde_json::from_str(args).map_err(|e| {
        Failure::BadInput(format!("the arguments are not JSON ({e}): pass them as an array, '[\"world\"]'"))
    })?;
    let Value::Array(mut args) = parsed else {
        return Err(Failure::BadInput(format!(
            "the arguments must be a JSON array, one element per argument: '[{args}]' for one"
        )));
    };
    let value = match args.len() {
        0 => Value::Null,
        1 => args.remove(0),
        _ => Value::Array(args),
    };
    Ok(value.to_string().into_bytes())
}

/// The exit a failed call's status means: the provider or cluster unreachable (3), the
/// service, method or arguments wrong (2), anything else the call's own error (1).
fn failure(status: Status) -> Failure {
    let text = format!("{}: {}", status.code().as_str(), status.message());
    match status.code() {
        Code::Unavailable => Failure::Unreachable(text),
        Code::NotFound | Code::Unimplemented | Code::InvalidArgument => Failure::BadInput(text),
        _ => Failure::Answered(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_go_as_the_json_serialization_takes_them() {
        assert_eq!(body("[]").unwrap(), b"null");
        assert_eq!(body("[\"world\"]").unwrap(), b"\"world\"");
        assert_eq!(body("[1, 2]").unwrap(), b"[1,2]");
        assert_eq!(body("[[1, 2]]").unwrap(), b"[1,2]", "one argument that is a list");
        assert!(matches!(body("{\"a\": 1}"), Err(Failure::BadInput(_))));
        assert!(matches!(body("[1,"), Err(Failure::BadInput(_))));
    }
}

//! Dubbo's token: a provider publishes a secret in its registration, consumers send it back
//! with every call, and a call without it is refused unrun (Dubbo's `TokenFilter`).

use crate::{Request, Status};

/// The attachment a consumer sends the provider's token in (Dubbo's `token`).
pub const TOKEN_ATTACHMENT: &str = "token";

/// The token a provider configured as `setting`: Dubbo's `"true"` and `"default"` mean a
/// random one (a UUID, new for each provider process), anything else is the token itself.
pub(crate) fn resolve(setting: &str) -> String {
    match setting {
        "true" | "default" => random_uuid(),
        fixed => fixed.to_string(),
    }
}

/// Refuses `request` unless it carries `expected` as its token. The message is Dubbo's
/// (without the token sent, which would leak a near-miss to logs).
pub(crate) fn check(expected: &str, request: &Request) -> Result<(), Status> {
    let given = request.attachments().get(TOKEN_ATTACHMENT).unwrap_or_default();
    if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Ok(());
    }
    let consumer = request.connection().and_then(|c| c.peer_addr).map_or_else(|| "?".into(), |a| a.to_string());
    Err(Status::permission_denied(format!(
        "Invalid token! Forbid invoke remote service {} method {}() from consumer {consumer}; not run",
        request.service(),
        request.method(),
    )))
}

/// Equality whose time does not depend on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A version-4 UUID from the system's secure random source.
fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    let random = rustls::crypto::ring::default_provider().secure_random;
    if random.fill(&mut bytes).is_err() {
        // ring reads getrandom(2); it does not fail on Linux once the pool is initialised.
        panic!("the system's secure random source failed");
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::Code;

    #[test]
    fn true_and_default_mean_a_random_token_anything_else_is_the_token() {
        let (a, b) = (resolve("true"), resolve("default"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4", "a version-4 UUID: {a}");
        assert_eq!(resolve("s3cret"), "s3cret");
    }

    #[test]
    fn a_call_without_the_token_is_refused_and_one_with_it_passes() {
        let mut request = Request::new("demo.Greeter", "hello", Bytes::new());
        let refused = check("s3cret", &request).unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        assert!(refused
            .message()
            .starts_with("Invalid token! Forbid invoke remote service demo.Greeter method hello()"));
        request.attachments_mut().insert(TOKEN_ATTACHMENT, "s3cre");
        assert!(check("s3cret", &request).is_err(), "a prefix is not the token");
        request.attachments_mut().insert(TOKEN_ATTACHMENT, "s3cret");
        assert!(check("s3cret", &request).is_ok());
    }
}

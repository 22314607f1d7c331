use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::{Authenticator, Principal};
use crate::{Request, Status};

/// Verifies a JWT bearer token (`authorization: Bearer <jwt>`: a gRPC metadata entry, an
/// HTTP header, or a binary-protocol or dubbo2 attachment) with the `jsonwebtoken` crate:
/// its signature with one key, its expiry (required), and the issuer and audience when set.
/// The token's `sub` is the [`Principal`]'s subject and its payload the claims.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// let jwt = rpc::auth::JwtAuthenticator::hs256(b"a secret of at least 32 bytes....")
///     .issuer("https://issuer.example")
///     .audience("billing");
/// # drop(jwt);
/// ```
#[derive(Clone)]
pub struct JwtAuthenticator {
    key: DecodingKey,
    validation: Validation,
}

/// The attachment credentials travel in (HTTP's header, lower-cased as gRPC metadata is).
const AUTHORIZATION: &str = "authorization";

impl JwtAuthenticator {
    /// Tokens signed with HMAC-SHA256 and this shared secret.
    pub fn hs256(secret: &[u8]) -> JwtAuthenticator {
        JwtAuthenticator::new(DecodingKey::from_secret(secret), Algorithm::HS256)
    }

    /// Tokens signed with RSASSA-PKCS1-v1_5 SHA-256 by the key whose public half is in
    /// this PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn rs256_pem(public_key: &[u8]) -> Result<JwtAuthenticator, Status> {
        let key = DecodingKey::from_rsa_pem(public_key)
            .map_err(|e| Status::invalid_argument(format!("RS256 public key: {e}")))?;
        Ok(JwtAuthenticator::new(key, Algorithm::RS256))
    }

    /// Tokens signed with ECDSA P-256 SHA-256 by the key whose public half is in this PEM.
    pub fn es256_pem(public_key: &[u8]) -> Result<JwtAuthenticator, Status> {
        let key = DecodingKey::from_ec_pem(public_key)
            .map_err(|e| Status::invalid_argument(format!("ES256 public key: {e}")))?;
        Ok(JwtAuthenticator::new(key, Algorithm::ES256))
    }

    fn new(key: DecodingKey, algorithm: Algorithm) -> JwtAuthenticator {
        let mut validation = Validation::new(algorithm);
        // Checked only when an audience is asked for (`audience`).
        validation.validate_aud = false;
        JwtAuthenticator { key, validation }
    }

    /// Only tokens whose `iss` is `issuer`.
    pub fn issuer(mut self, issuer: &str) -> JwtAuthenticator {
        self.validation.set_issuer(&[issuer]);
        self
    }

    /// Only tokens whose `aud` names `audience`.
    pub fn audience(mut self, audience: &str) -> JwtAuthenticator {
        self.validation.set_audience(&[audience]);
        self.validation.validate_aud = true;
        self
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate(&self, request: &Request) -> Result<Option<Principal>, Status> {
        let Some(credentials) = request.attachments().get(AUTHORIZATION) else { return Ok(None) };
        let Some(token) = bearer_token(credentials) else { return Ok(None) };
        let verified =
            jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &self.key, &self.validation)
                .map_err(|e| Status::unauthenticated(format!("bearer token refused: {e}; not run")))?;
        let claims = verified.claims;
        let subject = claims.get("sub").and_then(|s| s.as_str()).unwrap_or_default().to_string();
        Ok(Some(Principal::with_claims(subject, claims)))
    }
}

/// The token of `Bearer <token>` (the scheme's case does not matter); `None` for another
/// scheme.
fn bearer_token(credentials: &str) -> Option<&str> {
    let (scheme, token) = credentials.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;
    use crate::Code;

    const SECRET: &[u8] = b"a secret of at least 32 bytes....";

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    fn token(claims: serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn request(authorization: Option<&str>) -> Request {
        let mut request = Request::new("demo.Greeter", "hello", Bytes::new());
        if let Some(value) = authorization {
            request.attachments_mut().insert(AUTHORIZATION, value);
        }
        request
    }

    #[test]
    fn a_valid_token_gives_its_subject_and_claims() {
        let jwt = JwtAuthenticator::hs256(SECRET).issuer("issuer").audience("billing");
        let good = token(
            serde_json::json!({"sub": "alice", "iss": "issuer", "aud": "billing", "exp": now() + 60, "role": "admin"}),
            SECRET,
        );
        let principal = jwt.authenticate(&request(Some(&format!("Bearer {good}")))).unwrap().unwrap();
        assert_eq!(principal.subject, "alice");
        assert_eq!(principal.claims["role"], "admin");
        assert!(jwt.authenticate(&request(Some(&format!("bearer  {good}")))).unwrap().is_some(), "scheme case");
    }

    #[test]
    fn no_credentials_or_another_scheme_is_none_and_a_bad_token_is_unauthenticated() {
        let jwt = JwtAuthenticator::hs256(SECRET).issuer("issuer");
        assert!(jwt.authenticate(&request(None)).unwrap().is_none());
        assert!(jwt.authenticate(&request(Some("Basic YWxpY2U6cHc="))).unwrap().is_none());
        let cases = [
            ("expired", token(serde_json::json!({"sub": "a", "iss": "issuer", "exp": now() - 600}), SECRET)),
            ("no expiry", token(serde_json::json!({"sub": "a", "iss": "issuer"}), SECRET)),
            ("wrong issuer", token(serde_json::json!({"sub": "a", "iss": "other", "exp": now() + 60}), SECRET)),
            (
                "wrong key",
                token(
                    serde_json::json!({"sub": "a", "iss": "issuer", "exp": now() + 60}),
                    b"another secret of 32 bytes or more",
                ),
            ),
            ("garbage", "not.a.jwt".to_string()),
        ];
        for (case, bad) in cases {
            let refused = jwt.authenticate(&request(Some(&format!("Bearer {bad}")))).unwrap_err();
            assert_eq!(refused.code(), Code::Unauthenticated, "{case}");
        }
    }
}

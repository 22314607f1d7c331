use percent_encoding::percent_decode_str;

/// A user name and password for a registry that checks them: ZooKeeper's `digest` scheme,
/// etcd's users. In a registry URL they come as Dubbo writes them, before the host
/// (`zookeeper://user:password@host:port`, percent-encoded where needed). `Debug` leaves the
/// password out.
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// let credentials = rpc::registry::Credentials::new("alice", "s3cret");
/// assert_eq!(format!("{credentials:?}"), r#"Credentials { username: "alice", password: "…" }"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    password: String,
}

impl Credentials {
    /// `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials { username: username.into(), password: password.into() }
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The credentials in a URL's location (`user:password@host:port,…`) and the rest of it.
    pub(crate) fn split_from(location: &str) -> (Option<Credentials>, &str) {
        let Some((userinfo, hosts)) = location.rsplit_once('@') else { return (None, location) };
        let decode = |part: &str| percent_decode_str(part).decode_utf8_lossy().into_owned();
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        (Some(Credentials::new(decode(user), decode(password))), hosts)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"…").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_before_the_hosts_percent_decoded() {
        let (credentials, hosts) = Credentials::split_from("alice:p%40ss%3Aword@127.0.0.1:2181,127.0.0.1:2182");
        let credentials = credentials.unwrap();
        assert_eq!((credentials.username.as_str(), credentials.password()), ("alice", "p@ss:word"));
        assert_eq!(hosts, "127.0.0.1:2181,127.0.0.1:2182");
        assert_eq!(Credentials::split_from("127.0.0.1:2181"), (None, "127.0.0.1:2181"));
    }
}

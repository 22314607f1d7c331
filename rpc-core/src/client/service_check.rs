//! A cluster channel's settings checked against the service it calls: a setting for a method
//! the service does not have, a consistent-hash key naming no argument, providers looked up
//! under another name. With the service's descriptor at hand when the channel is built
//! ([`ChannelBuilder::service`](super::ChannelBuilder::service), or a descriptor given to
//! [`registry`](super::ChannelBuilder::registry)) a problem fails the build; otherwise the
//! first call, which carries its descriptor, logs each problem once as a warning.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::cluster::{Balance, HashKey};
use crate::{MethodKind, Request, ServiceDescriptor};

/// What of a channel's settings is checked, kept until the check has run.
#[derive(Debug, Clone)]
pub(crate) struct ServiceCheck {
    /// The service name providers are looked up under, for a registry channel.
    pub(crate) discovers: Option<String>,
    /// The channel's balancer.
    pub(crate) balance: Balance,
    /// Per-method settings: the method name and its balancer, if it has its own.
    pub(crate) methods: Vec<(String, Option<Balance>)>,
}

/// What the check found: errors fail a build, warnings are logged.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Problems {
    pub(crate) errors: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

impl ServiceCheck {
    /// Whether some setting could be wrong for some service (else checking is no use).
    pub(crate) fn has_settings_to_check(&self) -> bool {
        self.discovers.is_some()
            || !self.methods.is_empty()
            || matches!(self.balance, Balance::ConsistentHash { key: HashKey::Arg(_), .. })
    }

    pub(crate) fn against(&self, service: &ServiceDescriptor) -> Problems {
        let mut problems = Problems::default();
        if let Some(name) = self.discovers.as_deref().filter(|name| *name != service.name) {
            problems.errors.push(format!(
                "the channel looks up providers of {name:?} in the registry, but calls {}",
                service.name
            ));
        }
        for (method, balance) in &self.methods {
            let Some(descriptor) = service.method(method) else {
                problems.errors.push(unknown_method(service, method));
                continue;
            };
            if let Some(Balance::ConsistentHash { key: HashKey::Arg(index), .. }) = balance {
                if let Some(why) = no_argument(service, descriptor, *index) {
                    problems.errors.push(why);
                }
            }
        }
        if let Balance::ConsistentHash { key: HashKey::Arg(index), .. } = self.balance {
            // Methods with a balancer of their own do not use the channel's.
            let uses_channel_balance =
                |m: &&crate::MethodDescriptor| !self.methods.iter().any(|(name, b)| name == m.name && b.is_some());
            let lacking: Vec<&str> = service
                .methods
                .iter()
                .filter(uses_channel_balance)
                .filter(|m| no_argument(service, m, index).is_some())
                .map(|m| m.name)
                .collect();
            let using = service.methods.iter().filter(uses_channel_balance).count();
            if !lacking.is_empty() && lacking.len() == using {
                problems.errors.push(format!(
                    "consistent hashing on HashKey::Arg({index}): no method of {} has argument {index}",
                    service.name
                ));
            } else if !lacking.is_empty() {
                problems.warnings.push(format!(
                    "consistent hashing on HashKey::Arg({index}): calls to {} of {} have no argument {index} and are placed at random (give them a balancer of their own with .method(…))",
                    lacking.join(", "),
                    service.name
                ));
            }
        }
        problems
    }
}

/// Why `HashKey::Arg(index)` names nothing of `method`, if it does not.
fn no_argument(service: &ServiceDescriptor, method: &crate::MethodDescriptor, index: usize) -> Option<String> {
    if method.kind != MethodKind::Unary {
        return Some(format!(
            "{}/{} streams, and streams are not placed by argument: hash them with HashKey::Attachment",
            service.name, method.name
        ));
    }
    (index >= method.arguments.len()).then(|| {
        let count = method.arguments.len();
        let s = if count == 1 { "" } else { "s" };
        format!(
            "HashKey::Arg({index}) names no argument of {}/{}: it takes {count} argument{s} ({})",
            service.name,
            method.name,
            method.arguments.join(", ")
        )
    })
}

fn unknown_method(service: &ServiceDescriptor, method: &str) -> String {
    let names: Vec<&str> = service.methods.iter().map(|m| m.name).collect();
    let near = names.iter().find(|name| name.eq_ignore_ascii_case(method));
    let hint = near.map(|name| format!("; did you mean {name:?}?")).unwrap_or_default();
    format!("{} has no method {method:?} (it has: {}){hint}", service.name, names.join(", "))
}

/// A check left for the first call, because the channel was built without the service's
/// descriptor.
#[derive(Debug)]
pub(crate) struct FirstCallCheck {
    check: ServiceCheck,
    done: AtomicBool,
}

impl FirstCallCheck {
    pub(crate) fn new(check: ServiceCheck) -> FirstCallCheck {
        FirstCallCheck { check, done: AtomicBool::new(false) }
    }

    /// Logs what is wrong of the channel's settings for `request`'s service, on the first
    /// call that carries a descriptor (one atomic load a call afterwards).
    pub(crate) fn on_call(&self, request: &Request) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        let Some(service) = request.descriptor() else { return };
        if self.done.swap(true, Ordering::Relaxed) {
            return;
        }
        let problems = self.check.against(service);
        for problem in problems.errors.iter().chain(&problems.warnings) {
            tracing::warn!(service = service.name, "channel settings: {problem}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ServiceCheck, ServiceDescriptor};
    use crate::cluster::{Balance, HashKey};
    use crate::{MethodDescriptor, MethodKind};

    static KV: ServiceDescriptor = ServiceDescriptor {
        name: "demo.Kv",
        version: "",
        serialization: crate::SerializationId::MsgPack,
        methods: &[
            MethodDescriptor {
                name: "get",
                arguments: &["key"],
                idempotent: true,
                oneway: false,
                kind: MethodKind::Unary,
                java_parameters: "Ljava/lang/String;",
                java_return: "Ljava/lang/String;",
            },
            MethodDescriptor {
                name: "put",
                arguments: &["key", "value"],
                idempotent: false,
                oneway: false,
                kind: MethodKind::Unary,
                java_parameters: "Ljava/lang/String;Ljava/lang/String;",
                java_return: "V",
            },
            MethodDescriptor {
                name: "size",
                arguments: &[],
                idempotent: true,
                oneway: false,
                kind: MethodKind::Unary,
                java_parameters: "",
                java_return: "J",
            },
        ],
    };

    fn hash(index: usize) -> Balance {
        Balance::ConsistentHash { key: HashKey::Arg(index), vnodes: 160 }
    }

    fn check(balance: Balance, methods: &[(&str, Option<Balance>)]) -> ServiceCheck {
        ServiceCheck {
            discovers: None,
            balance,
            methods: methods.iter().map(|(name, b)| (name.to_string(), b.clone())).collect(),
        }
    }

    #[test]
    fn a_setting_for_a_method_the_service_lacks_is_an_error() {
        let problems = check(Balance::RoundRobin, &[("Get", None)]).against(&KV);
        assert_eq!(problems.errors, ["demo.Kv has no method \"Get\" (it has: get, put, size); did you mean \"get\"?"]);
    }

    #[test]
    fn a_hash_key_naming_no_argument_is_an_error() {
        let problems = check(Balance::RoundRobin, &[("get", Some(hash(5)))]).against(&KV);
        assert_eq!(problems.errors, ["HashKey::Arg(5) names no argument of demo.Kv/get: it takes 1 argument (key)"]);
        assert!(check(Balance::RoundRobin, &[("put", Some(hash(1)))]).against(&KV).errors.is_empty());
    }

    #[test]
    fn a_channel_hash_key_some_methods_lack_is_a_warning_and_one_all_lack_an_error() {
        let problems = check(hash(0), &[]).against(&KV);
        assert!(problems.errors.is_empty(), "{problems:?}");
        assert_eq!(problems.warnings.len(), 1);
        assert!(problems.warnings[0].contains("calls to size of demo.Kv have no argument 0"), "{problems:?}");
        // `size` has a balancer of its own: nothing is placed at random.
        assert_eq!(check(hash(0), &[("size", Some(Balance::RoundRobin))]).against(&KV), Default::default());
        let problems = check(hash(2), &[]).against(&KV);
        assert_eq!(problems.errors, ["consistent hashing on HashKey::Arg(2): no method of demo.Kv has argument 2"]);
    }

    #[test]
    fn only_settings_that_could_be_wrong_are_kept_for_the_first_call() {
        assert!(!check(Balance::RoundRobin, &[]).has_settings_to_check());
        assert!(check(Balance::RoundRobin, &[("get", None)]).has_settings_to_check());
        assert!(check(hash(0), &[]).has_settings_to_check());
        let by_attachment = Balance::ConsistentHash { key: HashKey::Attachment("user".into()), vnodes: 160 };
        assert!(!check(by_attachment, &[]).has_settings_to_check());
    }

    #[test]
    fn looking_providers_up_under_another_name_is_an_error() {
        let mut typo = check(Balance::RoundRobin, &[]);
        typo.discovers = Some("demo.Kvv".into());
        let problems = typo.against(&KV);
        assert_eq!(
            problems.errors,
            ["the channel looks up providers of \"demo.Kvv\" in the registry, but calls demo.Kv"]
        );
    }
}

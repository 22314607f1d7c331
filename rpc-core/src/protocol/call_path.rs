//! The call an HTTP path names, `/{service}/{method}`, as gRPC and Dubbo's Triple (over
//! HTTP/2 and HTTP/1.1) spell it.

/// `(service, method)` of a path `/{service}/{method}`; `None` for any other shape.
pub(crate) fn service_and_method(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix('/')
        .and_then(|path| path.split_once('/'))
        .filter(|(service, method)| !service.is_empty() && !method.is_empty() && !method.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::service_and_method;

    #[test]
    fn only_service_slash_method_is_a_call() {
        assert_eq!(service_and_method("/demo.Greeter/hello"), Some(("demo.Greeter", "hello")));
        for path in ["/", "//m", "/s/", "/s/m/x", "s/m", "/s"] {
            assert_eq!(service_and_method(path), None, "{path}");
        }
    }
}

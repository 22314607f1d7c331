//! A REST body as the JSON argument list the generated server reads: `()` as `null`, one
//! argument as its value, several as an array.

use bytes::Bytes;

use crate::MethodDescriptor;

/// The arguments of `method` from a request body, or why they are not there.
pub(crate) fn from_body(method: &MethodDescriptor, body: &[u8]) -> Result<Bytes, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?.trim();
    let arity = method.arguments.len();
    if text.is_empty() {
        return match arity {
            0 => Ok(Bytes::from_static(b"null")),
            n => Err(format!("{} takes {n} arguments and the body is empty", method.name)),
        };
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("the body is not JSON: {e}"))?;
    let value = match (arity, value) {
        (0, serde_json::Value::Null) => serde_json::Value::Null,
        (0, serde_json::Value::Array(items)) if items.is_empty() => serde_json::Value::Null,
        (0, _) => return Err(format!("{} takes no arguments", method.name)),
        (1, serde_json::Value::Array(mut items)) if items.len() == 1 && !takes_a_list(method) => items.remove(0),
        (1, value) => value,
        (n, serde_json::Value::Array(items)) if items.len() == n => serde_json::Value::Array(items),
        (n, serde_json::Value::Object(mut fields)) => {
            let mut items = Vec::with_capacity(n);
            for name in method.arguments {
                items.push(fields.remove(*name).ok_or_else(|| format!("argument `{name}` is missing"))?);
            }
            serde_json::Value::Array(items)
        }
        (n, _) => return Err(format!("{} takes {n} arguments: send a JSON array of {n}", method.name)),
    };
    serde_json::to_vec(&value).map(Bytes::from).map_err(|e| e.to_string())
}

/// Whether a method's one argument is a list or array in Java's terms, so a JSON array is it.
fn takes_a_list(method: &MethodDescriptor) -> bool {
    let java = method.java_parameters;
    java.starts_with('[') || matches!(java, "Ljava/util/List;" | "Ljava/util/Set;" | "Ljava/util/Collection;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MethodKind;

    fn method(arguments: &'static [&'static str], java: &'static str) -> MethodDescriptor {
        MethodDescriptor {
            name: "m",
            arguments,
            idempotent: false,
            oneway: false,
            kind: MethodKind::Unary,
            java_parameters: java,
            java_return: "V",
        }
    }

    #[test]
    fn bodies_become_argument_lists() {
        let one = method(&["name"], "Ljava/lang/String;");
        assert_eq!(from_body(&one, br#""x""#).unwrap(), &br#""x""#[..]);
        assert_eq!(from_body(&one, br#"["x"]"#).unwrap(), &br#""x""#[..], "one element, unwrapped");
        let list = method(&["names"], "Ljava/util/List;");
        assert_eq!(from_body(&list, br#"["x"]"#).unwrap(), &br#"["x"]"#[..], "a list stays a list");
        let two = method(&["a", "b"], "II");
        assert_eq!(from_body(&two, b"[1, 2]").unwrap(), &b"[1,2]"[..]);
        assert_eq!(from_body(&two, br#"{"b": 2, "a": 1}"#).unwrap(), &b"[1,2]"[..], "by name");
        assert!(from_body(&two, b"[1]").is_err());
        assert!(from_body(&two, br#"{"a": 1}"#).unwrap_err().contains("`b` is missing"));
        let none = method(&[], "");
        assert_eq!(from_body(&none, b"").unwrap(), &b"null"[..]);
        assert_eq!(from_body(&none, b"[]").unwrap(), &b"null"[..]);
        assert!(from_body(&one, b"{nope").unwrap_err().contains("not JSON"));
    }
}

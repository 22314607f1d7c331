//! The JVM type descriptor of a Rust type, read from its syntax, for dubbo2's parameter-type
//! string and Triple's wrapper (Dubbo matches a call to a Java method by these). A type the
//! mapping does not know is `java.lang.Object`; `#[rpc(java = "Lpkg/Name;")]` on an argument
//! (or `java_return` on the method) names the Java class instead.

use syn::{GenericArgument, PathArguments, Type};

/// `I` for `i32`, `Ljava/lang/String;` for `String`, `Ljava/util/List;` for `Vec<T>`, …
pub fn descriptor(ty: &Type) -> String {
    let Some((name, args)) = last_segment(ty) else {
        return match ty {
            Type::Tuple(tuple) if tuple.elems.is_empty() => "V".into(),
            Type::Reference(reference) => descriptor(&reference.elem),
            Type::Paren(paren) => descriptor(&paren.elem),
            _ => OBJECT.into(),
        };
    };
    let first = args.first().cloned();
    match name.as_str() {
        "bool" => "Z".into(),
        "i8" | "u8" => "B".into(),
        "i16" => "S".into(),
        "i32" | "u16" => "I".into(),
        "i64" | "u32" | "u64" | "isize" | "usize" => "J".into(),
        "f32" => "F".into(),
        "f64" => "D".into(),
        "char" => "C".into(),
        "String" | "str" | "ByteString" => "Ljava/lang/String;".into(),
        "Bytes" | "BytesMut" | "ByteBuf" => "[B".into(),
        "Vec" if first.as_ref().is_some_and(|t| matches!(last_segment(t), Some((n, _)) if n == "u8")) => "[B".into(),
        "Vec" | "VecDeque" | "LinkedList" => "Ljava/util/List;".into(),
        "HashSet" | "BTreeSet" => "Ljava/util/Set;".into(),
        "HashMap" | "BTreeMap" => "Ljava/util/Map;".into(),
        "Box" | "Arc" | "Rc" => first.as_ref().map_or_else(|| OBJECT.into(), descriptor),
        "Option" => first.as_ref().map_or_else(|| OBJECT.into(), boxed),
        _ => OBJECT.into(),
    }
}

const OBJECT: &str = "Ljava/lang/Object;";

/// The descriptor of a nullable `T`: primitives become their wrapper classes.
fn boxed(ty: &Type) -> String {
    let descriptor = descriptor(ty);
    let wrapper = match descriptor.as_str() {
        "Z" => "Boolean",
        "B" => "Byte",
        "S" => "Short",
        "I" => "Integer",
        "J" => "Long",
        "F" => "Float",
        "D" => "Double",
        "C" => "Character",
        _ => return descriptor,
    };
    format!("Ljava/lang/{wrapper};")
}

fn last_segment(ty: &Type) -> Option<(String, Vec<Type>)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let args = match &last.arguments {
        PathArguments::AngleBracketed(generics) => generics
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((last.ident.to_string(), args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(ty: &str) -> String {
        descriptor(&syn::parse_str(ty).unwrap())
    }

    #[test]
    fn rust_types_map_to_java_descriptors() {
        assert_eq!(of("String"), "Ljava/lang/String;");
        assert_eq!(of("i32"), "I");
        assert_eq!(of("i64"), "J");
        assert_eq!(of("Option<i32>"), "Ljava/lang/Integer;");
        assert_eq!(of("Vec<u8>"), "[B");
        assert_eq!(of("Vec<String>"), "Ljava/util/List;");
        assert_eq!(of("std::collections::HashMap<String, i64>"), "Ljava/util/Map;");
        assert_eq!(of("Box<f64>"), "D");
        assert_eq!(of("()"), "V");
        assert_eq!(of("User"), "Ljava/lang/Object;");
    }
}

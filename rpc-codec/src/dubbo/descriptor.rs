//! JVM parameter-type descriptors, as dubbo2 requests carry them (`ReflectUtils.getDesc`):
//! `Z B C D F I J S V`, `[` for arrays, `Lpkg/Name;` for classes, concatenated.

/// The parameter types of a descriptor such as `I[ZLjava/lang/Object;`, each as its own
/// descriptor, or `None` if it is malformed.
pub fn parameter_types(desc: &str) -> Option<Vec<&str>> {
    let bytes = desc.as_bytes();
    let mut types = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        match bytes[pos] {
            b'[' => {
                pos += 1;
                continue;
            }
            b'Z' | b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'V' => pos += 1,
            b'L' => pos += desc[pos..].find(';')? + 1,
            _ => return None,
        }
        types.push(&desc[start..pos]);
        start = pos;
    }
    (start == bytes.len()).then_some(types)
}

/// How many parameters a descriptor has, or `None` if it is malformed; allocates nothing.
pub fn parameter_count(desc: &str) -> Option<usize> {
    let bytes = desc.as_bytes();
    let (mut count, mut pos) = (0, 0);
    while pos < bytes.len() {
        match bytes[pos] {
            b'[' => {
                pos += 1;
                if pos == bytes.len() {
                    return None;
                }
                continue;
            }
            b'Z' | b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'V' => pos += 1,
            b'L' => pos += desc[pos..].find(';')? + 1,
            _ => return None,
        }
        count += 1;
    }
    Some(count)
}

/// A descriptor as Java's `Class.getName()` spells it, as Triple's wrapper carries it:
/// `I` → `int`, `Ljava/lang/String;` → `java.lang.String`, `[I` → `[I`,
/// `[Ljava/lang/String;` → `[Ljava.lang.String;`.
pub fn class_name(desc: &str) -> String {
    if desc.starts_with('[') {
        return desc.replace('/', ".");
    }
    match desc {
        "Z" => "boolean".into(),
        "B" => "byte".into(),
        "C" => "char".into(),
        "D" => "double".into(),
        "F" => "float".into(),
        "I" => "int".into(),
        "J" => "long".into(),
        "S" => "short".into(),
        "V" => "void".into(),
        other => other.strip_prefix('L').and_then(|s| s.strip_suffix(';')).unwrap_or(other).replace('/', "."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_split_into_parameters() {
        assert_eq!(parameter_types("I[ZLjava/lang/Object;"), Some(vec!["I", "[Z", "Ljava/lang/Object;"]));
        assert_eq!(parameter_types(""), Some(vec![]));
        assert_eq!(parameter_types("Ljava/lang/String;II"), Some(vec!["Ljava/lang/String;", "I", "I"]));
        assert_eq!(parameter_types("Ljava/lang/String"), None);
        assert_eq!(parameter_types("["), None);
        assert_eq!(parameter_types("Q"), None);
        for desc in ["I[ZLjava/lang/Object;", "", "Ljava/lang/String;II", "Ljava/lang/String", "[", "Q", "[[I"] {
            assert_eq!(parameter_count(desc), parameter_types(desc).map(|t| t.len()), "{desc}");
        }
    }

    #[test]
    fn class_names_are_javas() {
        assert_eq!(class_name("I"), "int");
        assert_eq!(class_name("Ljava/lang/String;"), "java.lang.String");
        assert_eq!(class_name("[I"), "[I");
        assert_eq!(class_name("[Ljava/lang/String;"), "[Ljava.lang.String;");
    }
}

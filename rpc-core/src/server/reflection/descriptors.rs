//! The `.proto` files a server describes, indexed as reflection asks for them: by file name,
//! by the symbols each defines, and by the extensions each declares.

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;
use prost::Message;
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// Files by name, and where each symbol and extension is defined.
#[derive(Default)]
pub(crate) struct Descriptors {
    /// Each file serialized, and the files it imports.
    files: HashMap<String, (Bytes, Vec<String>)>,
    /// Fully qualified names (no leading dot) of messages, enums, services, methods and
    /// extensions, to the file that defines them.
    symbols: HashMap<String, String>,
    /// (extended message, field number) to the file declaring the extension.
    extensions: HashMap<(String, i32), String>,
}

impl Descriptors {
    /// Adds the files of a serialized `FileDescriptorSet` (what `rpc-build` generates as
    /// `FILE_DESCRIPTOR_SET`, or `protoc --include_imports -o`).
    pub(crate) fn add_set(&mut self, set: &[u8]) -> Result<(), prost::DecodeError> {
        for file in FileDescriptorSet::decode(set)?.file {
            self.add_file(file);
        }
        Ok(())
    }

    fn add_file(&mut self, file: FileDescriptorProto) {
        let name = file.name().to_string();
        let package = file.package();
        let prefix = if package.is_empty() { String::new() } else { format!("{package}.") };
        let mut symbols = Vec::new();
        let mut extensions = Vec::new();
        for message in &file.message_type {
            index_message(&prefix, message, &mut symbols, &mut extensions);
        }
        for enumeration in &file.enum_type {
            symbols.push(format!("{prefix}{}", enumeration.name()));
        }
        index_extensions(&prefix, &file.extension, &mut symbols, &mut extensions);
        for service in &file.service {
            let service_name = format!("{prefix}{}", service.name());
            for method in &service.method {
                symbols.push(format!("{service_name}.{}", method.name()));
            }
            symbols.push(service_name);
        }
        for symbol in symbols {
            self.symbols.insert(symbol, name.clone());
        }
        for extension in extensions {
            self.extensions.insert(extension, name.clone());
        }
        let imports = file.dependency.clone();
        self.files.insert(name, (file.encode_to_vec().into(), imports));
    }

    /// The file named `name` and everything it imports, transitively: the file first.
    pub(crate) fn file_by_name(&self, name: &str) -> Option<Vec<Bytes>> {
        self.files.contains_key(name).then(|| self.with_imports(name))
    }

    /// The file defining `symbol` (a message, enum, service, method or extension), with
    /// its imports.
    pub(crate) fn file_containing_symbol(&self, symbol: &str) -> Option<Vec<Bytes>> {
        let file = self.symbols.get(symbol.trim_start_matches('.'))?;
        Some(self.with_imports(file))
    }

    /// The file declaring extension `number` of `message`, with its imports.
    pub(crate) fn file_containing_extension(&self, message: &str, number: i32) -> Option<Vec<Bytes>> {
        let file = self.extensions.get(&(message.trim_start_matches('.').to_string(), number))?;
        Some(self.with_imports(file))
    }

    /// The extension numbers declared for `message`, if it is a known message.
    pub(crate) fn extension_numbers(&self, message: &str) -> Option<Vec<i32>> {
        let message = message.trim_start_matches('.');
        self.symbols.get(message)?;
        let mut numbers: Vec<i32> =
            self.extensions.keys().filter(|(extended, _)| extended == message).map(|(_, number)| *number).collect();
        numbers.sort_unstable();
        Some(numbers)
    }

    fn with_imports(&self, first: &str) -> Vec<Bytes> {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([first.to_string()]);
        let mut files = Vec::new();
        while let Some(name) = queue.pop_front() {
            if !seen.insert(name.clone()) {
                continue;
            }
            // An import outside the set (compiled without --include_imports) is left out.
            if let Some((bytes, imports)) = self.files.get(&name) {
                files.push(bytes.clone());
                queue.extend(imports.iter().cloned());
            }
        }
        files
    }
}

fn index_message(
    prefix: &str,
    message: &DescriptorProto,
    symbols: &mut Vec<String>,
    extensions: &mut Vec<(String, i32)>,
) {
    let name = format!("{prefix}{}", message.name());
    let nested_prefix = format!("{name}.");
    for nested in &message.nested_type {
        index_message(&nested_prefix, nested, symbols, extensions);
    }
    for enumeration in &message.enum_type {
        symbols.push(enum_name(&nested_prefix, enumeration));
    }
    index_extensions(&nested_prefix, &message.extension, symbols, extensions);
    symbols.push(name);
}

fn enum_name(prefix: &str, enumeration: &EnumDescriptorProto) -> String {
    format!("{prefix}{}", enumeration.name())
}

fn index_extensions(
    prefix: &str,
    fields: &[FieldDescriptorProto],
    symbols: &mut Vec<String>,
    extensions: &mut Vec<(String, i32)>,
) {
    for field in fields {
        symbols.push(format!("{prefix}{}", field.name()));
        extensions.push((field.extendee().trim_start_matches('.').to_string(), field.number()));
    }
}

#[cfg(test)]
mod tests {
    use prost_types::{MethodDescriptorProto, ServiceDescriptorProto};

    use super::*;

    fn set() -> Vec<u8> {
        let base = FileDescriptorProto {
            name: Some("base.proto".into()),
            package: Some("base".into()),
            message_type: vec![DescriptorProto {
                name: Some("Options".into()),
                nested_type: vec![DescriptorProto { name: Some("Inner".into()), ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let api = FileDescriptorProto {
            name: Some("api.proto".into()),
            package: Some("shop.v1".into()),
            dependency: vec!["base.proto".into()],
            service: vec![ServiceDescriptorProto {
                name: Some("Cart".into()),
                method: vec![MethodDescriptorProto { name: Some("Add".into()), ..Default::default() }],
                ..Default::default()
            }],
            extension: vec![FieldDescriptorProto {
                name: Some("color".into()),
                number: Some(1000),
                extendee: Some(".base.Options".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        FileDescriptorSet { file: vec![base, api] }.encode_to_vec()
    }

    fn names(files: Option<Vec<Bytes>>) -> Vec<String> {
        files
            .expect("found")
            .iter()
            .map(|bytes| FileDescriptorProto::decode(bytes.clone()).expect("a file").name().to_string())
            .collect()
    }

    #[test]
    fn symbols_lead_to_their_file_and_its_imports() {
        let mut descriptors = Descriptors::default();
        descriptors.add_set(&set()).expect("a set");
        assert_eq!(names(descriptors.file_containing_symbol("shop.v1.Cart")), ["api.proto", "base.proto"]);
        assert_eq!(names(descriptors.file_containing_symbol("shop.v1.Cart.Add")), ["api.proto", "base.proto"]);
        assert_eq!(names(descriptors.file_containing_symbol(".base.Options.Inner")), ["base.proto"]);
        assert_eq!(names(descriptors.file_by_name("base.proto")), ["base.proto"]);
        assert_eq!(names(descriptors.file_containing_extension("base.Options", 1000)), ["api.proto", "base.proto"]);
        assert_eq!(descriptors.extension_numbers("base.Options"), Some(vec![1000]));
        assert_eq!(descriptors.extension_numbers("base.Nope"), None);
        assert!(descriptors.file_containing_symbol("shop.v1.Nope").is_none());
        assert!(descriptors.file_by_name("nope.proto").is_none());
    }

    #[test]
    fn bytes_that_are_no_descriptor_set_are_refused() {
        assert!(Descriptors::default().add_set(b"\xff\xff\xff").is_err());
    }
}

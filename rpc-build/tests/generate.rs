//! Runs the generator on small `.proto` files (needs protoc, as any prost build does).

use std::path::PathBuf;

fn scratch(name: &str, proto: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("rpc-build-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.proto"));
    std::fs::write(&file, proto).unwrap();
    (dir, file)
}

fn compile(dir: &PathBuf, file: &PathBuf) -> std::io::Result<()> {
    let mut config = prost_build::Config::new();
    config.out_dir(dir);
    rpc_build::compile_with_config(config, &[file], &[dir])
}

#[test]
fn a_unary_service_becomes_an_rpc_service_trait() {
    let (dir, file) = scratch(
        "unary",
        r#"syntax = "proto3"; package demo.v1;
        // Says hi.
        service Hi { rpc Say (Word) returns (Word) { option idempotency_level = NO_SIDE_EFFECTS; } rpc Shout (Word) returns (Word); }
        message Word { string text = 1; }"#,
    );
    compile(&dir, &file).unwrap();
    let generated = std::fs::read_to_string(dir.join("demo.v1.rs")).unwrap();
    assert!(generated.contains("/// Says hi."), "{generated}");
    assert!(generated.contains(r#"#[::rpc::service(name = "demo.v1.Hi", serialization = "protobuf")]"#), "{generated}");
    assert!(generated.contains(r#"#[rpc(name = "Say", idempotent)]"#), "{generated}");
    assert!(generated.contains(r#"#[rpc(name = "Shout")]"#), "{generated}");
    assert!(generated.contains("async fn say(&self, request: Word) -> ::core::result::Result<Word, ::rpc::Status>;"));
    // The descriptors, in the code itself: `unary.proto` is in them.
    let set = generated.split("pub const FILE_DESCRIPTOR_SET: &[u8] = b\"").nth(1).expect("the descriptor set");
    let set = set.split('"').next().expect("its end");
    let bytes: Vec<u8> =
        set.split("\\x").skip(1).map(|hex| u8::from_str_radix(hex, 16).expect("two hex digits")).collect();
    let needle = b"unary.proto";
    assert!(bytes.windows(needle.len()).any(|w| w == needle), "{} bytes", bytes.len());
}

#[test]
fn streaming_methods_take_and_return_streams() {
    let (dir, file) = scratch(
        "streaming",
        r#"syntax = "proto3"; package demo;
        service Feed { rpc Watch (Word) returns (stream Word); rpc Upload (stream Word) returns (Word); rpc Chat (stream Word) returns (stream Word); }
        message Word { string text = 1; }"#,
    );
    compile(&dir, &file).unwrap();
    let generated = std::fs::read_to_string(dir.join("demo.rs")).unwrap();
    let flat: String = generated.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "async fn watch( &self, request: Word, ) -> ::core::result::Result<::rpc::Streaming<Word>, ::rpc::Status>;"
        ),
        "{generated}"
    );
    assert!(flat.contains("async fn upload( &self, request: ::rpc::Streaming<Word>, ) -> ::core::result::Result<Word, ::rpc::Status>;"), "{generated}");
    assert!(flat.contains("async fn chat( &self, request: ::rpc::Streaming<Word>, ) -> ::core::result::Result<::rpc::Streaming<Word>, ::rpc::Status>;"), "{generated}");
}

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=proto");
    rpc_build::compile_protos(&["proto/greeter.proto"], &["proto"])
}

// An error type that does not convert to and from rpc::Status: one error, at the type.
#[rpc::service(name = "demo.Kv")]
trait Kv {
    async fn get(&self, key: String) -> Result<String, String>;
    #[rpc(idempotent)]
    async fn size(&self) -> Result<u64, std::io::Error>;
}

fn main() {}

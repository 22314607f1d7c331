#[rpc::service]
trait Log {
    #[rpc(oneway)]
    async fn write(&self, line: String) -> Result<u64, rpc::Status>;
}

fn main() {}

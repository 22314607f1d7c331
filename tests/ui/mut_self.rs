#[rpc::service]
trait Counter {
    async fn bump(&mut self) -> Result<u64, rpc::Status>;
}

fn main() {}

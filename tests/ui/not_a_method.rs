#[rpc::service]
trait Greeter {
    const GREETING: &'static str;
    async fn hello(&self, name: String) -> Result<String, rpc::Status>;
}

fn main() {}

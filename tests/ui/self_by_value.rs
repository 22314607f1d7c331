#[rpc::service]
trait Greeter {
    async fn hello(self, name: String) -> Result<String, rpc::Status>;
}

fn main() {}

#[rpc::service]
trait Greeter {
    async fn hello(&self, name: String) -> String;
}

fn main() {}

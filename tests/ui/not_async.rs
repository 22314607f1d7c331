#[rpc::service]
trait Greeter {
    fn hello(&self, name: String) -> Result<String, rpc::Status>;
}

fn main() {}

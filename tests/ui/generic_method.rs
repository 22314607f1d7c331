#[rpc::service]
trait Store {
    async fn put<T: serde::Serialize>(&self, value: T) -> Result<(), rpc::Status>;
}

fn main() {}

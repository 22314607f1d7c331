#[rpc::service]
trait Store<T> {
    async fn get(&self, key: String) -> Result<T, rpc::Status>;
}

fn main() {}

// Types no serialization carries: one error at each, saying what to derive.
pub struct Entry {
    pub key: String,
    pub value: String,
}

#[rpc::service(name = "demo.Kv")]
trait Kv {
    async fn put(&self, entry: Entry) -> Result<(), rpc::Status>;
    async fn get(&self, key: String) -> Result<Entry, rpc::Status>;
    async fn put_many(&self, first: Entry, rest: Vec<String>) -> Result<(), rpc::Status>;
}

fn main() {}

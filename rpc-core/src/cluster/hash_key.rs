/// The stable 64-bit hash consistent hashing uses for keys and ring points (xxh3): the same
/// bytes hash the same in every process and every build, so consumers agree on placement.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// assert_eq!(rpc::cluster::hash_key(b"user-42"), rpc::cluster::hash_key(b"user-42"));
/// ```
pub fn hash_key(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

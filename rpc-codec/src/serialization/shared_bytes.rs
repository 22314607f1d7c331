//! Byte fields that msgpack decodes as slices of the received body instead of copies.
//!
//! serde gives a `bytes::Bytes` field only a borrowed `&[u8]`, so `Bytes`'s own
//! `Deserialize` copies it: for a 64 KiB field, one more pass over every byte on each side of
//! a call (protobuf avoids it, because prost decodes from the body's `Bytes`). Mark the field
//! `#[serde(with = "rpc::codec::shared_bytes")]` and a msgpack body decoded by `rpc` hands it
//! out as a slice of the body's memory, which stays alive as long as the field does. Other
//! deserializers (JSON, bincode, a `&[u8]` source) get a copy, as without the attribute; the
//! encoding on the wire is the same.
//!
//! ```
//! # mod rpc { pub mod codec { pub use rpc_codec::*; } }
//! use bytes::{Bytes, BytesMut};
//! use rpc::codec::{MsgPack, Serialization};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Blob {
//!     #[serde(with = "rpc::codec::shared_bytes")]
//!     data: Bytes,
//! }
//!
//! let mut body = BytesMut::new();
//! MsgPack::serialize(&Blob { data: Bytes::from(vec![7; 4096]) }, &mut body).unwrap();
//! let body = body.freeze();
//! let blob: Blob = MsgPack::deserialize_bytes(&body).unwrap();
//! let inside = body.as_ptr_range();
//! assert!(inside.contains(&blob.data.as_ptr()), "a slice of the body, not a copy");
//! ```

use std::cell::RefCell;

use bytes::Bytes;
use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

thread_local! {
    /// The body being decoded on this thread, while [`decoding_from`] runs.
    static SOURCE: RefCell<Option<Bytes>> = const { RefCell::new(None) };
}

/// Runs `decode` (which reads from `source`'s bytes) with `source` known to the fields
/// marked `shared_bytes`, so they can be taken as slices of it. Nested calls restore the
/// outer source when they end, also by panic.
pub(crate) fn decoding_from<R>(source: &Bytes, decode: impl FnOnce() -> R) -> R {
    struct Restore(Option<Bytes>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            SOURCE.with(|slot| *slot.borrow_mut() = outer);
        }
    }
    let outer = SOURCE.with(|slot| slot.replace(Some(source.clone())));
    let _restore = Restore(outer);
    decode()
}

/// `bytes` as a slice of the body being decoded if it lies inside it, else a copy.
fn share(bytes: &[u8]) -> Bytes {
    SOURCE.with(|slot| match &*slot.borrow() {
        Some(source) if !bytes.is_empty() && contains(source, bytes) => source.slice_ref(bytes),
        _ => Bytes::copy_from_slice(bytes),
    })
}

fn contains(outer: &[u8], inner: &[u8]) -> bool {
    let (outer, inner) = (outer.as_ptr_range(), inner.as_ptr_range());
    outer.start <= inner.start && inner.end <= outer.end
}

/// Writes the field as a byte string (msgpack `bin`), as `Bytes` itself does.
pub fn serialize<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

/// Reads the field, sharing the body's memory where the deserializer lends it.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
    deserializer.deserialize_bytes(SharedBytesVisitor)
}

struct SharedBytesVisitor;

impl<'de> Visitor<'de> for SharedBytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_borrowed_bytes<E: Error>(self, bytes: &'de [u8]) -> Result<Bytes, E> {
        Ok(share(bytes))
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes::copy_from_slice(bytes))
    }

    fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes::from(bytes))
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Bytes, E> {
        Ok(Bytes::copy_from_slice(text.as_bytes()))
    }

    /// Formats without byte strings (JSON) write a list of numbers.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64 * 1024));
        while let Some(byte) = seq.next_element::<u8>()? {
            bytes.push(byte);
        }
        Ok(Bytes::from(bytes))
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use crate::{Json, MsgPack, Serialization};

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Blob {
        #[serde(with = "super")]
        data: Bytes,
        name: String,
    }

    fn blob() -> Blob {
        Blob { data: Bytes::from((0..=255u8).cycle().take(5000).collect::<Vec<_>>()), name: "b".into() }
    }

    fn msgpack(value: &Blob) -> Bytes {
        let mut body = BytesMut::new();
        MsgPack::serialize(value, &mut body).unwrap();
        body.freeze()
    }

    #[test]
    fn a_msgpack_body_lends_its_memory_to_the_field() {
        let body = msgpack(&blob());
        let back: Blob = MsgPack::deserialize_bytes(&body).unwrap();
        assert_eq!(back, blob());
        assert!(body.as_ptr_range().contains(&back.data.as_ptr()), "copied");
    }

    #[test]
    fn other_sources_get_a_copy_of_the_same_value() {
        let body = msgpack(&blob());
        // A plain slice: no body to share.
        let back: Blob = MsgPack::deserialize(&body).unwrap();
        assert_eq!(back, blob());
        assert!(!body.as_ptr_range().contains(&back.data.as_ptr()));
        // JSON writes numbers.
        let mut json = BytesMut::new();
        Json::serialize(&blob(), &mut json).unwrap();
        let back: Blob = Json::deserialize_bytes(&json.freeze()).unwrap();
        assert_eq!(back, blob());
    }

    #[test]
    fn the_wire_is_what_bytes_itself_writes() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Plain {
            data: Bytes,
            name: String,
        }
        let mut plain = BytesMut::new();
        MsgPack::serialize(&Plain { data: blob().data, name: "b".into() }, &mut plain).unwrap();
        assert_eq!(msgpack(&blob()), plain.freeze());
        let plain: Plain = MsgPack::deserialize_bytes(&msgpack(&blob())).unwrap();
        assert_eq!(plain.data, blob().data);
    }

    #[test]
    fn a_source_is_known_only_while_its_decode_runs() {
        let body = msgpack(&blob());
        super::decoding_from(&body, || {
            let inner = msgpack(&blob());
            let nested: Blob = MsgPack::deserialize_bytes(&inner).unwrap();
            assert!(inner.as_ptr_range().contains(&nested.data.as_ptr()));
            // Back to the outer source once the nested decode ended.
            let outer: Blob = rmp_serde::from_slice(&body).unwrap();
            assert!(body.as_ptr_range().contains(&outer.data.as_ptr()));
        });
        let after: Blob = rmp_serde::from_slice(&body).unwrap();
        assert!(!body.as_ptr_range().contains(&after.data.as_ptr()));
    }
}

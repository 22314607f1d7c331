use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use bytestring::ByteString;

use crate::MetadataError;

/// Key/value pairs that travel with a call (Dubbo's "attachments", gRPC's custom metadata).
///
/// Kept as a small vector: calls carry few of them, and lookup by scan beats hashing there.
///
/// ```
/// # mod rpc { pub mod codec { pub use rpc_codec::*; } }
/// use rpc::codec::Attachments;
/// let mut a = Attachments::new();
/// a.insert("trace-id", "abc");
/// a.insert("trace-id", "def");
/// assert_eq!(a.get("trace-id"), Some("def"));
/// assert_eq!(a.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachments(Vec<(ByteString, ByteString)>);

impl Attachments {
    /// No attachments.
    pub const fn new() -> Self {
        Attachments(Vec::new())
    }
    /// Sets `key` to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<ByteString>, value: impl Into<ByteString>) {
        let (key, value) = (key.into(), value.into());
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| &v[..])
    }
    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<ByteString> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(index).1)
    }
    /// How many attachments there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Every key and value, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&k[..], &v[..]))
    }
}

impl<K: Into<ByteString>, V: Into<ByteString>> FromIterator<(K, V)> for Attachments {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut attachments = Attachments::new();
        for (k, v) in iter {
            attachments.insert(k, v);
        }
        attachments
    }
}

/// The metadata section of a frame: where a request goes and what travels with it.
///
/// An empty section on the wire (length 0) means every field is empty, no deadline and no
/// attachments — responses usually carry that. Strings share the frame's buffer when decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The service's wire name, e.g. `demo.Greeter`.
    pub service: ByteString,
    /// The method's wire name.
    pub method: ByteString,
    /// The service version asked for; empty for any.
    pub version: ByteString,
    /// The service group asked for; empty for the default group.
    pub group: ByteString,
    /// Time the caller still allows for the call, measured when the frame was built.
    pub timeout: Option<Duration>,
    /// The caller's key-value attachments (Dubbo's attachments, gRPC's metadata).
    pub attachments: Attachments,
}

const NO_DEADLINE: u64 = 0;

impl Metadata {
    /// Metadata addressing `method` of `service` with no version, group, deadline or attachments.
    pub fn call(service: impl Into<ByteString>, method: impl Into<ByteString>) -> Self {
        Metadata { service: service.into(), method: method.into(), ..Metadata::default() }
    }

    fn is_empty(&self) -> bool {
        self.service.is_empty()
            && self.method.is_empty()
            && self.version.is_empty()
            && self.group.is_empty()
            && self.timeout.is_none()
            && self.attachments.is_empty()
    }

    /// Bytes the section takes on the wire.
    pub fn encoded_len(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        let strings = [&self.service, &self.method, &self.version, &self.group];
        let fixed: usize = strings.iter().map(|s| 2 + s.len()).sum::<usize>() + 8 + 2;
        fixed + self.attachments.0.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>()
    }

    /// Checks that every length fits its field, so that [`Metadata::write`] cannot fail.
    pub fn validate(&self) -> Result<(), MetadataError> {
        let fields =
            [("service", &self.service), ("method", &self.method), ("version", &self.version), ("group", &self.group)];
        for (field, value) in fields {
            check_len(field, value)?;
        }
        if self.attachments.len() > usize::from(u16::MAX) {
            return Err(MetadataError::TooManyAttachments { count: self.attachments.len() });
        }
        for (k, v) in &self.attachments.0 {
            check_len("attachment key", k)?;
            check_len("attachment value", v)?;
        }
        Ok(())
    }

    /// Writes the section; call [`Metadata::validate`] first (lengths are truncated otherwise).
    pub fn write(&self, dst: &mut impl BufMut) {
        if self.is_empty() {
            return;
        }
        for s in [&self.service, &self.method, &self.version, &self.group] {
            put_str(dst, s);
        }
        // A deadline already reached still travels as 1 µs, so that it is not read as "none".
        let micros = self.timeout.map_or(NO_DEADLINE, |t| u64::try_from(t.as_micros()).unwrap_or(u64::MAX).max(1));
        dst.put_u64(micros);
        dst.put_u16(self.attachments.len() as u16);
        for (k, v) in &self.attachments.0 {
            put_str(dst, k);
            put_str(dst, v);
        }
    }

    /// Reads a section from exactly `src` (the frame's metadata bytes). Total: any input gives
    /// a value or an error, and allocation is bounded by `src.len()`.
    pub fn parse(mut src: Bytes) -> Result<Metadata, MetadataError> {
        if src.is_empty() {
            return Ok(Metadata::default());
        }
        let service = take_str(&mut src, "service")?;
        let method = take_str(&mut src, "method")?;
        let version = take_str(&mut src, "version")?;
        let group = take_str(&mut src, "group")?;
        if src.remaining() < 8 + 2 {
            return Err(MetadataError::Truncated { field: "timeout" });
        }
        let timeout = match src.get_u64() {
            NO_DEADLINE => None,
            micros => Some(Duration::from_micros(micros)),
        };
        let count = usize::from(src.get_u16());
        // Each attachment takes at least 4 bytes, which bounds the reservation by the input.
        let mut pairs = Vec::with_capacity(count.min(src.remaining() / 4));
        for _ in 0..count {
            let key = take_str(&mut src, "attachment key")?;
            let value = take_str(&mut src, "attachment value")?;
            pairs.push((key, value));
        }
        if src.has_remaining() {
            return Err(MetadataError::TrailingBytes { extra: src.remaining() });
        }
        Ok(Metadata { service, method, version, group, timeout, attachments: Attachments(pairs) })
    }
}

fn check_len(field: &'static str, value: &str) -> Result<(), MetadataError> {
    if value.len() > usize::from(u16::MAX) {
        return Err(MetadataError::TooLong { field, len: value.len() });
    }
    Ok(())
}

fn put_str(dst: &mut impl BufMut, s: &str) {
    let len = s.len().min(usize::from(u16::MAX));
    dst.put_u16(len as u16);
    dst.put_slice(&s.as_bytes()[..len]);
}

fn take_str(src: &mut Bytes, field: &'static str) -> Result<ByteString, MetadataError> {
    if src.remaining() < 2 {
        return Err(MetadataError::Truncated { field });
    }
    let len = usize::from(src.get_u16());
    if src.remaining() < len {
        return Err(MetadataError::Truncated { field });
    }
    ByteString::try_from(src.split_to(len)).map_err(|_| MetadataError::InvalidUtf8 { field })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(metadata: &Metadata) -> Metadata {
        let mut buf = Vec::new();
        metadata.validate().unwrap();
        metadata.write(&mut buf);
        assert_eq!(buf.len(), metadata.encoded_len());
        Metadata::parse(Bytes::from(buf)).unwrap()
    }

    #[test]
    fn full_metadata_round_trips() {
        let mut metadata = Metadata::call("demo.Greeter", "hello");
        metadata.version = "1.0.0".into();
        metadata.group = "blue".into();
        metadata.timeout = Some(Duration::from_millis(250));
        metadata.attachments.insert("trace-id", "1234");
        metadata.attachments.insert("ünïcode", "välue");
        assert_eq!(round_trip(&metadata), metadata);
    }

    #[test]
    fn empty_metadata_takes_no_bytes() {
        assert_eq!(Metadata::default().encoded_len(), 0);
        assert_eq!(round_trip(&Metadata::default()), Metadata::default());
    }

    #[test]
    fn an_expired_deadline_is_not_read_as_none() {
        let metadata = Metadata { timeout: Some(Duration::ZERO), ..Metadata::call("s", "m") };
        assert_eq!(round_trip(&metadata).timeout, Some(Duration::from_micros(1)));
    }

    #[test]
    fn truncation_and_trailing_bytes_are_errors() {
        let mut buf = Vec::new();
        Metadata::call("svc", "m").write(&mut buf);
        for cut in 1..buf.len() {
            assert!(Metadata::parse(Bytes::copy_from_slice(&buf[..cut])).is_err(), "cut at {cut}");
        }
        buf.push(0);
        assert_eq!(Metadata::parse(Bytes::from(buf)), Err(MetadataError::TrailingBytes { extra: 1 }));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let bytes = Bytes::from_static(&[0, 2, 0xff, 0xfe]);
        assert_eq!(Metadata::parse(bytes), Err(MetadataError::InvalidUtf8 { field: "service" }));
    }

    #[test]
    fn overlong_fields_fail_validation() {
        let metadata = Metadata::call("x".repeat(70_000), "m");
        assert!(matches!(metadata.validate(), Err(MetadataError::TooLong { field: "service", .. })));
    }
}

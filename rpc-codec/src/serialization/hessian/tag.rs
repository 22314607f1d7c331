//! Hessian 2.0 tag bytes (hessian-lite's `Hessian2Constants`).

pub(super) const NULL: u8 = b'N';
pub(super) const TRUE: u8 = b'T';
pub(super) const FALSE: u8 = b'F';
pub(super) const INT: u8 = b'I';
pub(super) const LONG: u8 = b'L';
pub(super) const LONG_INT: u8 = 0x59;
pub(super) const DOUBLE: u8 = b'D';
pub(super) const DOUBLE_ZERO: u8 = 0x5b;
pub(super) const DOUBLE_ONE: u8 = 0x5c;
pub(super) const DOUBLE_BYTE: u8 = 0x5d;
pub(super) const DOUBLE_SHORT: u8 = 0x5e;
/// hessian-lite's "double as int32 of value × 1000" (the spec's text says a 32-bit float).
pub(super) const DOUBLE_MILLS: u8 = 0x5f;
pub(super) const DATE_MILLIS: u8 = 0x4a;
pub(super) const DATE_MINUTES: u8 = 0x4b;
pub(super) const STRING_CHUNK: u8 = b'R';
pub(super) const STRING_FINAL: u8 = b'S';
pub(super) const BINARY_CHUNK: u8 = b'A';
pub(super) const BINARY_FINAL: u8 = b'B';
pub(super) const CLASS_DEF: u8 = b'C';
pub(super) const OBJECT: u8 = b'O';
pub(super) const REF: u8 = b'Q';
pub(super) const MAP_TYPED: u8 = b'M';
pub(super) const MAP_UNTYPED: u8 = b'H';
pub(super) const END: u8 = b'Z';
pub(super) const LIST_TYPED_VAR: u8 = 0x55;
pub(super) const LIST_TYPED_FIXED: u8 = b'V';
pub(super) const LIST_UNTYPED_VAR: u8 = 0x57;
pub(super) const LIST_UNTYPED_FIXED: u8 = 0x58;
pub(super) const LIST_TYPED_SHORT: u8 = 0x70;
pub(super) const LIST_UNTYPED_SHORT: u8 = 0x78;
pub(super) const OBJECT_SHORT: u8 = 0x60;

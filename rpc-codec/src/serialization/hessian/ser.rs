//! The encoder: a serde `Serializer` writing Hessian 2.0 as hessian-lite writes it.

use bytes::{BufMut, BytesMut};
use serde::ser::{self, Serialize};
use smallvec::SmallVec;

use super::string::{chunks, push_cesu8, utf16_len};
use super::tag;
use super::Error;

/// A class definition already written to the stream (or reserved, while its first instance
/// is being written and its field list is not yet known).
struct ClassDef {
    name: &'static str,
    fields: Option<&'static [&'static str]>,
}

thread_local! {
    /// The field list each struct was last written with, by class name, and its class
    /// definition as encoded: with them a struct's definition is copied before its fields,
    /// which then go straight to the output (a body of its own for each call would otherwise
    /// buffer every struct). Field lists are interned, one allocation per distinct list per
    /// thread for the life of the thread.
    static FIELD_LISTS: std::cell::RefCell<Vec<KnownStruct>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A struct written before on this thread.
struct KnownStruct {
    name: &'static str,
    fields: &'static [&'static str],
    /// `C`, the name, the field count and the field names, as [`Encoder::write_class_def`] writes them.
    definition: Vec<u8>,
}

/// Whether `a` is `b`, cheaply when both are the same `'static` name (serde's derive hands
/// out one string per type).
fn same_name(a: &'static str, b: &'static str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

/// The field list `name` was last written with on this thread, if it has `len` fields; its
/// definition is then appended to `out`.
fn copy_known_definition(name: &'static str, len: usize, out: &mut BytesMut) -> Option<&'static [&'static str]> {
    FIELD_LISTS.with(|lists| {
        let lists = lists.borrow();
        let known = lists.iter().rev().find(|k| same_name(k.name, name))?;
        if known.fields.len() != len {
            return None;
        }
        out.extend_from_slice(&known.definition);
        Some(known.fields)
    })
}

/// Remembers `fields` as `name`'s list, interned, with its encoded definition.
fn remember_fields(name: &'static str, fields: &[&'static str]) -> &'static [&'static str] {
    FIELD_LISTS.with(|lists| {
        let mut lists = lists.borrow_mut();
        let interned = match lists.iter().find(|k| k.fields == fields) {
            Some(known) => known.fields,
            None => Box::leak(fields.to_vec().into_boxed_slice()),
        };
        let mut definition = Encoder::new(BytesMut::new());
        definition.write_class_def(name, interned);
        lists.retain(|k| !same_name(k.name, name));
        lists.push(KnownStruct { name, fields: interned, definition: definition.out.to_vec() });
        interned
    })
}

/// Writes one Hessian stream: class definitions are shared by every value written through the
/// same encoder, as they are across the fields of one dubbo body.
pub(crate) struct Encoder {
    pub(super) out: BytesMut,
    classes: SmallVec<[ClassDef; 4]>,
    /// Spare buffers for struct bodies, so nested structs don't allocate per value.
    spare: Vec<BytesMut>,
    /// The next value is the whole body: a tuple there is a list of arguments, written one
    /// value after another, and `()` is no value at all.
    top: bool,
}

impl Encoder {
    pub(crate) fn new(out: BytesMut) -> Encoder {
        Encoder { out, classes: SmallVec::new(), spare: Vec::new(), top: false }
    }

    /// Writes `value` as a whole body (see [`super::Hessian2`] for what the top level means).
    pub(crate) fn write_body<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.top = true;
        let written = value.serialize(&mut *self);
        self.top = false;
        written
    }

    /// The next value is a whole body (a tuple there is an argument list).
    pub(crate) fn expect_body(&mut self) {
        self.top = true;
    }

    /// Writes `value` as one Hessian value.
    pub(crate) fn write_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.top = false;
        value.serialize(&mut *self)
    }

    pub(crate) fn into_inner(self) -> BytesMut {
        self.out
    }

    pub(crate) fn write_null(&mut self) {
        self.out.put_u8(tag::NULL);
    }

    pub(crate) fn write_int(&mut self, v: i32) {
        let out = &mut self.out;
        match v {
            -0x10..=0x2f => out.put_u8((0x90 + v) as u8),
            -0x800..=0x7ff => out.extend_from_slice(&[(0xc8 + (v >> 8)) as u8, v as u8]),
            -0x40000..=0x3ffff => out.extend_from_slice(&[(0xd4 + (v >> 16)) as u8, (v >> 8) as u8, v as u8]),
            _ => {
                out.put_u8(tag::INT);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }

    pub(crate) fn write_long(&mut self, v: i64) {
        let out = &mut self.out;
        match v {
            -0x08..=0x0f => out.put_u8((0xe0 + v) as u8),
            -0x800..=0x7ff => out.extend_from_slice(&[(0xf8 + (v >> 8)) as u8, v as u8]),
            -0x40000..=0x3ffff => out.extend_from_slice(&[(0x3c + (v >> 16)) as u8, (v >> 8) as u8, v as u8]),
            _ if i32::try_from(v).is_ok() => {
                out.put_u8(tag::LONG_INT);
                out.extend_from_slice(&(v as i32).to_be_bytes());
            }
            _ => {
                out.put_u8(tag::LONG);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }

    /// hessian-lite's `writeDouble`: small whole numbers compactly, then "value × 1000 fits an
    /// int" as `0x5f`, else the 8 IEEE-754 bytes.
    pub(crate) fn write_double(&mut self, v: f64) {
        let out = &mut self.out;
        let whole = v as i32;
        if f64::from(whole) == v {
            match whole {
                0 => return out.put_u8(tag::DOUBLE_ZERO),
                1 => return out.put_u8(tag::DOUBLE_ONE),
                -0x80..=0x7f => return out.extend_from_slice(&[tag::DOUBLE_BYTE, whole as u8]),
                -0x8000..=0x7fff => {
                    out.put_u8(tag::DOUBLE_SHORT);
                    return out.extend_from_slice(&(whole as i16).to_be_bytes());
                }
                _ => {}
            }
        }
        let mills = (v * 1000.0) as i32;
        if 0.001 * f64::from(mills) == v {
            out.put_u8(tag::DOUBLE_MILLS);
            out.extend_from_slice(&mills.to_be_bytes());
        } else {
            out.put_u8(tag::DOUBLE);
            out.extend_from_slice(&v.to_bits().to_be_bytes());
        }
    }

    pub(crate) fn write_string(&mut self, s: &str) {
        let units = utf16_len(s);
        let out = &mut self.out;
        if units <= 0x1f {
            out.put_u8(units as u8);
        } else if units <= 0x3ff {
            out.extend_from_slice(&[0x30 + (units >> 8) as u8, units as u8]);
        } else {
            let mut parts = chunks(s).peekable();
            while let Some((chunk, chunk_units)) = parts.next() {
                let tag = if parts.peek().is_some() { tag::STRING_CHUNK } else { tag::STRING_FINAL };
                out.put_u8(tag);
                out.extend_from_slice(&(chunk_units as u16).to_be_bytes());
                push_cesu8(chunk, out);
            }
            return;
        }
        push_cesu8(s, out);
    }

    pub(crate) fn write_binary(&mut self, bytes: &[u8]) {
        let out = &mut self.out;
        if bytes.len() <= 15 {
            out.put_u8(0x20 + bytes.len() as u8);
        } else if bytes.len() <= 0x3ff {
            out.extend_from_slice(&[0x34 + (bytes.len() >> 8) as u8, bytes.len() as u8]);
        } else {
            let mut parts = bytes.chunks(0x8000).peekable();
            while let Some(chunk) = parts.next() {
                out.put_u8(if parts.peek().is_some() { tag::BINARY_CHUNK } else { tag::BINARY_FINAL });
                out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
                out.extend_from_slice(chunk);
            }
            return;
        }
        out.extend_from_slice(bytes);
    }

    /// An untyped list header; `None` for a list ended by `Z`.
    fn write_list_header(&mut self, len: Option<usize>) -> Result<(), Error> {
        match len {
            Some(len @ 0..=7) => self.out.put_u8(tag::LIST_UNTYPED_SHORT + len as u8),
            Some(len) => {
                self.out.put_u8(tag::LIST_UNTYPED_FIXED);
                self.write_int(i32::try_from(len).map_err(|_| Error::new("list longer than 2^31"))?);
            }
            None => self.out.put_u8(tag::LIST_UNTYPED_VAR),
        }
        Ok(())
    }

    /// An empty list typed `type_name` (Java's `[java.lang.StackTraceElement` and the like).
    pub(crate) fn write_empty_typed_list(&mut self, type_name: &str) {
        self.out.put_u8(tag::LIST_TYPED_SHORT);
        self.write_string(type_name);
    }

    /// Appends bytes that are already Hessian (a body encoded on its own: its class
    /// definitions and references must not depend on what precedes it).
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Starts an object of class `name` whose field values the caller writes next, in
    /// `fields` order.
    pub(crate) fn begin_object(&mut self, name: &'static str, fields: &'static [&'static str]) {
        let known = self.classes.iter().position(|c| c.name == name && c.fields == Some(fields));
        let index = match known {
            Some(index) => index,
            None => {
                self.write_class_def(name, fields);
                self.classes.push(ClassDef { name, fields: Some(fields) });
                self.classes.len() - 1
            }
        };
        self.write_class_ref(index);
    }

    pub(crate) fn begin_map(&mut self) {
        self.out.put_u8(tag::MAP_UNTYPED);
    }

    pub(crate) fn end(&mut self) {
        self.out.put_u8(tag::END);
    }

    /// Starts a struct of `len` fields (serde's count, skipped fields left out).
    fn begin_struct(&mut self, name: &'static str, len: usize) -> StructEncoder<'_> {
        let fits = |fields: &[&'static str]| fields.len() == len;
        let in_stream = self.classes.iter().rposition(|c| c.name == name && c.fields.is_some_and(fits));
        let streaming = match in_stream {
            // Defined in this stream with as many fields: its instance refers to the definition.
            Some(index) => self.classes[index].fields.map(|expected| (index, expected)),
            // Written before on this thread with as many fields: the definition goes first.
            None => copy_known_definition(name, len, &mut self.out).map(|expected| {
                self.classes.push(ClassDef { name, fields: Some(expected) });
                (self.classes.len() - 1, expected)
            }),
        };
        let mode = match streaming {
            Some((index, expected)) => {
                let marker = self.out.len();
                self.write_class_ref(index);
                Mode::Streaming(Streaming { expected, marker, body_start: self.out.len(), classes: self.classes.len() })
            }
            None => {
                // First sight: the fields go to a side buffer until their names are known,
                // under an index reserved now, as the definition will precede them.
                self.classes.push(ClassDef { name, fields: None });
                let reserved = self.classes.len() - 1;
                let body = self.spare.pop().unwrap_or_default();
                let outer = std::mem::replace(&mut self.out, body);
                Mode::Buffered { outer, reserved }
            }
        };
        StructEncoder { enc: self, name, fields: SmallVec::new(), matched: true, mode }
    }

    fn write_class_ref(&mut self, index: usize) {
        if index <= 15 {
            self.out.put_u8(tag::OBJECT_SHORT + index as u8);
        } else {
            self.out.put_u8(tag::OBJECT);
            self.write_int(index as i32);
        }
    }

    fn write_class_def(&mut self, name: &str, fields: &[&str]) {
        self.out.put_u8(tag::CLASS_DEF);
        self.write_string(name);
        self.write_int(fields.len() as i32);
        for field in fields {
            self.write_string(field);
        }
    }
}

/// Writes one struct as a Java object. The class definition (which lists the field names)
/// precedes the instance in the stream; when the field list is known ahead (defined earlier in
/// the stream, or seen on this thread) the fields are written straight after it and checked
/// against it as they come, else they go to a side buffer first.
pub(crate) struct StructEncoder<'a> {
    enc: &'a mut Encoder,
    name: &'static str,
    fields: SmallVec<[&'static str; 16]>,
    /// Streaming: every field so far is the expected one.
    matched: bool,
    mode: Mode,
}

enum Mode {
    Streaming(Streaming),
    Buffered { outer: BytesMut, reserved: usize },
}

struct Streaming {
    expected: &'static [&'static str],
    /// Where the instance's reference to its definition is.
    marker: usize,
    /// Where its fields begin.
    body_start: usize,
    /// Definitions in the stream when the fields began.
    classes: usize,
}

impl<'a> StructEncoder<'a> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        if let Mode::Streaming(streaming) = &self.mode {
            self.matched &= streaming.expected.get(self.fields.len()) == Some(&key);
        }
        self.fields.push(key);
        self.enc.write_value(value)
    }

    /// Writes what is left (the definition and instance, when buffered); hands back the encoder.
    fn finish(self) -> Result<&'a mut Encoder, Error> {
        let StructEncoder { enc, name, fields, matched, mode } = self;
        match mode {
            Mode::Streaming(streaming) => {
                if matched && fields.len() == streaming.expected.len() {
                    return Ok(enc);
                }
                // As many fields as expected, but others (one optional field skipped, another
                // present): a definition of its own goes before the instance. Definitions made
                // by its fields would then be numbered after it, which their instances were not.
                if enc.classes.len() != streaming.classes {
                    return Err(two_lists(name));
                }
                let body = enc.out[streaming.body_start..].to_vec();
                enc.out.truncate(streaming.marker);
                let fields = remember_fields(name, &fields);
                enc.classes.push(ClassDef { name, fields: Some(fields) });
                enc.write_class_def(name, fields);
                enc.write_class_ref(enc.classes.len() - 1);
                enc.out.extend_from_slice(&body);
                Ok(enc)
            }
            Mode::Buffered { outer, reserved } => {
                let mut body = std::mem::replace(&mut enc.out, outer);
                let fields = remember_fields(name, &fields);
                enc.classes[reserved].fields = Some(fields);
                enc.write_class_def(name, fields);
                enc.write_class_ref(reserved);
                enc.out.extend_from_slice(&body);
                body.clear();
                enc.spare.push(body);
                Ok(enc)
            }
        }
    }
}

fn two_lists(name: &str) -> Error {
    Error::new(format!("class {name} written with two different field lists in one stream"))
}

/// A sequence: binary if every element is a `u8` (so `Vec<u8>` is Java's `byte[]`), else an
/// untyped list (Java's `ArrayList`). Which it is shows only as the elements arrive, so bytes
/// are held until the first element that is not one; then the list begins and they are
/// written as its first ints. One pass: each element is serialized once.
pub(crate) struct SeqEncoder<'a> {
    enc: &'a mut Encoder,
    len: Option<usize>,
    /// `Some` while every element so far was a `u8`.
    bytes: Option<Vec<u8>>,
    /// The arguments of a body: values one after another, no list around them.
    arguments: bool,
}

impl SeqEncoder<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if self.arguments || self.bytes.is_none() {
            return self.enc.write_value(value);
        }
        value.serialize(ElementSerializer { seq: self })
    }

    /// The element that is not a byte has come: the list begins with the bytes held so far.
    fn begin_list(&mut self) -> Result<(), Error> {
        if let Some(bytes) = self.bytes.take() {
            self.enc.write_list_header(self.len)?;
            for byte in bytes {
                self.enc.write_int(i32::from(byte));
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<(), Error> {
        if self.arguments {
            return Ok(());
        }
        match self.bytes {
            Some(bytes) if !bytes.is_empty() => self.enc.write_binary(&bytes),
            Some(_) => self.enc.write_list_header(Some(0))?,
            None if self.len.is_none() => self.enc.end(),
            None => {}
        }
        Ok(())
    }
}

/// Serializes one element of a sequence that may still be binary: a `u8` is held, anything
/// else begins the list and is written by the encoder.
struct ElementSerializer<'s, 'a> {
    seq: &'s mut SeqEncoder<'a>,
}

/// Forwards `$method` to the encoder once the list has begun.
macro_rules! forward {
    ($( fn $method:ident(self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {
        $(
            fn $method(self $(, $arg: $ty)*) -> $ret {
                self.seq.begin_list()?;
                self.seq.enc.top = false;
                ser::Serializer::$method(&mut *self.seq.enc $(, $arg)*)
            }
        )*
    };
}

impl<'s> ser::Serializer for ElementSerializer<'s, '_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqEncoder<'s>;
    type SerializeTuple = SeqEncoder<'s>;
    type SerializeTupleStruct = SeqEncoder<'s>;
    type SerializeTupleVariant = VariantEncoder<SeqEncoder<'s>>;
    type SerializeMap = MapEncoder<'s>;
    type SerializeStruct = StructEncoder<'s>;
    type SerializeStructVariant = VariantEncoder<StructEncoder<'s>>;

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        match &mut self.seq.bytes {
            Some(bytes) => {
                bytes.push(v);
                Ok(())
            }
            None => self.seq.enc.write_value(&v),
        }
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.seq.begin_list()?;
        self.seq.enc.write_value(value)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<(), Error> {
        self.seq.begin_list()?;
        ser::Serializer::serialize_newtype_struct(&mut *self.seq.enc, name, value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.seq.begin_list()?;
        ser::Serializer::serialize_newtype_variant(&mut *self.seq.enc, name, index, variant, value)
    }

    forward! {
        fn serialize_bool(self, v: bool) -> Result<(), Error>;
        fn serialize_i8(self, v: i8) -> Result<(), Error>;
        fn serialize_i16(self, v: i16) -> Result<(), Error>;
        fn serialize_i32(self, v: i32) -> Result<(), Error>;
        fn serialize_i64(self, v: i64) -> Result<(), Error>;
        fn serialize_u16(self, v: u16) -> Result<(), Error>;
        fn serialize_u32(self, v: u32) -> Result<(), Error>;
        fn serialize_u64(self, v: u64) -> Result<(), Error>;
        fn serialize_f32(self, v: f32) -> Result<(), Error>;
        fn serialize_f64(self, v: f64) -> Result<(), Error>;
        fn serialize_char(self, v: char) -> Result<(), Error>;
        fn serialize_str(self, v: &str) -> Result<(), Error>;
        fn serialize_bytes(self, v: &[u8]) -> Result<(), Error>;
        fn serialize_none(self) -> Result<(), Error>;
        fn serialize_unit(self) -> Result<(), Error>;
        fn serialize_unit_struct(self, name: &'static str) -> Result<(), Error>;
        fn serialize_unit_variant(self, name: &'static str, index: u32, variant: &'static str) -> Result<(), Error>;
        fn serialize_seq(self, len: Option<usize>) -> Result<SeqEncoder<'s>, Error>;
        fn serialize_tuple(self, len: usize) -> Result<SeqEncoder<'s>, Error>;
        fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<SeqEncoder<'s>, Error>;
        fn serialize_tuple_variant(self, name: &'static str, index: u32, variant: &'static str, len: usize) -> Result<VariantEncoder<SeqEncoder<'s>>, Error>;
        fn serialize_map(self, len: Option<usize>) -> Result<MapEncoder<'s>, Error>;
        fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructEncoder<'s>, Error>;
        fn serialize_struct_variant(self, name: &'static str, index: u32, variant: &'static str, len: usize) -> Result<VariantEncoder<StructEncoder<'s>>, Error>;
    }
}

impl<'a> ser::Serializer for &'a mut Encoder {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqEncoder<'a>;
    type SerializeTuple = SeqEncoder<'a>;
    type SerializeTupleStruct = SeqEncoder<'a>;
    type SerializeTupleVariant = VariantEncoder<SeqEncoder<'a>>;
    type SerializeMap = MapEncoder<'a>;
    type SerializeStruct = StructEncoder<'a>;
    type SerializeStructVariant = VariantEncoder<StructEncoder<'a>>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.top = false;
        self.out.put_u8(if v { tag::TRUE } else { tag::FALSE });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i32(i32::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i32(i32::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.top = false;
        self.write_int(v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.top = false;
        self.write_long(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_i32(i32::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_i32(i32::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        match i32::try_from(v) {
            Ok(v) => self.serialize_i32(v),
            Err(_) => self.serialize_i64(i64::from(v)),
        }
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        let v = i64::try_from(v).map_err(|_| Error::new(format!("{v} does not fit a Java long")))?;
        self.serialize_i64(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.top = false;
        self.write_double(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.top = false;
        self.write_string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.top = false;
        self.write_binary(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.top = false;
        self.write_null();
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.write_value(value)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        // `()` as a whole body is an empty argument list.
        if !std::mem::take(&mut self.top) {
            self.write_null();
        }
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, name: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        // A Java enum: an object of the enum's class with one field, `name`.
        self.top = false;
        let mut object = self.begin_struct(name, 1);
        object.field("name", variant)?;
        object.finish().map(drop)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.top = false;
        self.begin_map();
        self.write_string(variant);
        self.write_value(value)?;
        self.end();
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqEncoder<'a>, Error> {
        self.top = false;
        Ok(SeqEncoder { enc: self, len, bytes: Some(Vec::new()), arguments: false })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqEncoder<'a>, Error> {
        if std::mem::take(&mut self.top) {
            return Ok(SeqEncoder { enc: self, len: Some(len), bytes: None, arguments: true });
        }
        self.write_list_header(Some(len))?;
        Ok(SeqEncoder { enc: self, len: Some(len), bytes: None, arguments: false })
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqEncoder<'a>, Error> {
        self.top = false;
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.top = false;
        self.begin_map();
        self.write_string(variant);
        self.write_list_header(Some(len))?;
        Ok(VariantEncoder(SeqEncoder { enc: self, len: Some(len), bytes: None, arguments: false }))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapEncoder<'a>, Error> {
        self.top = false;
        self.begin_map();
        Ok(MapEncoder { enc: self })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructEncoder<'a>, Error> {
        self.top = false;
        Ok(self.begin_struct(name, len))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.top = false;
        self.begin_map();
        self.write_string(variant);
        Ok(VariantEncoder(self.begin_struct(name, len)))
    }
}

impl ser::SerializeSeq for SeqEncoder<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqEncoder<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqEncoder<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// An enum variant with data: a one-entry map `{variant: data}` around the inner encoder.
pub(crate) struct VariantEncoder<E>(E);

impl ser::SerializeTupleVariant for VariantEncoder<SeqEncoder<'_>> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.element(value)
    }
    fn end(self) -> Result<(), Error> {
        let enc = self.0.enc;
        enc.end();
        Ok(())
    }
}

impl ser::SerializeStructVariant for VariantEncoder<StructEncoder<'_>> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.0.field(key, value)
    }
    fn end(self) -> Result<(), Error> {
        // The map's end marker goes after the object, which `finish` writes to the outer buffer.
        self.0.finish()?.end();
        Ok(())
    }
}

impl ser::SerializeStruct for StructEncoder<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish().map(drop)
    }
}

/// A map as Java's `HashMap`: `H (key value)* Z`.
pub(crate) struct MapEncoder<'a> {
    enc: &'a mut Encoder,
}

impl ser::SerializeMap for MapEncoder<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.enc.write_value(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.enc.write_value(value)
    }
    fn end(self) -> Result<(), Error> {
        self.enc.end();
        Ok(())
    }
}

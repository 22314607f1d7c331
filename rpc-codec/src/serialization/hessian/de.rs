//! The decoder: a serde `Deserializer` over one Hessian 2.0 stream. Total: every length is
//! checked against the bytes that are there, nesting is bounded, and references are replayed
//! from where the value first appeared under a work budget, so no input makes it allocate
//! beyond its size, recurse without bound, or run for longer than linear time.

use std::borrow::Cow;
use std::rc::Rc;

use smallvec::SmallVec;

use serde::de::{self, DeserializeSeed, Visitor};

use super::class_cache::{self, ClassDef};
use super::string::{finish, read_units, skip_units, StringError};
use super::tag;
use super::Error;

/// Deepest nesting of lists, maps, objects and replayed references.
pub(crate) const MAX_DEPTH: u32 = 100;

/// Reads values from one Hessian stream. Class definitions, type names and references are
/// shared by every value read through the same decoder.
pub(crate) struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    /// The class definitions met, shared with this thread's [`class_cache`].
    classes: SmallVec<[Rc<ClassDef>; 4]>,
    types: Vec<String>,
    /// Where each referable value (list, map, object) starts, by reference number.
    refs: SmallVec<[usize; 16]>,
    /// Where the compound values being decoded right now start: a reference to one of them
    /// is a cycle.
    open: SmallVec<[usize; 16]>,
    /// Replaying a reference: definitions, types and references were registered the first time.
    replaying: u32,
    depth: u32,
    /// Values still allowed to be decoded; references may repeat work, this bounds it.
    budget: usize,
    top: bool,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Decoder<'a> {
        Decoder {
            input,
            pos: 0,
            classes: SmallVec::new(),
            types: Vec::new(),
            refs: SmallVec::new(),
            open: SmallVec::new(),
            replaying: 0,
            depth: 0,
            budget: input.len().saturating_mul(16).saturating_add(1024),
            top: false,
        }
    }

    /// Decodes a whole body (see [`super::Hessian2`] for what the top level means): the input
    /// must hold exactly one such value.
    pub(crate) fn read_body<T: de::DeserializeOwned>(&mut self) -> Result<T, Error> {
        self.top = true;
        let value = T::deserialize(&mut *self);
        self.top = false;
        let value = value?;
        if self.pos != self.input.len() {
            return Err(self.error(format!("{} bytes after the value", self.input.len() - self.pos)));
        }
        Ok(value)
    }

    /// The next value is a whole body (a tuple there is an argument list).
    pub(crate) fn expect_body(&mut self) {
        self.top = true;
    }

    /// Decodes the next value.
    pub(crate) fn read_value<T: de::DeserializeOwned>(&mut self) -> Result<T, Error> {
        self.top = false;
        T::deserialize(&mut *self)
    }

    /// Skips the next value, keeping the definitions and references it holds, without
    /// building it (a dubbo body's arguments are skipped to find the attachments after them).
    pub(crate) fn skip_value(&mut self) -> Result<(), Error> {
        self.top = false;
        self.skip()
    }

    fn skip(&mut self) -> Result<(), Error> {
        self.spend()?;
        let start = self.pos;
        let t = self.byte()?;
        let fixed = match t {
            0x80..=0xbf | 0xd8..=0xef | tag::NULL | tag::TRUE | tag::FALSE | tag::DOUBLE_ZERO | tag::DOUBLE_ONE => 0,
            0xc0..=0xcf | 0xf0..=0xff | tag::DOUBLE_BYTE => 1,
            0xd0..=0xd7 | 0x38..=0x3f | tag::DOUBLE_SHORT => 2,
            tag::INT | tag::LONG_INT | tag::DOUBLE_MILLS | tag::DATE_MINUTES => 4,
            tag::LONG | tag::DOUBLE | tag::DATE_MILLIS => 8,
            0x00..=0x1f | 0x30..=0x33 | tag::STRING_CHUNK | tag::STRING_FINAL => return self.skip_string(t),
            0x20..=0x2f | 0x34..=0x37 | tag::BINARY_CHUNK | tag::BINARY_FINAL => {
                return self.binary_chunks(t, drop);
            }
            tag::LIST_TYPED_VAR
            | tag::LIST_TYPED_FIXED
            | tag::LIST_UNTYPED_VAR
            | tag::LIST_UNTYPED_FIXED
            | 0x70..=0x7f => {
                let remaining = self.list_header(t)?;
                self.enter(start, true)?;
                match remaining {
                    Some(n) => (0..n).try_for_each(|_| self.skip())?,
                    None => {
                        while self.peek() != Some(tag::END) {
                            self.skip()?;
                        }
                        self.pos += 1;
                    }
                }
                self.leave();
                return Ok(());
            }
            tag::MAP_UNTYPED | tag::MAP_TYPED => {
                if t == tag::MAP_TYPED {
                    self.read_type()?;
                }
                self.enter(start, true)?;
                while self.peek() != Some(tag::END) {
                    self.skip()?;
                    self.skip()?;
                }
                self.pos += 1;
                self.leave();
                return Ok(());
            }
            tag::CLASS_DEF => {
                self.read_class_def()?;
                return self.skip();
            }
            tag::OBJECT_SHORT..=0x6f | tag::OBJECT => {
                let class = self.object_class(t)?;
                self.enter(start, true)?;
                (0..self.classes[class].fields.len()).try_for_each(|_| self.skip())?;
                self.leave();
                return Ok(());
            }
            tag::REF => return self.reference().map(drop),
            other => return Err(Error::at(format!("unknown tag 0x{other:02x}"), start)),
        };
        self.take(fixed).map(drop)
    }

    fn skip_string(&mut self, mut t: u8) -> Result<(), Error> {
        loop {
            let (units, last) = self.chunk_units(t)?;
            self.pos += skip_units(&self.input[self.pos..], units).map_err(|e| self.string_error(e))?;
            if last {
                return Ok(());
            }
            t = self.byte()?;
        }
    }

    fn string_error(&self, error: StringError) -> Error {
        match error {
            StringError::Truncated => self.error("input ends inside a string"),
            StringError::BadUtf8(b) => self.error(format!("bad utf-8 encoding at 0x{b:02x}")),
        }
    }

    /// A string chunk's length in UTF-16 units, and whether it is the last.
    fn chunk_units(&mut self, t: u8) -> Result<(usize, bool), Error> {
        Ok(match t {
            0x00..=0x1f => (usize::from(t), true),
            0x30..=0x33 => ((usize::from(t - 0x30) << 8) | usize::from(self.byte()?), true),
            tag::STRING_CHUNK | tag::STRING_FINAL => {
                (usize::from(u16::from_be_bytes(self.array()?)), t == tag::STRING_FINAL)
            }
            _ => return Err(self.error(format!("expected more of a string, found tag 0x{t:02x}"))),
        })
    }

    /// A string or null as a slice of `whole` (the buffer this decoder reads) when it is one
    /// ASCII chunk, as the names and attachments of a dubbo body are: no copy.
    pub(crate) fn read_optional_bytestring(
        &mut self,
        whole: &bytes::Bytes,
    ) -> Result<Option<bytestring::ByteString>, Error> {
        let start = self.pos;
        let t = self.byte()?;
        if t == tag::NULL {
            return Ok(None);
        }
        if let Some(text) = self.ascii_chunk(t)? {
            if let Ok(shared) = bytestring::ByteString::try_from(whole.slice_ref(text.as_bytes())) {
                return Ok(Some(shared));
            }
        }
        self.pos = start;
        self.read_string().map(|text| Some(text.into()))
    }

    /// After a string's tag `t`: the string, borrowed, if it is one chunk of ASCII (the common
    /// case for names, which then need no copy); else `None`, the position left for the caller
    /// to rewind.
    fn ascii_chunk(&mut self, t: u8) -> Result<Option<&'a str>, Error> {
        if !matches!(t, 0x00..=0x1f | 0x30..=0x33 | tag::STRING_FINAL) {
            return Ok(None);
        }
        let (units, _) = self.chunk_units(t)?;
        let input: &'a [u8] = self.input;
        let text = input.get(self.pos..).and_then(|rest| rest.get(..units)).filter(|t| t.is_ascii());
        match text.map(std::str::from_utf8) {
            Some(Ok(text)) => {
                self.pos += units;
                Ok(Some(text))
            }
            _ => Ok(None),
        }
    }

    /// Consumes a null if one is next.
    pub(crate) fn take_null(&mut self) -> bool {
        let null = self.peek() == Some(tag::NULL);
        self.pos += usize::from(null);
        null
    }

    /// Begins an untyped or typed map (its type read), registered as a reference.
    pub(crate) fn begin_map(&mut self) -> Result<(), Error> {
        let start = self.pos;
        match self.byte()? {
            tag::MAP_UNTYPED => {}
            tag::MAP_TYPED => self.read_type()?,
            other => return Err(Error::at(format!("expected a map, found tag 0x{other:02x}"), start)),
        }
        self.enter(start, true)
    }

    /// Consumes the end of a map or list if it is next.
    pub(crate) fn take_end(&mut self) -> bool {
        let end = self.peek() == Some(tag::END) || self.is_at_end();
        self.pos += usize::from(self.peek() == Some(tag::END));
        end
    }

    pub(crate) fn end_map(&mut self) {
        self.leave();
    }

    /// A string (shared with `whole` where it can be), or `None` having skipped a value of
    /// another kind.
    pub(crate) fn read_string_or_skip(
        &mut self,
        whole: &bytes::Bytes,
    ) -> Result<Option<bytestring::ByteString>, Error> {
        match self.peek() {
            Some(0x00..=0x1f | 0x30..=0x33 | tag::STRING_CHUNK | tag::STRING_FINAL) => {
                self.read_optional_bytestring(whole)
            }
            _ => self.skip().map(|()| None),
        }
    }

    /// Walks a binary's chunks after its tag `t`, handing each to `each`.
    fn binary_chunks(&mut self, mut t: u8, mut each: impl FnMut(&'a [u8])) -> Result<(), Error> {
        loop {
            let (len, last) = match t {
                0x20..=0x2f => (usize::from(t - 0x20), true),
                0x34..=0x37 => ((usize::from(t - 0x34) << 8) | usize::from(self.byte()?), true),
                tag::BINARY_CHUNK | tag::BINARY_FINAL => {
                    (usize::from(u16::from_be_bytes(self.array()?)), t == tag::BINARY_FINAL)
                }
                _ => return Err(self.error(format!("expected more of a binary, found tag 0x{t:02x}"))),
            };
            each(self.take(len)?);
            if last {
                return Ok(());
            }
            t = self.byte()?;
        }
    }

    /// Where the next value starts.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_at_end(&self) -> bool {
        self.pos == self.input.len()
    }

    /// Moves past `n` bytes known to hold values that define no class and no reference
    /// (strings read before), as if they had been read again.
    pub(crate) fn pass(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.input.len());
    }

    /// The class of the object that comes next, reading its definition if one precedes it,
    /// without consuming the object; `None` if the next value is not an object.
    pub(crate) fn peek_class(&mut self) -> Result<Option<&ClassDef>, Error> {
        while self.peek() == Some(tag::CLASS_DEF) {
            self.pos += 1;
            self.read_class_def()?;
        }
        let start = self.pos;
        let class = match self.peek() {
            Some(tag::OBJECT_SHORT..=0x6f | tag::OBJECT) => {
                let t = self.byte()?;
                Some(self.object_class(t)?)
            }
            _ => None,
        };
        self.pos = start;
        Ok(class.map(|index| &*self.classes[index]))
    }

    fn error(&self, reason: impl Into<std::borrow::Cow<'static, str>>) -> Error {
        Error::at(reason, self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let b = self.peek().ok_or_else(|| self.error("input ends inside a value"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let bytes = self
            .input
            .get(self.pos..)
            .and_then(|rest| rest.get(..n))
            .ok_or_else(|| self.error(format!("a length of {n} runs past the end of the input")))?;
        self.pos += n;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let bytes = self.take(N)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn spend(&mut self) -> Result<(), Error> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| self.error("references expand to too many values"))?;
        Ok(())
    }

    fn enter(&mut self, start: usize, referable: bool) -> Result<(), Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH}")));
        }
        self.depth += 1;
        if referable && self.replaying == 0 {
            self.refs.push(start);
        }
        self.open.push(start);
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
        self.open.pop();
    }

    fn int_of(&mut self, t: u8) -> Result<Option<i32>, Error> {
        Ok(Some(match t {
            0x80..=0xbf => i32::from(t) - 0x90,
            0xc0..=0xcf => ((i32::from(t) - 0xc8) << 8) | i32::from(self.byte()?),
            0xd0..=0xd7 => {
                let [b1, b0] = self.array()?;
                ((i32::from(t) - 0xd4) << 16) | (i32::from(b1) << 8) | i32::from(b0)
            }
            tag::INT => i32::from_be_bytes(self.array()?),
            _ => return Ok(None),
        }))
    }

    fn long_of(&mut self, t: u8) -> Result<Option<i64>, Error> {
        Ok(Some(match t {
            0xd8..=0xef => i64::from(t) - 0xe0,
            0xf0..=0xff => ((i64::from(t) - 0xf8) << 8) | i64::from(self.byte()?),
            0x38..=0x3f => {
                let [b1, b0] = self.array()?;
                ((i64::from(t) - 0x3c) << 16) | (i64::from(b1) << 8) | i64::from(b0)
            }
            tag::LONG_INT => i64::from(i32::from_be_bytes(self.array()?)),
            tag::LONG => i64::from_be_bytes(self.array()?),
            _ => return Ok(None),
        }))
    }

    fn double_of(&mut self, t: u8) -> Result<Option<f64>, Error> {
        Ok(Some(match t {
            tag::DOUBLE_ZERO => 0.0,
            tag::DOUBLE_ONE => 1.0,
            tag::DOUBLE_BYTE => f64::from(self.byte()? as i8),
            tag::DOUBLE_SHORT => f64::from(i16::from_be_bytes(self.array()?)),
            tag::DOUBLE_MILLS => 0.001 * f64::from(i32::from_be_bytes(self.array()?)),
            tag::DOUBLE => f64::from_bits(u64::from_be_bytes(self.array()?)),
            _ => return Ok(None),
        }))
    }

    /// An integer where the format wants one (lengths, indices): any int or long form.
    fn read_int(&mut self) -> Result<i64, Error> {
        let t = self.byte()?;
        if let Some(v) = self.int_of(t)? {
            return Ok(i64::from(v));
        }
        self.long_of(t)?.ok_or_else(|| self.error(format!("expected an integer, found tag 0x{t:02x}")))
    }

    /// A count that must fit what is left of the input, each element taking at least a byte.
    fn read_count(&mut self) -> Result<usize, Error> {
        let n = self.read_int()?;
        let left = self.input.len() - self.pos;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= left)
            .ok_or_else(|| self.error(format!("a count of {n} with {left} bytes left")))
    }

    fn string_of(&mut self, mut t: u8) -> Result<Option<String>, Error> {
        if !matches!(t, 0x00..=0x1f | 0x30..=0x33 | tag::STRING_CHUNK | tag::STRING_FINAL) {
            return Ok(None);
        }
        let mut out = String::new();
        let mut pending = None;
        loop {
            let (units, last) = self.chunk_units(t)?;
            let rest = &self.input[self.pos..];
            if units > rest.len() {
                return Err(self.error(format!("a string of {units} characters with {} bytes left", rest.len())));
            }
            self.pos += read_units(rest, units, &mut out, &mut pending).map_err(|e| self.string_error(e))?;
            if last {
                finish(&mut out, &mut pending);
                return Ok(Some(out));
            }
            t = self.byte()?;
        }
    }

    /// A string where the format wants one (class and field names, types).
    fn read_string(&mut self) -> Result<String, Error> {
        let t = self.byte()?;
        self.string_of(t)?.ok_or_else(|| self.error(format!("expected a string, found tag 0x{t:02x}")))
    }

    /// A string or null, as dubbo writes the fields of a body.
    pub(crate) fn read_optional_string(&mut self) -> Result<Option<String>, Error> {
        if self.peek() == Some(tag::NULL) {
            self.pos += 1;
            return Ok(None);
        }
        self.read_string().map(Some)
    }

    /// An int, as dubbo writes a response's kind.
    pub(crate) fn read_i32(&mut self) -> Result<i32, Error> {
        let v = self.read_int()?;
        i32::try_from(v).map_err(|_| self.error(format!("{v} is not an int")))
    }

    fn binary_of(&mut self, t: u8) -> Result<Option<Vec<u8>>, Error> {
        if !matches!(t, 0x20..=0x2f | 0x34..=0x37 | tag::BINARY_CHUNK | tag::BINARY_FINAL) {
            return Ok(None);
        }
        let mut out = Vec::new();
        self.binary_chunks(t, |chunk| out.extend_from_slice(chunk))?;
        Ok(Some(out))
    }

    fn read_type(&mut self) -> Result<(), Error> {
        let t = self.peek().ok_or_else(|| self.error("input ends before a type"))?;
        if let 0x00..=0x1f | 0x30..=0x33 | tag::STRING_CHUNK | tag::STRING_FINAL = t {
            let name = self.read_string()?;
            if self.replaying == 0 {
                self.types.push(name);
            }
            return Ok(());
        }
        let index = self.read_int()?;
        if usize::try_from(index).ok().is_some_and(|i| i < self.types.len()) {
            Ok(())
        } else {
            Err(self.error(format!("type reference {index} is not defined")))
        }
    }

    /// A name (class or field): borrowed from the input when it is one ASCII chunk.
    fn read_name(&mut self) -> Result<Cow<'a, str>, Error> {
        let start = self.pos;
        let t = self.byte()?;
        if let Some(text) = self.ascii_chunk(t)? {
            return Ok(Cow::Borrowed(text));
        }
        self.pos = start;
        self.read_string().map(Cow::Owned)
    }

    /// After a `C`: a class definition, taken from this thread's cache when its bytes were
    /// seen before, else read (and remembered).
    fn read_class_def(&mut self) -> Result<(), Error> {
        let start = self.pos;
        let class = match class_cache::find(&self.input[start..]) {
            Some(class) => {
                self.pos += class.encoded_len();
                class
            }
            None => {
                let name = self.read_name()?.into();
                let count = self.read_count()?;
                let mut fields = Vec::with_capacity(count.min(64));
                for _ in 0..count {
                    fields.push(self.read_name()?.into());
                }
                let class = Rc::new(ClassDef::new(&self.input[start..self.pos], name, fields.into()));
                class_cache::remember(&class);
                class
            }
        };
        if self.replaying == 0 {
            self.classes.push(class);
        }
        Ok(())
    }

    /// The index of the class definition an object's tag (and the int after `O`) names.
    fn object_class(&mut self, t: u8) -> Result<usize, Error> {
        let index = match t {
            tag::OBJECT => self.read_int()?,
            _ => i64::from(t - tag::OBJECT_SHORT),
        };
        usize::try_from(index)
            .ok()
            .filter(|&i| i < self.classes.len())
            .ok_or_else(|| self.error(format!("object of class definition {index}, which is not defined")))
    }

    /// The start of the value a `Q` names, and whether it is still being decoded (a cycle).
    fn reference(&mut self) -> Result<(usize, bool), Error> {
        let index = self.read_int()?;
        let start = usize::try_from(index)
            .ok()
            .and_then(|i| self.refs.get(i))
            .copied()
            .ok_or_else(|| self.error(format!("reference {index} to a value not yet defined")))?;
        Ok((start, self.open.contains(&start)))
    }

    /// Decodes the referenced value again from where it first appeared.
    fn replay<R>(&mut self, start: usize, f: impl FnOnce(&mut Self) -> Result<R, Error>) -> Result<R, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH}")));
        }
        let resume = self.pos;
        self.pos = start;
        self.replaying += 1;
        self.depth += 1;
        let value = f(self);
        self.depth -= 1;
        self.replaying -= 1;
        self.pos = resume;
        value
    }

    /// If the next value is a reference to a value still being decoded, consumes it.
    fn take_cycle(&mut self) -> Result<bool, Error> {
        if self.peek() != Some(tag::REF) {
            return Ok(false);
        }
        let resume = self.pos;
        self.pos += 1;
        let (_, cyclic) = self.reference()?;
        if !cyclic {
            self.pos = resume;
        }
        Ok(cyclic)
    }

    /// A list's type (if typed) and length (`None`: ended by `Z`).
    fn list_header(&mut self, t: u8) -> Result<Option<usize>, Error> {
        Ok(match t {
            tag::LIST_TYPED_VAR => {
                self.read_type()?;
                None
            }
            tag::LIST_TYPED_FIXED => {
                self.read_type()?;
                Some(self.read_count()?)
            }
            tag::LIST_UNTYPED_VAR => None,
            tag::LIST_UNTYPED_FIXED => Some(self.read_count()?),
            0x70..=0x77 => {
                self.read_type()?;
                Some(usize::from(t - tag::LIST_TYPED_SHORT))
            }
            _ => Some(usize::from(t - tag::LIST_UNTYPED_SHORT)),
        })
    }

    fn list<V: Visitor<'a>>(&mut self, start: usize, t: u8, visitor: V) -> Result<V::Value, Error> {
        let remaining = self.list_header(t)?;
        self.enter(start, true)?;
        let mut access = SeqAccess { de: self, remaining };
        let value = visitor.visit_seq(&mut access)?;
        access.drain()?;
        self.leave();
        Ok(value)
    }

    fn map<V: Visitor<'a>>(&mut self, start: usize, t: u8, visitor: V) -> Result<V::Value, Error> {
        if t == tag::MAP_TYPED {
            self.read_type()?;
        }
        self.enter(start, true)?;
        let mut access = MapAccess { de: self, done: false };
        let value = visitor.visit_map(&mut access)?;
        access.drain()?;
        self.leave();
        Ok(value)
    }

    fn object<V: Visitor<'a>>(&mut self, start: usize, t: u8, visitor: V) -> Result<V::Value, Error> {
        let class = self.object_class(t)?;
        self.enter(start, true)?;
        let mut access = ObjectAccess { de: self, class, next: 0, value_pending: false };
        let value = visitor.visit_map(&mut access)?;
        access.drain()?;
        self.leave();
        Ok(value)
    }

    /// A Java enum (an object whose `name` field is the constant) as its constant's name.
    fn enum_name(&mut self, start: usize, t: u8) -> Result<String, Error> {
        let class = self.object_class(t)?;
        self.enter(start, true)?;
        let mut name = None;
        for field in 0..self.classes[class].fields.len() {
            if &*self.classes[class].fields[field] == "name" {
                name = Some(self.read_value::<String>()?);
            } else {
                self.skip_value()?;
            }
        }
        self.leave();
        name.ok_or_else(|| {
            self.error(format!("object of {} read as an enum has no `name` field", self.classes[class].name))
        })
    }
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.top = false;
        self.spend()?;
        let start = self.pos;
        let t = self.byte()?;
        // Structures first (objects are what calls mostly carry), then scalars; the tags of
        // each kind are disjoint, so the order changes nothing but the time to find it.
        match t {
            tag::CLASS_DEF => {
                self.read_class_def()?;
                return self.deserialize_any(visitor);
            }
            tag::OBJECT_SHORT..=0x6f | tag::OBJECT => return self.object(start, t, visitor),
            tag::LIST_TYPED_VAR
            | tag::LIST_TYPED_FIXED
            | tag::LIST_UNTYPED_VAR
            | tag::LIST_UNTYPED_FIXED
            | 0x70..=0x7f => return self.list(start, t, visitor),
            tag::MAP_UNTYPED | tag::MAP_TYPED => return self.map(start, t, visitor),
            tag::NULL => return visitor.visit_unit(),
            tag::TRUE => return visitor.visit_bool(true),
            tag::FALSE => return visitor.visit_bool(false),
            tag::DATE_MILLIS => return visitor.visit_i64(i64::from_be_bytes(self.array()?)),
            tag::DATE_MINUTES => return visitor.visit_i64(i64::from(i32::from_be_bytes(self.array()?)) * 60_000),
            tag::REF => {
                let (target, cyclic) = self.reference()?;
                if cyclic {
                    return Err(self.error("a reference to a value that contains it (a cycle)"));
                }
                return self.replay(target, |de| de.deserialize_any(visitor));
            }
            _ => {}
        }
        if let Some(v) = self.binary_of(t)? {
            return visitor.visit_byte_buf(v);
        }
        if let Some(v) = self.string_of(t)? {
            return visitor.visit_string(v);
        }
        if let Some(v) = self.int_of(t)? {
            return visitor.visit_i32(v);
        }
        if let Some(v) = self.long_of(t)? {
            return visitor.visit_i64(v);
        }
        if let Some(v) = self.double_of(t)? {
            return visitor.visit_f64(v);
        }
        Err(Error::at(format!("unknown tag 0x{t:02x}"), start))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.top = false;
        if self.peek() == Some(tag::NULL) {
            self.pos += 1;
            return visitor.visit_none();
        }
        // A cycle (a Java exception whose `cause` is itself) reads as "nothing more".
        if self.take_cycle()? {
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let top = std::mem::take(&mut self.top);
        if (top && self.is_at_end()) || self.peek() == Some(tag::NULL) {
            self.pos += usize::from(!self.is_at_end());
            return visitor.visit_unit();
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.top = false;
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.top = false;
        // `Vec<u8>` asks for a sequence; Java's byte[] is a binary.
        if let Some(0x20..=0x2f | 0x34..=0x37 | tag::BINARY_CHUNK | tag::BINARY_FINAL) = self.peek() {
            self.spend()?;
            let t = self.byte()?;
            let bytes = self.binary_of(t)?.unwrap_or_default();
            return visitor.visit_seq(de::value::SeqDeserializer::<_, Error>::new(bytes.into_iter()));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        if std::mem::take(&mut self.top) {
            // The arguments of a body: `len` values one after another.
            let mut access = SeqAccess { de: self, remaining: Some(len) };
            return visitor.visit_seq(&mut access);
        }
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.top = false;
        self.deserialize_seq(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.top = false;
        self.spend()?;
        while self.peek() == Some(tag::CLASS_DEF) {
            self.pos += 1;
            self.read_class_def()?;
        }
        let start = self.pos;
        match self.peek() {
            Some(tag::OBJECT_SHORT..=0x6f | tag::OBJECT) => {
                let t = self.byte()?;
                let name = self.enum_name(start, t)?;
                visitor.visit_enum(de::value::StringDeserializer::<Error>::new(name))
            }
            Some(tag::MAP_UNTYPED) => {
                self.pos += 1;
                self.enter(start, true)?;
                let value = visitor.visit_enum(VariantAccess { de: self })?;
                if self.byte()? != tag::END {
                    return Err(self.error("an enum variant's map holds more than one entry"));
                }
                self.leave();
                Ok(value)
            }
            Some(tag::REF) => {
                self.pos += 1;
                let (target, cyclic) = self.reference()?;
                if cyclic {
                    return Err(self.error("a reference to a value that contains it (a cycle)"));
                }
                self.replay(target, |de| de::Deserializer::deserialize_enum(de, "", &[], visitor))
            }
            _ => {
                let name = self.read_value::<String>()?;
                visitor.visit_enum(de::value::StringDeserializer::<Error>::new(name))
            }
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.top = false;
        if self.take_cycle()? {
            return visitor.visit_unit();
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        map struct identifier
    }
}

struct SeqAccess<'d, 'a> {
    de: &'d mut Decoder<'a>,
    /// Elements left in a fixed-length list; `None` for one ended by `Z`.
    remaining: Option<usize>,
}

impl SeqAccess<'_, '_> {
    /// Skips what the visitor left unread, so the stream stays in step.
    fn drain(&mut self) -> Result<(), Error> {
        while de::SeqAccess::next_element::<de::IgnoredAny>(self)?.is_some() {}
        Ok(())
    }
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match &mut self.remaining {
            Some(0) => return Ok(None),
            Some(n) => *n -= 1,
            None if self.de.peek() == Some(tag::END) => {
                self.de.pos += 1;
                self.remaining = Some(0);
                return Ok(None);
            }
            None => {}
        }
        self.de.top = false;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        // Never more than the bytes left: each element takes at least one.
        self.remaining.map(|n| n.min(self.de.input.len() - self.de.pos))
    }
}

struct MapAccess<'d, 'a> {
    de: &'d mut Decoder<'a>,
    done: bool,
}

impl MapAccess<'_, '_> {
    fn drain(&mut self) -> Result<(), Error> {
        while de::MapAccess::next_entry::<de::IgnoredAny, de::IgnoredAny>(self)?.is_some() {}
        Ok(())
    }
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if self.done {
            return Ok(None);
        }
        if self.de.peek() == Some(tag::END) {
            self.de.pos += 1;
            self.done = true;
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.de)
    }
}

/// An object's fields, keyed by the names its class definition gives.
struct ObjectAccess<'d, 'a> {
    de: &'d mut Decoder<'a>,
    /// Its class definition's index.
    class: usize,
    next: usize,
    value_pending: bool,
}

impl ObjectAccess<'_, '_> {
    fn drain(&mut self) -> Result<(), Error> {
        if self.value_pending {
            de::MapAccess::next_value::<de::IgnoredAny>(self)?;
        }
        while de::MapAccess::next_entry::<de::IgnoredAny, de::IgnoredAny>(self)?.is_some() {}
        Ok(())
    }
}

impl<'de> de::MapAccess<'de> for ObjectAccess<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some(name) = self.de.classes[self.class].fields.get(self.next) else { return Ok(None) };
        let key = seed.deserialize(de::value::StrDeserializer::<Error>::new(name));
        self.next += 1;
        self.value_pending = true;
        key.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.value_pending = false;
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.de.classes[self.class].fields.len() - self.next)
    }
}

/// An enum variant with data, written as the one-entry map `{variant: data}`.
struct VariantAccess<'d, 'a> {
    de: &'d mut Decoder<'a>,
}

impl<'de> de::EnumAccess<'de> for VariantAccess<'_, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let variant = seed.deserialize(&mut *self.de)?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        self.de.skip_value()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(&mut *self.de, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(&mut *self.de, visitor)
    }
}

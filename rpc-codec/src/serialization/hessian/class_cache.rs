//! Class definitions this thread has decoded, by their encoded bytes.
//!
//! Every dubbo body of a stream of calls defines the same few classes again (hessian-lite
//! starts each body with an empty definition table). A definition whose bytes were seen
//! before is taken from here: its names are neither read nor validated again, and the
//! decoder holds one shared pointer per definition instead of the names themselves.
//!
//! The bytes of a definition (`C` excluded: name, field count, field names) determine it,
//! and each part is self-delimiting, so input that starts with a remembered definition's
//! bytes holds that definition. The cache is bounded (entries and bytes per entry) and
//! replaces entries in turn, so a peer that sends new definitions only makes lookups miss.

use std::cell::RefCell;
use std::rc::Rc;

/// A class definition: the class name and its field names, in the order the stream writes
/// the fields.
#[derive(Debug)]
pub(crate) struct ClassDef {
    encoded: Box<[u8]>,
    pub(crate) name: Box<str>,
    pub(crate) fields: Box<[Box<str>]>,
}

impl ClassDef {
    /// A definition read from `encoded`.
    pub(crate) fn new(encoded: &[u8], name: Box<str>, fields: Box<[Box<str>]>) -> ClassDef {
        ClassDef { encoded: encoded.into(), name, fields }
    }

    /// How many bytes of the stream the definition took, after its `C`.
    pub(crate) fn encoded_len(&self) -> usize {
        self.encoded.len()
    }
}

/// Definitions remembered per thread.
const ENTRIES: usize = 16;

/// Longer definitions (in bytes) are not remembered.
const ENCODED_MAX: usize = 512;

thread_local! {
    static SEEN: RefCell<Seen> = const { RefCell::new(Seen { classes: Vec::new(), next: 0 }) };
}

struct Seen {
    classes: Vec<Rc<ClassDef>>,
    /// The entry the next new definition replaces once the cache is full.
    next: usize,
}

/// The remembered definition `input` starts with, if any.
pub(crate) fn find(input: &[u8]) -> Option<Rc<ClassDef>> {
    SEEN.with_borrow(|seen| seen.classes.iter().find(|class| input.starts_with(&class.encoded)).cloned())
}

/// Remembers `class` for the decoders that run on this thread after this one.
pub(crate) fn remember(class: &Rc<ClassDef>) {
    if class.encoded.len() > ENCODED_MAX {
        return;
    }
    SEEN.with_borrow_mut(|seen| {
        if seen.classes.len() < ENTRIES {
            seen.classes.push(class.clone());
        } else {
            let next = seen.next;
            seen.classes[next] = class.clone();
            seen.next = (next + 1) % ENTRIES;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(encoded: &[u8]) -> Rc<ClassDef> {
        Rc::new(ClassDef::new(encoded, "C".into(), Box::new([])))
    }

    #[test]
    fn finds_a_definition_the_input_starts_with() {
        remember(&class(b"\x03abc\x90"));
        assert!(find(b"\x03abc\x90\x60").is_some());
        assert!(find(b"\x03abd\x90").is_none());
        assert!(find(b"\x03ab").is_none(), "a shorter input is not the definition");
    }

    #[test]
    fn stays_bounded_and_replaces_in_turn() {
        for i in 0..(ENTRIES * 3) as u8 {
            remember(&class(&[0x01, i, 0x90]));
        }
        SEEN.with_borrow(|seen| assert_eq!(seen.classes.len(), ENTRIES));
        let last = (ENTRIES * 3 - 1) as u8;
        assert!(find(&[0x01, last, 0x90]).is_some());
        assert!(find(&[0x01, 0, 0x90]).is_none(), "the oldest were replaced");
        remember(&class(&[0x01; ENCODED_MAX + 1]));
        assert!(find(&[0x01; ENCODED_MAX + 1]).is_none(), "too long to remember");
    }
}

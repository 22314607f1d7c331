//! Strings as Java writes them: the length counts UTF-16 code units, and each unit is written
//! on its own in the 1–3-byte UTF-8 forms, so a character beyond the BMP becomes two 3-byte
//! surrogate sequences (CESU-8). hessian-lite rejects 4-byte UTF-8, so we never write it.

use bytes::{BufMut, BytesMut};

/// Longest chunk Java writes; longer strings are split into `R` chunks of this many units.
pub(super) const CHUNK_UNITS: usize = 0x8000;

/// The number of UTF-16 code units of `s`.
pub(super) fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars().map(char::len_utf16).sum()
}

/// Appends `s` in Java's encoding.
pub(super) fn push_cesu8(s: &str, out: &mut BytesMut) {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for c in s.chars() {
        let mut units = [0u16; 2];
        for &unit in c.encode_utf16(&mut units).iter() {
            push_unit(unit, out);
        }
    }
}

fn push_unit(unit: u16, out: &mut BytesMut) {
    let unit = u32::from(unit);
    if unit < 0x80 {
        out.put_u8(unit as u8);
    } else if unit < 0x800 {
        out.put_u8(0xc0 | (unit >> 6) as u8);
        out.put_u8(0x80 | (unit & 0x3f) as u8);
    } else {
        out.put_u8(0xe0 | (unit >> 12) as u8);
        out.put_u8(0x80 | ((unit >> 6) & 0x3f) as u8);
        out.put_u8(0x80 | (unit & 0x3f) as u8);
    }
}

/// Splits `s` into chunks of at most [`CHUNK_UNITS`] UTF-16 units that never split a
/// surrogate pair: `(text, units)` each.
pub(super) fn chunks(s: &str) -> impl Iterator<Item = (&str, usize)> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut units = 0;
        let mut end = rest.len();
        for (index, c) in rest.char_indices() {
            if units + c.len_utf16() > CHUNK_UNITS {
                end = index;
                break;
            }
            units += c.len_utf16();
        }
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some((chunk, units))
    })
}

/// Why a string could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum StringError {
    /// The input ended inside the string.
    Truncated,
    /// A byte that starts no 1–3-byte sequence, or a bad continuation byte.
    BadUtf8(u8),
}

/// Reads `units` UTF-16 code units from `input`, appending the text to `out`. Returns the
/// bytes consumed. A surrogate pair split across two chunks is joined through `pending`; a
/// lone surrogate becomes U+FFFD, since a Rust string cannot hold it.
pub(super) fn read_units(
    input: &[u8],
    units: usize,
    out: &mut String,
    pending: &mut Option<u16>,
) -> Result<usize, StringError> {
    // Fast path: ASCII text, one byte per unit.
    if pending.is_none() {
        if let Some(head) = input.get(..units) {
            if head.is_ascii() {
                // ASCII is valid UTF-8.
                out.push_str(std::str::from_utf8(head).map_err(|_| StringError::BadUtf8(0))?);
                return Ok(units);
            }
        }
    }
    let mut pos = 0;
    for _ in 0..units {
        let first = *input.get(pos).ok_or(StringError::Truncated)?;
        let unit = match first {
            0x00..=0x7f => {
                pos += 1;
                u16::from(first)
            }
            0xc0..=0xdf => {
                let b1 = continuation(input, pos + 1)?;
                pos += 2;
                (u16::from(first & 0x1f) << 6) | b1
            }
            0xe0..=0xef => {
                let b1 = continuation(input, pos + 1)?;
                let b2 = continuation(input, pos + 2)?;
                pos += 3;
                (u16::from(first & 0x0f) << 12) | (b1 << 6) | b2
            }
            other => return Err(StringError::BadUtf8(other)),
        };
        push_utf16(unit, out, pending);
    }
    Ok(pos)
}

/// The bytes `units` UTF-16 code units take at the start of `input`, checked as [`read_units`]
/// checks them but without building the text (skipping a value).
pub(super) fn skip_units(input: &[u8], units: usize) -> Result<usize, StringError> {
    if input.get(..units).is_some_and(<[u8]>::is_ascii) {
        return Ok(units);
    }
    let mut pos = 0;
    for _ in 0..units {
        let first = *input.get(pos).ok_or(StringError::Truncated)?;
        pos += match first {
            0x00..=0x7f => 1,
            0xc0..=0xdf => {
                continuation(input, pos + 1)?;
                2
            }
            0xe0..=0xef => {
                continuation(input, pos + 1)?;
                continuation(input, pos + 2)?;
                3
            }
            other => return Err(StringError::BadUtf8(other)),
        };
    }
    Ok(pos)
}

fn continuation(input: &[u8], at: usize) -> Result<u16, StringError> {
    match input.get(at) {
        None => Err(StringError::Truncated),
        Some(&b) if b & 0xc0 == 0x80 => Ok(u16::from(b & 0x3f)),
        Some(&b) => Err(StringError::BadUtf8(b)),
    }
}

fn push_utf16(unit: u16, out: &mut String, pending: &mut Option<u16>) {
    match (pending.take(), unit) {
        (Some(high), 0xdc00..=0xdfff) => {
            let c = 0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(unit) - 0xdc00);
            out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        (high, _) => {
            if high.is_some() {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            match unit {
                0xd800..=0xdbff => *pending = Some(unit),
                0xdc00..=0xdfff => out.push(char::REPLACEMENT_CHARACTER),
                _ => out.push(char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER)),
            }
        }
    }
}

/// Ends a string: a high surrogate left without its pair becomes U+FFFD.
pub(super) fn finish(out: &mut String, pending: &mut Option<u16>) {
    if pending.take().is_some() {
        out.push(char::REPLACEMENT_CHARACTER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_beyond_the_bmp_is_two_surrogates_of_three_bytes() {
        // hessian-lite 4.0.3 writes U+1F600 as `02 ed a0 bd ed b8 80`.
        let mut out = BytesMut::new();
        push_cesu8("\u{1F600}", &mut out);
        assert_eq!(out[..], [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]);
        assert_eq!(utf16_len("\u{1F600}"), 2);
        let (mut text, mut pending) = (String::new(), None);
        assert_eq!(read_units(&out, 2, &mut text, &mut pending), Ok(6));
        finish(&mut text, &mut pending);
        assert_eq!(text, "\u{1F600}");
    }

    #[test]
    fn four_byte_utf8_is_refused_as_java_refuses_it() {
        let (mut text, mut pending) = (String::new(), None);
        assert_eq!(read_units(&[0xf0, 0x9f, 0x98, 0x80], 1, &mut text, &mut pending), Err(StringError::BadUtf8(0xf0)));
    }

    #[test]
    fn chunks_never_split_a_surrogate_pair() {
        let text = format!("{}\u{1F600}tail", "a".repeat(CHUNK_UNITS - 1));
        let parts: Vec<_> = chunks(&text).collect();
        assert_eq!(parts[0].1, CHUNK_UNITS - 1);
        assert_eq!(parts[1], ("\u{1F600}tail", 6));
    }

    #[test]
    fn a_lone_surrogate_becomes_the_replacement_character() {
        let (mut text, mut pending) = (String::new(), None);
        read_units(&[0xed, 0xa0, 0xbd, b'x'], 2, &mut text, &mut pending).unwrap();
        finish(&mut text, &mut pending);
        assert_eq!(text, "\u{FFFD}x");
    }
}

//! A structural check of MessagePack before serde sees it, so that decoding never reserves more
//! than the input can fill.
//!
//! rmp-serde hands serde each array's and map's declared length as a size hint, and serde
//! reserves from it (up to 1 MiB per collection, by `size_hint::cautious`); a buffered enum
//! (internally tagged, untagged, `flatten`) reserves at every nesting level. Five bytes can
//! declare four billion entries, so 5 KB of nested `map32` headers made serde reserve a gigabyte.
//! Checked first, every declared length is one the input holds: each array element and map entry
//! is there (at least a byte each), every string, binary and extension is all there, nothing
//! trails the value, and nesting stays within [`MAX_DEPTH`]. Then the sum of all declared lengths
//! is at most the input's length, and so is what serde reserves from them (times the size of
//! what it stores per element).

use std::ops::Range;

/// How deeply arrays and maps may nest (serde_json's limit for JSON is the same).
pub const MAX_DEPTH: usize = 128;

/// Checks that `bytes` is exactly one well-formed MessagePack value nested at most
/// [`MAX_DEPTH`] deep.
///
/// # Errors
///
/// What is wrong and where (a byte offset).
#[cfg_attr(
    not(any(test, feature = "fuzzing")),
    expect(
        dead_code,
        reason = "decoding checks with `check_within`; the fuzz targets use this"
    )
)]
pub fn check(bytes: &[u8]) -> Result<(), String> {
    check_within(bytes, MAX_DEPTH)
}

/// [`check`] with nesting limited to `max_depth` levels: for a value read out of a message whose
/// outer levels were read by hand, so that the limit counts from the message's top.
///
/// # Errors
///
/// As [`check`].
pub(crate) fn check_within(bytes: &[u8], max_depth: usize) -> Result<(), String> {
    let end = value_end_within(bytes, 0, max_depth)?;
    if end != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the MessagePack value",
            bytes.len() - end
        ));
    }
    Ok(())
}

/// Where the MessagePack value that starts at byte `start` of `bytes` ends (the offset just
/// past it), checked as [`check`] checks a whole input: every length it declares fits in
/// `bytes`, and it nests at most [`MAX_DEPTH`] deep.
///
/// # Errors
///
/// What is wrong and where (a byte offset).
pub fn value_end(bytes: &[u8], start: usize) -> Result<usize, String> {
    value_end_within(bytes, start, MAX_DEPTH)
}

fn value_end_within(bytes: &[u8], start: usize, max_depth: usize) -> Result<usize, String> {
    match flat_end(bytes, start, max_depth) {
        Some(end) => Ok(end),
        None => walk_end(bytes, start, max_depth),
    }
}

/// [`value_end_within`] of any value: a walk through its levels.
fn walk_end(bytes: &[u8], start: usize, max_depth: usize) -> Result<usize, String> {
    let mut at = start;
    // Values still expected at each open level (the value itself at the bottom). A frame's
    // decoder calls this for every field, and most fields nest a few levels at most.
    let mut open = Levels::default();
    let mut depth = 1;
    *open.at(0) = 1;
    while depth > 0 {
        let left = open.at(depth - 1);
        if *left == 0 {
            depth -= 1;
            continue;
        }
        *left -= 1;
        let Some(&marker) = bytes.get(at) else {
            return Err(format!("MessagePack value cut short at byte {at}"));
        };
        at += 1;
        let (skip, children) = head(bytes, &mut at, marker)?;
        at = after_data(bytes, at, skip)?;
        if children > 0 {
            // Every element takes a byte at least: more than the input holds is a lie.
            let after = (bytes.len() - at) as u64;
            if children > after {
                return Err(format!(
                    "MessagePack collection at byte {at} declares {children} values, but only \
                     {after} bytes remain"
                ));
            }
            if depth > max_depth {
                return Err(format!(
                    "MessagePack nesting deeper than {max_depth} levels at byte {at}"
                ));
            }
            *open.at(depth) = children;
            depth += 1;
        }
    }
    Ok(at)
}

/// What the marker at `at - 1` declares: how many bytes of data follow its head (moving `at`
/// past the head), and how many values it holds.
#[inline(always)]
fn head(bytes: &[u8], at: &mut usize, marker: u8) -> Result<(u64, u64), String> {
    Ok(match marker {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
        0x80..=0x8f => (0, 2 * u64::from(marker & 0x0f)),
        0x90..=0x9f => (0, u64::from(marker & 0x0f)),
        0xa0..=0xbf => (u64::from(marker & 0x1f), 0),
        0xc4 | 0xd9 => (length(bytes, at, 1)?, 0),
        0xc5 | 0xda => (length(bytes, at, 2)?, 0),
        0xc6 | 0xdb => (length(bytes, at, 4)?, 0),
        // ext: a length, then a type byte and the data.
        0xc7 => (length(bytes, at, 1)? + 1, 0),
        0xc8 => (length(bytes, at, 2)? + 1, 0),
        0xc9 => (length(bytes, at, 4)? + 1, 0),
        0xca | 0xce | 0xd2 => (4, 0),
        0xcb | 0xcf | 0xd3 => (8, 0),
        0xcc | 0xd0 => (1, 0),
        0xcd | 0xd1 => (2, 0),
        0xd4 => (2, 0),
        0xd5 => (3, 0),
        0xd6 => (5, 0),
        0xd7 => (9, 0),
        0xd8 => (17, 0),
        0xdc => (0, length(bytes, at, 2)?),
        0xdd => (0, length(bytes, at, 4)?),
        0xde => (0, 2 * length(bytes, at, 2)?),
        0xdf => (0, 2 * length(bytes, at, 4)?),
        0xc1 => {
            return Err(format!(
                "MessagePack marker 0xc1 (never used) at byte {}",
                *at - 1
            ));
        }
    })
}

/// Where `skip` bytes of data from `at` end, if they are all there.
#[inline(always)]
fn after_data(bytes: &[u8], at: usize, skip: u64) -> Result<usize, String> {
    let remaining = (bytes.len() - at) as u64;
    if skip > remaining {
        return Err(format!(
            "MessagePack data of {skip} bytes at byte {at}, but only {remaining} bytes remain"
        ));
    }
    Ok(at + skip as usize)
}

/// [`walk_end`] of a value that is a scalar, or an array of scalars (what an invoke's
/// arguments and a reply's value mostly are), without the general walk's bookkeeping. `None`
/// for any other value, and for anything wrong (the walk then words the error): where this
/// finds an end, the walk finds the same.
fn flat_end(bytes: &[u8], start: usize, max_depth: usize) -> Option<usize> {
    let mut at = start;
    let marker = *bytes.get(at)?;
    at += 1;
    let (skip, children) = head(bytes, &mut at, marker).ok()?;
    at = after_data(bytes, at, skip).ok()?;
    if children == 0 {
        return Some(at);
    }
    if !(0x90..=0x9f).contains(&marker) || max_depth == 0 {
        return None;
    }
    for _ in 0..children {
        let marker = *bytes.get(at)?;
        at += 1;
        let (skip, children) = head(bytes, &mut at, marker).ok()?;
        if children > 0 {
            return None;
        }
        at = after_data(bytes, at, skip).ok()?;
    }
    Some(at)
}

/// Levels on the stack first, the deeper ones (up to [`MAX_DEPTH`]) on the heap: clearing room
/// for every level a value may reach would cost more than checking most values.
#[derive(Default)]
struct Levels {
    first: [u64; 16],
    deeper: Vec<u64>,
}

impl Levels {
    fn at(&mut self, level: usize) -> &mut u64 {
        match level.checked_sub(self.first.len()) {
            None => &mut self.first[level],
            Some(deeper) => {
                if self.deeper.len() <= deeper {
                    self.deeper.resize(deeper + 1, 0);
                }
                &mut self.deeper[deeper]
            }
        }
    }
}

/// A message's outer map read by hand, as every peer of this project writes it (serde's derive
/// and the JavaScript peers write the fields in this order): `{"t": kind, "id": N, kind: body}`,
/// where `kind` (`call`, `reply`) also names the body's field. Returns the id and where the body
/// lies (to the end of `bytes`). `None` for anything else (another kind, another order or
/// encoding, a field more or less): the caller then decodes the message as serde does, which
/// also words the errors.
///
/// Serde reads such a map through its generic machinery (each key decoded as a string and
/// matched, the whole message checked first); by hand it is a few comparisons of bytes, and
/// only the body is left for serde (and checked).
pub(crate) fn tagged_map<const N: usize>(
    bytes: &[u8],
    kind: &[u8; N],
) -> Option<(u64, Range<usize>)> {
    let rest = expect(bytes, &[0x83, 0xa1, b't'])?;
    let rest = expect_str(rest, kind)?;
    let rest = expect(rest, &[0xa2, b'i', b'd'])?;
    let mut at = bytes.len() - rest.len();
    let id = uint(bytes, &mut at)?;
    let rest = expect_str(&bytes[at..], kind)?;
    Some((id, bytes.len() - rest.len()..bytes.len()))
}

/// A call's or a reply's body (at `within` in `bytes`) read by hand, as every peer of this
/// project writes it: `{"m": method, key: value}`, the value running to the end of `within`.
/// Returns the method's name and where the value lies in `bytes`. `None` for anything else.
pub(crate) fn method_map<'a, const N: usize>(
    bytes: &'a [u8],
    within: Range<usize>,
    key: &[u8; N],
) -> Option<(&'a str, Range<usize>)> {
    let rest = expect(bytes.get(within.clone())?, &[0x82, 0xa1, b'm'])?;
    let (method, after) = key_str(bytes, within.end - rest.len())?;
    let rest = expect_str(bytes.get(after..within.end)?, key)?;
    Some((method, within.end - rest.len()..within.end))
}

/// A reply's outcome (at `within` in `bytes`) read by hand: `{"Ok": value}` or
/// `{"Err": value}`, the value running to the end of `within`. Returns whether it is `Ok`, and
/// where the value lies in `bytes`.
pub(crate) fn outcome(bytes: &[u8], within: Range<usize>) -> Option<(bool, Range<usize>)> {
    let map = bytes.get(within.clone())?;
    let (ok, rest) = match expect(map, &[0x81, 0xa2, b'O', b'k']) {
        Some(rest) => (true, rest),
        None => (false, expect(map, &[0x81, 0xa3, b'E', b'r', b'r'])?),
    };
    Some((ok, within.end - rest.len()..within.end))
}

/// Appends `text` as a MessagePack string in the shortest form (as serde's encoder writes it).
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    let len = text.len();
    match len {
        0..=31 => out.push(0xa0 | len as u8),
        32..=0xff => out.extend_from_slice(&[0xd9, len as u8]),
        0x100..=0xffff => {
            out.push(0xda);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdb);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(text.as_bytes());
}

/// Unsigned integers at the edges of each of MessagePack's widths: what tests of writers that
/// pick the shortest form go through.
#[cfg(test)]
pub(crate) const WIDTH_EDGES: [u64; 11] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x1_0000,
    0xffff_ffff,
    0x1_0000_0000,
    u64::MAX,
];

/// `n` in the shortest of MessagePack's unsigned forms (as serde's encoder writes it): the
/// bytes, and how many of them are used.
#[inline]
pub(crate) fn uint_bytes(n: u64) -> ([u8; 9], usize) {
    let mut bytes = [0u8; 9];
    let be = n.to_be_bytes();
    let (marker, width) = match n {
        0..=0x7f => {
            bytes[0] = be[7];
            return (bytes, 1);
        }
        0x80..=0xff => (0xcc, 1),
        0x100..=0xffff => (0xcd, 2),
        0x1_0000..=0xffff_ffff => (0xce, 4),
        _ => (0xcf, 8),
    };
    bytes[0] = marker;
    bytes[1..=width].copy_from_slice(&be[8 - width..]);
    (bytes, 1 + width)
}

/// What follows `text` at the start of `bytes`, if `bytes` starts with it.
#[inline]
fn expect<'a, const N: usize>(bytes: &'a [u8], text: &[u8; N]) -> Option<&'a [u8]> {
    // Compared as arrays of a size known here: a few loads and compares, not a call to the
    // library's comparison of unknown lengths.
    let (head, rest) = bytes.split_first_chunk::<N>()?;
    (head == text).then_some(rest)
}

/// What follows the short string (`fixstr`) `text` at the start of `bytes`.
#[inline]
fn expect_str<'a, const N: usize>(bytes: &'a [u8], text: &[u8; N]) -> Option<&'a [u8]> {
    const { assert!(N < 32, "a fixstr holds at most 31 bytes") };
    let (&marker, rest) = bytes.split_first()?;
    if marker != 0xa0 | N as u8 {
        return None;
    }
    expect(rest, text)
}

/// The MessagePack string at byte `at` of `bytes`, and where it ends; `None` when what is there
/// is not a string (or is cut short).
pub(crate) fn key_str(bytes: &[u8], at: usize) -> Option<(&str, usize)> {
    let marker = *bytes.get(at)?;
    let width = match marker {
        0xa0..=0xbf => 0,
        0xd9 => 1,
        0xda => 2,
        0xdb => 4,
        _ => return None,
    };
    let mut start = at + 1;
    let len = match width {
        0 => usize::from(marker & 0x1f),
        width => usize::try_from(length(bytes, &mut start, width).ok()?).ok()?,
    };
    let end = start.checked_add(len)?;
    Some((std::str::from_utf8(bytes.get(start..end)?).ok()?, end))
}

/// An unsigned integer in any of MessagePack's unsigned forms, at `at` (moved past it).
#[inline]
fn uint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let (&marker, rest) = bytes.get(*at..)?.split_first()?;
    let (n, width) = match marker {
        0x00..=0x7f => (u64::from(marker), 0),
        0xcc => (u64::from(*rest.first()?), 1),
        0xcd => (u64::from(u16::from_be_bytes(*rest.first_chunk()?)), 2),
        0xce => (u64::from(u32::from_be_bytes(*rest.first_chunk()?)), 4),
        0xcf => (u64::from_be_bytes(*rest.first_chunk()?), 8),
        _ => return None,
    };
    *at += 1 + width;
    Some(n)
}

/// Reads a big-endian length of `width` bytes.
fn length(bytes: &[u8], at: &mut usize, width: usize) -> Result<u64, String> {
    let Some(field) = bytes.get(*at..*at + width) else {
        return Err(format!("MessagePack length cut short at byte {at}"));
    };
    *at += width;
    Ok(field.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the flat reading finds an end, the walk finds the same one; where it finds none,
    /// the walk decides (every input of up to three bytes, and arrays of every element kind).
    #[test]
    fn the_flat_reading_agrees_with_the_walk() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            inputs.push(vec![a]);
            for b in 0..=255u8 {
                inputs.push(vec![a, b]);
                inputs.push(vec![0x92, a, b]);
                inputs.push(vec![a, b, 0x01]);
                inputs.push(vec![0x91, a, b, 0x00]);
            }
        }
        inputs.push(rmp_serde::to_vec(&("text", 1u64 << 40, -3i64, 1.5f64, true)).unwrap());
        inputs.push(rmp_serde::to_vec(&(vec![1u8], "x")).unwrap());
        inputs.push(rmp_serde::to_vec(&"y".repeat(300)).unwrap());
        let mut flat = 0;
        for bytes in &inputs {
            for max_depth in [0, 1, MAX_DEPTH] {
                let walked = walk_end(bytes, 0, max_depth);
                if let Some(end) = flat_end(bytes, 0, max_depth) {
                    flat += 1;
                    assert_eq!(Ok(end), walked, "{bytes:x?} at depth {max_depth}");
                }
                assert_eq!(value_end_within(bytes, 0, max_depth), walked, "{bytes:x?}");
            }
        }
        assert!(flat > 100_000, "the flat reading took {flat}");
    }

    #[test]
    fn strings_and_unsigned_integers_are_written_as_serde_writes_them() {
        for len in [0, 1, 31, 32, 255, 256, 65_535, 65_536] {
            let text = "x".repeat(len);
            let mut ours = Vec::new();
            write_str(&mut ours, &text);
            assert_eq!(
                ours,
                rmp_serde::to_vec(&text).unwrap(),
                "a string of {len} bytes"
            );
        }
        for n in WIDTH_EDGES {
            let (bytes, len) = uint_bytes(n);
            assert_eq!(bytes[..len], rmp_serde::to_vec(&n).unwrap()[..], "{n}");
        }
    }

    fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec_named(value).unwrap()
    }

    #[test]
    fn accepts_what_the_encoder_writes() {
        #[derive(serde::Serialize)]
        #[serde(tag = "kind")]
        enum Shape {
            Circle { r: f64 },
        }
        let values = (
            "text",
            vec![1u32, 300, 70_000, u32::MAX],
            Some(-5i64),
            None::<u8>,
            serde_bytes_like(vec![0u8; 70_000]),
            Shape::Circle { r: 1.5 },
            std::collections::BTreeMap::from([("a", true), ("b", false)]),
            f32::MIN,
            "é".repeat(40_000),
        );
        check(&encode(&values)).unwrap();
        check(&encode(&())).unwrap();
        check(&[0xc0]).unwrap();
    }

    fn serde_bytes_like(data: Vec<u8>) -> crate::wire::Bytes {
        data.into()
    }

    #[test]
    fn refuses_lengths_the_input_cannot_hold() {
        // The attack: an array, then map32 headers claiming 4 G entries each.
        let mut attack = vec![0x91];
        for _ in 0..1000 {
            attack.extend_from_slice(&[0xdf, 0xff, 0xff, 0xff, 0xff]);
        }
        let error = check(&attack).unwrap_err();
        assert!(error.contains("declares 8589934590 values"), "{error}");
        assert!(
            check(&[0xdd, 0, 0, 0, 3, 1, 2]).is_err(),
            "3 elements declared, 2 there"
        );
        assert!(
            check(&[0xdb, 0, 0, 0, 9, b'a']).is_err(),
            "a string cut short"
        );
        assert!(check(&[0xc6, 0xff, 0xff]).is_err(), "a length cut short");
        assert!(check(&[0xc7, 4, 1, 1]).is_err(), "an ext cut short");
        assert!(check(&[0x91]).is_err(), "an empty input for the element");
        assert!(check(&[]).is_err());
        assert!(check(&[0xc1]).is_err());
        assert!(check(&[0x01, 0x02]).unwrap_err().contains("trailing"));
    }

    #[test]
    fn refuses_nesting_past_the_limit() {
        let mut deep = vec![0x91; MAX_DEPTH];
        deep.push(0x01);
        check(&deep).unwrap();
        let mut deeper = vec![0x91; MAX_DEPTH + 1];
        deeper.push(0x01);
        assert!(check(&deeper).unwrap_err().contains("nesting"));
    }
}

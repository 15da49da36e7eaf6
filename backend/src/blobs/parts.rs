//! The part objects of an upload in progress, and the pure rules over them.
//!
//! Every accepted tus chunk is its own object, `uploads/<attachment id>/<start>`, named by
//! the offset it starts at (20 digits, zero-padded, so that a listing's order is the
//! numeric order). S3 multipart parts must be at least 5 MiB except the last, while kits
//! send about 1 MiB per `PATCH`; separate objects have no such rule, can be written by
//! any backend node, and survive a node that dies between two chunks.
//!
//! The database's offset is authoritative; the objects may hold more than it says (a
//! request whose part was stored but whose offset update failed) or less (a part lost or
//! deleted behind the backend's back). Two rules make that safe:
//!
//! - **Reading:** part *i* contributes the bytes from its start up to the next part's
//!   start (or the end), so a part longer than the next one's start is cut there;
//!   a part that ends before the next one starts is a gap.
//! - **Writing at `offset`:** the parts must hold every byte before `offset` by the
//!   reading rule, else the upload restarts from 0; and every part starting after
//!   `offset` is stale (a refused or abandoned request, or an earlier try) and is deleted
//!   first, so it can never be read into a later file. The part at `offset` itself is
//!   simply overwritten.
//!
//! Whatever the objects hold, the whole file is hashed against the signed manifest before
//! the upload counts, so these rules decide only *when* a broken upload restarts.

/// One stored part: where it starts in the upload and how many bytes it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Offset of its first byte in the upload.
    pub start: u64,
    /// Bytes in the object.
    pub size: u64,
}

/// A range of one part to read, in upload offsets: `start .. start + len`, all taken from
/// the part that starts at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The part's start (also the first offset read).
    pub start: u64,
    /// Bytes read from the part's beginning.
    pub len: u64,
}

/// The object name of the part starting at `start`.
pub fn name(start: u64) -> String {
    format!("{start:020}")
}

/// The start offset a part's object name stands for; `None` for any other name (a
/// file system's staging file, a stray object), which is then ignored.
pub fn parse_name(name: &str) -> Option<u64> {
    if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// The segments that make up bytes `0 .. upto` by the reading rule; `Err(held)` with
/// the number of leading bytes the parts do hold when they do not reach `upto`.
/// `parts` may be in any order; parts starting at or after `upto` are not read.
pub fn segments(parts: &[Part], upto: u64) -> Result<Vec<Segment>, u64> {
    let mut used: Vec<Part> = parts.iter().copied().filter(|p| p.start < upto).collect();
    used.sort_by_key(|p| p.start);
    let mut out = Vec::with_capacity(used.len());
    let mut pos = 0u64;
    for (i, part) in used.iter().enumerate() {
        if part.start != pos {
            return Err(pos);
        }
        let until = used.get(i + 1).map_or(upto, |next| next.start);
        let end = part.start.saturating_add(part.size);
        let len = end.min(until) - part.start;
        out.push(Segment {
            start: part.start,
            len,
        });
        pos = part.start + len;
        if end < until {
            return Err(pos);
        }
    }
    if pos < upto {
        return Err(pos);
    }
    Ok(out)
}

/// What writing a chunk at `offset` needs first: the starts of the stale parts to
/// delete, or `Err(held)` when the parts do not hold every byte before `offset`.
pub fn before_write(parts: &[Part], offset: u64) -> Result<Vec<u64>, u64> {
    segments(parts, offset)?;
    Ok(parts
        .iter()
        .filter(|p| p.start > offset)
        .map(|p| p.start)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(start: u64, size: u64) -> Part {
        Part { start, size }
    }

    fn s(start: u64, len: u64) -> Segment {
        Segment { start, len }
    }

    #[test]
    fn names_sort_numerically_and_nothing_else_parses() {
        assert_eq!(name(0), "00000000000000000000");
        assert_eq!(parse_name(&name(1_048_576)), Some(1_048_576));
        assert!(name(9) < name(10));
        for other in [
            "",
            "12",
            "0000000000000000001x",
            "00000000000000000000#1",
            "-0000000000000000001",
        ] {
            assert_eq!(parse_name(other), None, "{other:?}");
        }
    }

    /// Parts, the bytes wanted, and what [`segments`] says.
    type Case<'a> = (&'a [Part], u64, Result<Vec<Segment>, u64>);

    #[test]
    fn segments_follow_the_reading_rule() {
        let table: &[Case] = &[
            // Nothing needed, nothing held.
            (&[], 0, Ok(vec![])),
            (&[], 10, Err(0)),
            // Contiguous chunks, in any order.
            (&[p(5, 5), p(0, 5)], 10, Ok(vec![s(0, 5), s(5, 5)])),
            // A longer part is cut at the next start (bytes of a refused request).
            (&[p(0, 8), p(5, 5)], 10, Ok(vec![s(0, 5), s(5, 5)])),
            // ... and at the end.
            (&[p(0, 12)], 10, Ok(vec![s(0, 10)])),
            // Parts beyond the end are not read.
            (&[p(0, 10), p(10, 3)], 10, Ok(vec![s(0, 10)])),
            // A lost first part.
            (&[p(5, 5)], 10, Err(0)),
            // A lost middle part: the first five bytes are all that is held.
            (&[p(0, 5), p(7, 3)], 10, Err(5)),
            // A part shorter than its successor's start.
            (&[p(0, 4), p(5, 5)], 10, Err(4)),
            // Short at the end.
            (&[p(0, 5), p(5, 3)], 10, Err(8)),
        ];
        for (parts, upto, expected) in table {
            assert_eq!(&segments(parts, *upto), expected, "{parts:?} up to {upto}");
        }
    }

    #[test]
    fn a_write_deletes_later_parts_and_needs_everything_before_it() {
        assert_eq!(before_write(&[], 0), Ok(vec![]));
        // A restart at 0 after a discarded upload deletes every old part but the first,
        // which the new chunk overwrites.
        let mut stale = before_write(&[p(0, 5), p(5, 5), p(10, 5)], 0).expect("ok");
        stale.sort_unstable();
        assert_eq!(stale, [5, 10]);
        // A retried chunk: the part at the offset is overwritten, later ones go.
        assert_eq!(before_write(&[p(0, 5), p(5, 9), p(9, 1)], 5), Ok(vec![9]));
        assert_eq!(before_write(&[p(0, 5)], 5), Ok(vec![]));
        assert_eq!(before_write(&[p(0, 5)], 7), Err(5));
        assert_eq!(before_write(&[p(5, 5)], 10), Err(0));
    }
}

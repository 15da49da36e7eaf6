//! The per-kit hash chain. Each record names its predecessor by `prev_hash`, the SHA-256
//! of the previous record's payload bytes (all zeros at seq 1), and `seq` is dense from 1.
//!
//! Two pure checks live here: [`verify_run`] looks at a run of records (a kit's local
//! queue, a backend's stored log, a test vector) and reports every gap, wrong link and
//! fork as data; [`classify_incoming`] is the backend's decision for one arriving record
//! given what it already holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::Sha256Hash;
use crate::record::SignedRecord;

/// The chain-relevant part of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainLink {
    /// The record's seq.
    pub seq: u64,
    /// The hash it claims for its predecessor.
    pub prev_hash: Sha256Hash,
    /// Its own hash (SHA-256 of its payload bytes).
    pub hash: Sha256Hash,
}

impl From<&SignedRecord> for ChainLink {
    fn from(r: &SignedRecord) -> Self {
        Self {
            seq: r.record.seq,
            prev_hash: r.record.prev_hash,
            hash: r.hash,
        }
    }
}

/// A link known to be good, from which a run continues (e.g. the last record a
/// backend holds, or the last one a kit has verified before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainAnchor {
    /// Its seq.
    pub seq: u64,
    /// Its hash.
    pub hash: Sha256Hash,
}

/// One problem in a run of records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum ChainFinding {
    /// Records `seq ..= last_missing` are missing.
    Gap {
        /// The first missing seq: "resend from seq N".
        seq: u64,
        /// The last missing seq.
        last_missing: u64,
    },
    /// The record at `seq` does not name its predecessor's hash.
    WrongLink {
        /// The record whose `prev_hash` is wrong.
        seq: u64,
        /// The predecessor's actual hash.
        expected_prev: Sha256Hash,
        /// What the record claims.
        found_prev: Sha256Hash,
    },
    /// Two or more different validly signed records share `seq`.
    Fork {
        /// The contested seq.
        seq: u64,
        /// The distinct record hashes found there, sorted.
        hashes: Vec<Sha256Hash>,
    },
}

/// Checks a run of links (in any order; duplicates of the same record are harmless)
/// continuing from `anchor`, or from the start of the chain when `anchor` is `None`.
/// Returns the findings in seq order; an empty result means the run is one unbroken chain.
pub fn verify_run(anchor: Option<ChainAnchor>, links: &[ChainLink]) -> Vec<ChainFinding> {
    let start = anchor.map_or(0, |a| a.seq);
    let mut by_seq: BTreeMap<u64, BTreeMap<Sha256Hash, Sha256Hash>> = BTreeMap::new();
    for link in links {
        by_seq
            .entry(link.seq)
            .or_default()
            .insert(link.hash, link.prev_hash);
    }

    let mut findings = Vec::new();
    // The hashes a record at `expected` may legitimately name as its predecessor: the
    // anchor's, and at a fork every side of it.
    let mut predecessors: Vec<Sha256Hash> = vec![anchor.map_or(Sha256Hash::ZERO, |a| a.hash)];
    if let Some(a) = anchor {
        if let Some(at_anchor) = by_seq.get(&a.seq) {
            if at_anchor.keys().any(|h| *h != a.hash) {
                predecessors.extend(at_anchor.keys().copied());
                let mut hashes: Vec<_> = at_anchor.keys().copied().collect();
                hashes.push(a.hash);
                hashes.sort();
                hashes.dedup();
                findings.push(ChainFinding::Fork { seq: a.seq, hashes });
            }
        }
    }

    let mut expected = start + 1;
    for (&seq, records) in by_seq.range(expected..) {
        if seq > expected {
            findings.push(ChainFinding::Gap {
                seq: expected,
                last_missing: seq - 1,
            });
            // The predecessor is missing, so this record's link cannot be judged.
        } else {
            for &prev in records.values() {
                if !predecessors.contains(&prev) {
                    findings.push(ChainFinding::WrongLink {
                        seq,
                        expected_prev: predecessors[0],
                        found_prev: prev,
                    });
                }
            }
        }
        if records.len() > 1 {
            findings.push(ChainFinding::Fork {
                seq,
                hashes: records.keys().copied().collect(),
            });
        }
        predecessors = records.keys().copied().collect();
        expected = seq + 1;
    }
    findings
}

/// What a backend does with one arriving, validly signed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Incoming {
    /// The next record: store it and issue a receipt.
    Append,
    /// The very record already stored at that seq: answer with the original receipt.
    Duplicate,
    /// A different record at a seq already taken: keep both as evidence, quarantine the kit.
    Fork,
    /// Records are missing before this one: ask for a resend.
    Gap {
        /// The first seq the backend does not have.
        resend_from: u64,
    },
    /// The next seq, but it does not name the stored predecessor's hash.
    WrongLink,
}

/// Classifies an arriving record against the kit's stored head and the hash stored at
/// the record's seq (which the caller must look up whenever `link.seq <= head.seq`; a
/// missing entry below the head is treated as a broken link and refused).
pub fn classify_incoming(
    head: Option<ChainAnchor>,
    stored_at_seq: Option<Sha256Hash>,
    link: &ChainLink,
) -> Incoming {
    if let Some(stored) = stored_at_seq {
        return if stored == link.hash {
            Incoming::Duplicate
        } else {
            Incoming::Fork
        };
    }
    let head_seq = head.map_or(0, |h| h.seq);
    let head_hash = head.map_or(Sha256Hash::ZERO, |h| h.hash);
    if link.seq == head_seq + 1 {
        if link.prev_hash == head_hash {
            Incoming::Append
        } else {
            Incoming::WrongLink
        }
    } else if link.seq > head_seq + 1 {
        Incoming::Gap {
            resend_from: head_seq + 1,
        }
    } else {
        Incoming::WrongLink
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> Sha256Hash {
        Sha256Hash([n; 32])
    }

    fn chain(n: u8) -> Vec<ChainLink> {
        (1..=n)
            .map(|i| ChainLink {
                seq: u64::from(i),
                prev_hash: if i == 1 { Sha256Hash::ZERO } else { h(i - 1) },
                hash: h(i),
            })
            .collect()
    }

    #[test]
    fn an_unbroken_run_in_any_order_has_no_findings() {
        let mut links = chain(5);
        links.reverse();
        links.push(links[0]);
        assert_eq!(verify_run(None, &links), vec![]);
    }

    #[test]
    fn a_missing_record_is_reported_as_a_gap_with_the_resend_point() {
        let mut links = chain(6);
        links.remove(2);
        links.remove(2);
        assert_eq!(
            verify_run(None, &links),
            vec![ChainFinding::Gap {
                seq: 3,
                last_missing: 4
            }]
        );
    }

    #[test]
    fn a_run_from_an_anchor_checks_its_first_link_against_it() {
        let links = chain(4);
        let anchor = ChainAnchor { seq: 2, hash: h(2) };
        assert_eq!(verify_run(Some(anchor), &links[2..]), vec![]);
        let wrong = ChainAnchor { seq: 2, hash: h(9) };
        assert!(matches!(
            verify_run(Some(wrong), &links[2..]).as_slice(),
            [ChainFinding::WrongLink { seq: 3, .. }]
        ));
    }

    #[test]
    fn another_record_at_the_anchor_seq_is_a_fork_even_beside_the_anchor_itself() {
        let links = chain(3);
        let other = ChainLink {
            seq: 2,
            prev_hash: h(1),
            hash: h(9),
        };
        let anchor = ChainAnchor { seq: 2, hash: h(2) };
        let run = [links[1], other, links[2]];
        assert_eq!(
            verify_run(Some(anchor), &run),
            vec![ChainFinding::Fork {
                seq: 2,
                hashes: vec![h(2), h(9)]
            }]
        );
    }

    #[test]
    fn incoming_records_are_classified_as_the_protocol_says() {
        let head = Some(ChainAnchor { seq: 3, hash: h(3) });
        let next = ChainLink {
            seq: 4,
            prev_hash: h(3),
            hash: h(4),
        };
        assert_eq!(classify_incoming(head, None, &next), Incoming::Append);
        assert_eq!(
            classify_incoming(None, None, &chain(1)[0]),
            Incoming::Append
        );
        let bad_link = ChainLink {
            prev_hash: h(8),
            ..next
        };
        assert_eq!(
            classify_incoming(head, None, &bad_link),
            Incoming::WrongLink
        );
        let ahead = ChainLink { seq: 6, ..next };
        assert_eq!(
            classify_incoming(head, None, &ahead),
            Incoming::Gap { resend_from: 4 }
        );
        let old = chain(2)[1];
        assert_eq!(
            classify_incoming(head, Some(h(2)), &old),
            Incoming::Duplicate
        );
        assert_eq!(classify_incoming(head, Some(h(7)), &old), Incoming::Fork);
        assert_eq!(classify_incoming(head, None, &old), Incoming::WrongLink);
    }
}

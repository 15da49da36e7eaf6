//! The sync planner: pure decisions about what to send next, from the kit's local view
//! and the backend's answer. No I/O, no clock, no randomness — so every rule of
//! PROTOCOL.md §6.3 ("Kit side") and §6.4 is tested here as a table of cases, and the
//! executor beside it only carries the plan out.

use std::collections::HashMap;

use fieldkit_catalog::Localized;
use sync_protocol::api::QueueBlock;

use crate::outbox::RecordState;

/// One local record the planner may consider: every pending record, and every record
/// after the backend's head (which the backend may have lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Chain position.
    pub seq: u64,
    /// Where the record stands locally.
    pub state: RecordState,
    /// Length of its envelope JSON; `None` once purged (it can no longer be resent).
    pub envelope_len: Option<usize>,
}

/// How large one batch may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Envelopes per batch (protocol maximum 100).
    pub max_records: usize,
    /// Bytes of envelope JSON per batch (protocol maximum 8 MiB for the whole body).
    pub max_bytes: usize,
}

/// Why the kit must stop sending records until IT staff act.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Blocked {
    /// The backend misses `seq`, which the kit holds as rejected or in conflict: the
    /// kit's chain is broken at the backend (§6.3; version 1 has no automatic recovery).
    ChainBroken {
        /// The record the backend would need.
        seq: u64,
    },
    /// The backend misses `seq`, whose envelope this kit already purged.
    CannotResend {
        /// The purged record.
        seq: u64,
    },
    /// The backend lost `seq` (it holds a receipt the backend issued) and now refuses it:
    /// IT staff must reconcile the backend.
    ResentRecordRefused {
        /// The record.
        seq: u64,
    },
    /// The backend quarantined this kit after a fork; IT staff must clear it.
    Quarantined,
    /// The backend revoked this kit.
    Revoked,
    /// A change of the backend's feed did not verify (unsigned, signed by a key this
    /// kit does not trust, for another kit, replayed): it was not acted on, and the
    /// changes after it wait until IT staff find out who sent it (PROTOCOL.md §6.5).
    /// Records are still sent.
    ChangeRefused {
        /// The cursor the kit stays at (the refused change comes after it).
        after: u64,
        /// Why it was refused.
        detail: String,
    },
}

impl Blocked {
    /// The record the planner stopped at, for the states a record causes.
    pub fn seq(&self) -> Option<u64> {
        self.queue_block().map(|(_, seq)| seq)
    }

    /// The states a record causes, as the kit reports them to the backend (§6.5
    /// `blocked`), with that record.
    pub fn queue_block(&self) -> Option<(QueueBlock, u64)> {
        match self {
            Self::ChainBroken { seq } => Some((QueueBlock::ChainBroken, *seq)),
            Self::CannotResend { seq } => Some((QueueBlock::CannotResend, *seq)),
            Self::ResentRecordRefused { seq } => Some((QueueBlock::ResentRecordRefused, *seq)),
            Self::Quarantined | Self::Revoked | Self::ChangeRefused { .. } => None,
        }
    }

    /// The reason's name as it travels (`chain_broken`, …).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ChainBroken { .. } => QueueBlock::ChainBroken.as_str(),
            Self::CannotResend { .. } => QueueBlock::CannotResend.as_str(),
            Self::ResentRecordRefused { .. } => QueueBlock::ResentRecordRefused.as_str(),
            Self::Quarantined => "quarantined",
            Self::Revoked => "revoked",
            Self::ChangeRefused { .. } => "change_refused",
        }
    }

    /// What the clerk is told, in German and English: what happened and what to do.
    pub fn message(&self) -> Localized {
        let (de, en) = match self {
            Self::ChainBroken { seq } => (
                format!("Der Server vermisst Datensatz {seq}, der hier als abgelehnt gilt. Weitere Anträge werden nicht gesendet, bleiben aber gespeichert. Bitte die IT verständigen."),
                format!("The server is missing record {seq}, which this kit holds as rejected. Further applications are not sent but stay stored. Please contact IT."),
            ),
            Self::CannotResend { seq } => (
                format!("Der Server vermisst Datensatz {seq}, der hier bereits bereinigt ist. Weitere Anträge bleiben gespeichert. Bitte die IT verständigen."),
                format!("The server is missing record {seq}, which this kit has already purged. Further applications stay stored. Please contact IT."),
            ),
            Self::ResentRecordRefused { seq } => (
                format!("Der Server hat Datensatz {seq} verloren und nimmt ihn nicht erneut an. Die Empfangsbestätigung ist hier gespeichert. Bitte die IT verständigen."),
                format!("The server has lost record {seq} and does not accept it again. Its receipt is stored on this kit. Please contact IT."),
            ),
            Self::Quarantined => (
                "Dieses Gerät ist vom Server gesperrt (Verdacht auf doppelte Datensätze). Anträge bleiben gespeichert. Bitte die IT verständigen.".into(),
                "The server has blocked this device (suspected duplicate records). Applications stay stored. Please contact IT.".into(),
            ),
            Self::Revoked => (
                "Dieses Gerät ist vom Server zurückgezogen. Bitte die IT verständigen.".into(),
                "The server has revoked this device. Please contact IT.".into(),
            ),
            Self::ChangeRefused { after, detail } => (
                format!("Eine Anweisung vom Server (nach Position {after}) trägt keine gültige Signatur und wurde nicht ausgeführt ({detail}). Bitte die IT verständigen."),
                format!("An instruction from the server (after position {after}) is not validly signed and was not carried out ({detail}). Please contact IT."),
            ),
        };
        Localized { de, en }
    }

    /// The German message, for the CLI (German first).
    pub fn message_de(&self) -> String {
        self.message().de
    }
}

/// What to do next in the push phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchPlan {
    /// Send these seqs, ascending, as one batch.
    Send(Vec<u64>),
    /// Nothing (more) to send.
    Done,
    /// Stop sending records.
    Blocked(Blocked),
}

/// The next batch, given the backend's head (`0` when it holds nothing) and the local
/// candidates in ascending seq order.
///
/// - Pending records at or below the head were stored but their receipt was lost (the
///   answer never arrived): sending them again fetches the original receipt.
/// - Records above the head are sent in chain order whatever their local state: a
///   delivered one the backend lost (restored from a backup) is sent again, because the
///   backend can only chain what follows it once it holds it.
/// - A rejected record above the head that something else must follow is a broken
///   chain; a purged one cannot be resent. Both block.
pub fn next_batch(server_head: u64, candidates: &[Candidate], limits: BatchLimits) -> BatchPlan {
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    let mut expected = server_head + 1;
    for (i, c) in candidates.iter().enumerate() {
        let wanted = if c.seq <= server_head {
            c.state == RecordState::Pending
        } else {
            if c.seq != expected {
                // A hole in the local view (the caller lists every record after the
                // head): nothing beyond it can chain.
                break;
            }
            expected += 1;
            match c.state {
                RecordState::Pending | RecordState::Delivered | RecordState::Complete => true,
                RecordState::Rejected => {
                    let more_follow = candidates[i + 1..]
                        .iter()
                        .any(|later| later.state != RecordState::Rejected);
                    if more_follow && batch.is_empty() {
                        return BatchPlan::Blocked(Blocked::ChainBroken { seq: c.seq });
                    }
                    // Send what precedes it; the next round decides.
                    break;
                }
                RecordState::Purged => {
                    if batch.is_empty() {
                        return BatchPlan::Blocked(Blocked::CannotResend { seq: c.seq });
                    }
                    break;
                }
            }
        };
        if !wanted {
            continue;
        }
        let Some(len) = c.envelope_len else {
            continue;
        };
        if !batch.is_empty()
            && (batch.len() >= limits.max_records || bytes + len > limits.max_bytes)
        {
            break;
        }
        batch.push(c.seq);
        bytes += len;
    }
    if batch.is_empty() {
        BatchPlan::Done
    } else {
        BatchPlan::Send(batch)
    }
}

/// Where an upload starts: the backend's offset when its state listed the upload, else
/// the creation request finds out (creation is idempotent and answers the offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStart {
    /// Resume at this offset without asking.
    Resume(u64),
    /// Send the creation `POST` first.
    Create,
}

/// The start of every local upload, from `GET /v1/state`'s `pending_uploads`.
pub fn upload_starts<'a>(
    local: impl IntoIterator<Item = &'a str>,
    server: &HashMap<String, u64>,
) -> Vec<(&'a str, UploadStart)> {
    local
        .into_iter()
        .map(|id| {
            let start = match server.get(id) {
                // Offset 0 may mean "not created yet": creation is needed then.
                Some(&offset) if offset > 0 => UploadStart::Resume(offset),
                _ => UploadStart::Create,
            };
            (id, start)
        })
        .collect()
}

/// The next chunk of an upload: `[offset, offset + len)`, or `None` when complete.
pub fn next_chunk(offset: u64, length: u64, chunk_size: u64) -> Option<(u64, u64)> {
    (offset < length).then(|| (offset, chunk_size.min(length - offset)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RecordState::{Complete, Delivered, Pending, Purged, Rejected};

    const LIMITS: BatchLimits = BatchLimits {
        max_records: 3,
        max_bytes: 1000,
    };

    fn c(seq: u64, state: RecordState) -> Candidate {
        Candidate {
            seq,
            state,
            envelope_len: (state != Purged).then_some(100),
        }
    }

    #[test]
    fn sends_pending_records_after_the_head_in_order_up_to_the_limit() {
        let local = [c(1, Pending), c(2, Pending), c(3, Pending), c(4, Pending)];
        assert_eq!(
            next_batch(0, &local, LIMITS),
            BatchPlan::Send(vec![1, 2, 3])
        );
        assert_eq!(next_batch(3, &local[3..], LIMITS), BatchPlan::Send(vec![4]));
    }

    #[test]
    fn nothing_to_send_is_done() {
        assert_eq!(next_batch(0, &[], LIMITS), BatchPlan::Done);
        assert_eq!(next_batch(7, &[], LIMITS), BatchPlan::Done);
    }

    #[test]
    fn pending_at_or_below_the_head_is_resent_to_fetch_the_lost_receipt() {
        // The backend stored 1–2 but the answer was lost.
        let local = [c(1, Pending), c(2, Pending), c(3, Pending)];
        assert_eq!(
            next_batch(2, &local, LIMITS),
            BatchPlan::Send(vec![1, 2, 3])
        );
    }

    #[test]
    fn delivered_records_the_backend_lost_are_sent_again() {
        // Backend restored from a backup holding only seq 1.
        let local = [c(2, Delivered), c(3, Complete), c(4, Pending)];
        assert_eq!(
            next_batch(1, &local, LIMITS),
            BatchPlan::Send(vec![2, 3, 4])
        );
    }

    #[test]
    fn a_rejected_record_the_backend_misses_blocks_what_follows() {
        let local = [c(3, Rejected), c(4, Pending)];
        assert_eq!(
            next_batch(2, &local, LIMITS),
            BatchPlan::Blocked(Blocked::ChainBroken { seq: 3 })
        );
    }

    #[test]
    fn a_rejected_last_record_does_not_block() {
        assert_eq!(next_batch(2, &[c(3, Rejected)], LIMITS), BatchPlan::Done);
    }

    #[test]
    fn records_before_a_rejected_one_are_still_sent() {
        let local = [c(3, Pending), c(4, Rejected), c(5, Pending)];
        assert_eq!(next_batch(2, &local, LIMITS), BatchPlan::Send(vec![3]));
    }

    #[test]
    fn a_purged_record_the_backend_misses_cannot_be_resent() {
        let local = [c(2, Purged), c(3, Pending)];
        assert_eq!(
            next_batch(1, &local, LIMITS),
            BatchPlan::Blocked(Blocked::CannotResend { seq: 2 })
        );
    }

    #[test]
    fn the_byte_limit_splits_batches_but_one_large_envelope_still_goes_alone() {
        let mut local = vec![c(1, Pending), c(2, Pending)];
        local[0].envelope_len = Some(900);
        local[1].envelope_len = Some(200);
        assert_eq!(next_batch(0, &local, LIMITS), BatchPlan::Send(vec![1]));
        local[0].envelope_len = Some(5000);
        assert_eq!(next_batch(0, &local, LIMITS), BatchPlan::Send(vec![1]));
    }

    #[test]
    fn a_hole_in_the_local_view_stops_the_batch() {
        let local = [c(1, Pending), c(3, Pending)];
        assert_eq!(next_batch(0, &local, LIMITS), BatchPlan::Send(vec![1]));
    }

    #[test]
    fn uploads_resume_at_the_servers_offset_or_create_first() {
        let server = HashMap::from([("a".to_owned(), 4096), ("b".to_owned(), 0)]);
        assert_eq!(
            upload_starts(["a", "b", "c"], &server),
            vec![
                ("a", UploadStart::Resume(4096)),
                ("b", UploadStart::Create),
                ("c", UploadStart::Create)
            ]
        );
    }

    #[test]
    fn chunks_cover_the_file_exactly() {
        assert_eq!(next_chunk(0, 2500, 1000), Some((0, 1000)));
        assert_eq!(next_chunk(2000, 2500, 1000), Some((2000, 500)));
        assert_eq!(next_chunk(2500, 2500, 1000), None);
        assert_eq!(next_chunk(0, 0, 1000), None);
    }
}

//! The push phase: batches planned by [`super::plan::next_batch`], sent with
//! `POST /v1/records`, their answers checked before anything is stored, then applied
//! in one transaction per batch.

use std::collections::HashMap;

use rusqlite::OptionalExtension as _;

use sync_protocol::api::{ProblemCode, PushBatchResponse};

use super::plan::{next_batch, BatchLimits, BatchPlan, Blocked, Candidate};
use super::response::{check_push_response, Applied};
use super::run::{json_body, Failure, Request, Run};
use super::{Phase, SyncEvent};
use crate::held_export::{BLOCKED_REASON, BLOCKED_SEQ};
use crate::kit::Session;
use crate::outbox::RecordState;
use crate::KitError;
use sync_protocol::held::BRIDGED_DETAIL_PREFIX;

/// What came back for one batch.
enum BatchAnswer {
    /// Checked results, ready to store.
    Results(PushBatchResponse, Vec<Applied>),
    /// 413: from the backend itself (`too-large`) or from something in between.
    TooLarge { from_backend: bool },
}

/// Batches in a row without any record settled before the run stops: the backend keeps
/// answering `gap` for what the kit sends, which the planner cannot repair.
const MAX_FRUITLESS_BATCHES: u32 = 3;

impl Run<'_> {
    pub(crate) fn block(&mut self, blocked: Blocked) -> Result<(), KitError> {
        if let Some(seq) = blocked.seq() {
            // Remembered for IT: `fieldkit export-held` starts here by default.
            Session::set_meta(&self.session.conn, BLOCKED_SEQ, &seq.to_string())?;
            Session::set_meta(&self.session.conn, BLOCKED_REASON, blocked.reason())?;
        }
        self.report.blocked = Some(blocked.clone());
        self.emit(SyncEvent::Blocked { blocked });
        Ok(())
    }

    /// The record an earlier run stopped at because the backend refused its resend,
    /// while the kit still holds its envelope.
    fn refused_resend(&self) -> Result<Option<Candidate>, KitError> {
        let Some((seq, reason)) = self.session.blocked_at()? else {
            return Ok(None);
        };
        if reason != (Blocked::ResentRecordRefused { seq }).reason() {
            return Ok(None);
        }
        let held: Option<(String, Option<usize>)> = self
            .session
            .conn
            .query_row(
                "SELECT state, length(envelope) FROM records WHERE seq = ?1",
                [seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match held {
            Some((state, Some(len))) => Some(Candidate {
                seq,
                state: RecordState::parse(&state)?,
                envelope_len: Some(len),
            }),
            _ => None,
        })
    }

    pub(crate) fn push(&mut self, mut head: u64) -> Result<(), KitError> {
        self.emit(SyncEvent::Phase { phase: Phase::Push });
        let total = self.session.pending_count()?;
        let mut settled = 0u64;
        self.emit(SyncEvent::Records { sent: 0, total });
        let mut limits = BatchLimits {
            max_records: self.options.batch_max_records.clamp(1, 100),
            max_bytes: self.options.batch_max_bytes,
        };
        let mut fruitless = 0;
        let kit_id = self.session.require_enrolment()?.kit_id;
        let trusted = self.session.trusted_server_keys()?;
        // A refused resend stays IT's business until the backend holds the record again
        // (PROTOCOL.md §11.4): each run first asks for it alone, and stops again while it
        // is refused.
        let mut recheck = self.refused_resend()?;
        loop {
            if self.cancel.is_cancelled() {
                return Err(KitError::Cancelled);
            }
            let mut candidates = self
                .session
                .sync_candidates(head, limits.max_records.saturating_mul(2) + 1)?;
            let planned = match recheck.take() {
                Some(c) => {
                    let seq = c.seq;
                    candidates.push(c);
                    BatchPlan::Send(vec![seq])
                }
                None => next_batch(head, &candidates, limits),
            };
            let seqs = match planned {
                BatchPlan::Done => {
                    // Nothing blocks (any more): forget where an earlier run stopped.
                    self.session.conn.execute(
                        "DELETE FROM meta WHERE key IN (?1, ?2)",
                        [BLOCKED_SEQ, BLOCKED_REASON],
                    )?;
                    return Ok(());
                }
                BatchPlan::Blocked(blocked) => {
                    return self.block(blocked);
                }
                BatchPlan::Send(seqs) => seqs,
            };
            let local_state: HashMap<u64, RecordState> =
                candidates.iter().map(|c| (c.seq, c.state)).collect();
            let (body, sent) = self.session.batch_body(&seqs)?;
            let request = Request {
                method: reqwest::Method::POST,
                path: "/v1/records".into(),
                headers: vec![("content-type", "application/json".into())],
                body,
                timeout: self.options.request_timeout,
            };
            let answer = self.call(&request, |response| {
                if response.status == 413 {
                    let from_backend = response
                        .problem()
                        .is_some_and(|p| p.code == ProblemCode::TooLarge);
                    return Ok(BatchAnswer::TooLarge { from_backend });
                }
                let parsed: PushBatchResponse = json_body(response, "records")?;
                let applied =
                    check_push_response(kit_id, &trusted, &sent, &parsed).map_err(|reason| {
                        Failure::Retry {
                            reason: format!("the answer to a batch is not trustworthy: {reason}"),
                            at_least: None,
                        }
                    })?;
                Ok(BatchAnswer::Results(parsed, applied))
            })?;
            let (response, applied) = match answer {
                BatchAnswer::Results(response, applied) => (response, applied),
                BatchAnswer::TooLarge { .. } if sent.len() > 1 => {
                    limits.max_records = (sent.len() / 2).max(1);
                    continue;
                }
                BatchAnswer::TooLarge {
                    from_backend: false,
                } => {
                    // Never reject a record for what a proxy says.
                    return Err(KitError::Network(
                        "something between this kit and the backend refuses large requests (HTTP 413 without a Fieldkit answer): contact IT".into(),
                    ));
                }
                BatchAnswer::TooLarge { from_backend: true } => {
                    let only = &sent[0];
                    let refused = Applied::Rejected {
                        seq: only.seq,
                        record_id: only.record_id.clone(),
                        case_number: only.case_number.clone(),
                        code: "too-large".into(),
                        detail: "the record alone exceeds the backend's limits".into(),
                    };
                    (
                        PushBatchResponse {
                            results: Vec::new(),
                            head: Some(sync_protocol::chain::ChainAnchor {
                                seq: head,
                                hash: sync_protocol::ids::Sha256Hash::ZERO,
                            }),
                            server_time: chrono::Utc::now(),
                        },
                        vec![refused],
                    )
                }
            };
            // A record the backend holds a receipt for, lost and now refuses: only IT
            // can reconcile that; the kit keeps its receipt and stops — unless IT bridged
            // the position (§11.3), which settles it.
            if let Some(seq) = applied.iter().find_map(|a| match a {
                Applied::Rejected { seq, detail, .. }
                    if local_state
                        .get(seq)
                        .is_some_and(|s| *s != RecordState::Pending)
                        && !detail.starts_with(BRIDGED_DETAIL_PREFIX) =>
                {
                    Some(*seq)
                }
                _ => None,
            }) {
                return self.block(Blocked::ResentRecordRefused { seq });
            }
            let applied: Vec<Applied> = applied
                .into_iter()
                .map(|a| match a {
                    // Bridged by IT: the kit keeps the receipt it holds.
                    Applied::Rejected { seq, .. }
                        if local_state
                            .get(&seq)
                            .is_some_and(|s| *s != RecordState::Pending) =>
                    {
                        Applied::Waiting
                    }
                    other => other,
                })
                .collect();
            let changed = self.session.apply_push(&applied)?;
            if !response.results.is_empty() {
                self.observe_server_time(response.server_time)?;
            }
            let before = settled;
            for (a, changed) in applied.into_iter().zip(changed) {
                if !changed {
                    continue;
                }
                match a {
                    Applied::Delivered { .. } => {
                        self.report.delivered += 1;
                        settled += 1;
                    }
                    Applied::Rejected {
                        record_id,
                        case_number,
                        code,
                        detail,
                        ..
                    } => {
                        self.report.rejected += 1;
                        settled += 1;
                        self.emit(SyncEvent::Rejected {
                            record_id,
                            case_number,
                            code,
                            detail,
                        });
                    }
                    Applied::Waiting => {}
                }
            }
            let new_head = response.head.as_ref().map_or(0, |h| h.seq).max(head);
            fruitless = if settled == before && new_head <= head {
                fruitless + 1
            } else {
                0
            };
            if fruitless >= MAX_FRUITLESS_BATCHES {
                return Err(KitError::Conflict(format!(
                    "the backend keeps missing records before seq {}: contact IT",
                    new_head + 1
                )));
            }
            head = new_head;
            self.emit(SyncEvent::Records {
                sent: settled.min(total),
                total,
            });
        }
    }
}

//! The push phase: batches planned by [`super::plan::next_batch`], sent with
//! `POST /v1/records`, their answers checked before anything is stored, then applied
//! in one transaction per batch.

use std::collections::HashMap;

use sync_protocol::api::{ProblemCode, PushBatchResponse};

use super::plan::{next_batch, BatchLimits, BatchPlan, Blocked};
use super::response::{check_push_response, Applied};
use super::run::{json_body, Failure, Request, Run};
use super::{Phase, SyncEvent};
use crate::outbox::RecordState;
use crate::KitError;

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
    pub(crate) fn block(&mut self, blocked: Blocked) {
        self.report.blocked = Some(blocked.clone());
        self.emit(SyncEvent::Blocked { blocked });
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
        loop {
            if self.cancel.is_cancelled() {
                return Err(KitError::Cancelled);
            }
            let candidates = self
                .session
                .sync_candidates(head, limits.max_records.saturating_mul(2) + 1)?;
            let seqs = match next_batch(head, &candidates, limits) {
                BatchPlan::Done => return Ok(()),
                BatchPlan::Blocked(blocked) => {
                    self.block(blocked);
                    return Ok(());
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
            let answer = self.call(&request, |_, response| {
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
            // can reconcile that; the kit keeps its receipt and stops.
            if let Some(seq) = applied.iter().find_map(|a| match a {
                Applied::Rejected { seq, .. }
                    if local_state
                        .get(seq)
                        .is_some_and(|s| *s != RecordState::Pending) =>
                {
                    Some(*seq)
                }
                _ => None,
            }) {
                self.block(Blocked::ResentRecordRefused { seq });
                return Ok(());
            }
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

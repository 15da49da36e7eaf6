//! The push phase: batches planned by [`super::plan::next_batch`], sent with
//! `POST /v1/records`, their answers checked before anything is stored, then applied
//! in one transaction per batch.

use sync_protocol::api::PushBatchResponse;

use super::plan::{next_batch, BatchLimits, BatchPlan};
use super::response::{check_push_response, Applied};
use super::run::{json_body, Failure, Request, Run};
use super::{Phase, SyncEvent};
use crate::KitError;

/// Batches in a row without any record settled before the run stops: the backend keeps
/// answering `gap` for what the kit sends, which the planner cannot repair.
const MAX_FRUITLESS_BATCHES: u32 = 3;

impl Run<'_> {
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
                    self.report.blocked = Some(blocked.clone());
                    self.emit(SyncEvent::Blocked { blocked });
                    return Ok(());
                }
                BatchPlan::Send(seqs) => seqs,
            };
            let (body, sent) = self.session.batch_body(&seqs)?;
            let request = Request {
                method: reqwest::Method::POST,
                path: "/v1/records".into(),
                headers: vec![("content-type", "application/json".into())],
                body,
                timeout: self.options.request_timeout,
            };
            let kit_id = self.session.require_enrolment()?.kit_id;
            let trusted = self.session.trusted_server_keys()?;
            let answer = self.call(&request, |_, response| {
                if response.status == 413 {
                    return Ok(None);
                }
                let parsed: PushBatchResponse = json_body(response, "records")?;
                let applied =
                    check_push_response(kit_id, &trusted, &sent, &parsed).map_err(|reason| {
                        Failure::Retry {
                            reason: format!("the answer to a batch is not trustworthy: {reason}"),
                            at_least: None,
                        }
                    })?;
                Ok(Some((parsed, applied)))
            })?;
            let Some((response, applied)) = answer else {
                // 413: smaller batches; one envelope alone too large is refused for good.
                if sent.len() == 1 {
                    let only = &sent[0];
                    self.session.apply_push(&[Applied::Rejected {
                        seq: only.seq,
                        record_id: only.record_id.clone(),
                        case_number: only.case_number.clone(),
                        code: "too-large".into(),
                        detail: "the record alone exceeds the backend's limits".into(),
                    }])?;
                } else {
                    limits.max_records = (sent.len() / 2).max(1);
                }
                continue;
            };
            self.session.apply_push(&applied)?;
            self.observe_server_time(response.server_time)?;
            let before = settled;
            for a in applied {
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
            let new_head = response.head.as_ref().map_or(0, |h| h.seq);
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

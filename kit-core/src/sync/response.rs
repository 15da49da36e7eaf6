//! Checking a push response before anything is stored (§6.3 "Kit side", §8.2): one
//! result per envelope in request order, record ids as sent, and for
//! `accepted`/`duplicate` a receipt that verifies against a trusted server key and names
//! exactly the record sent. A pure function, so a captive portal's or proxy's answer,
//! or a receipt from an untrusted key, provably changes nothing.

use ed25519_dalek::VerifyingKey;
use sync_protocol::api::{Outcome, PushBatchResponse};
use sync_protocol::ids::{KitId, Sha256Hash};
use sync_protocol::receipt::Receipt;

use crate::kit::sync_protocol_time;

/// A record in a batch on its way out.
#[derive(Debug, Clone)]
pub(crate) struct SentRecord {
    pub seq: u64,
    pub record_id: String,
    pub case_number: String,
    pub hash: Sha256Hash,
}

/// What one result means for its record, after checking.
#[derive(Debug, Clone)]
pub(crate) enum Applied {
    Delivered {
        seq: u64,
        receipt_json: String,
        received_at: String,
        /// `accepted`, not `duplicate`: the backend did not hold the record before. For
        /// one the kit holds as delivered, the backend lost it (a restored backup) and
        /// lost its attachments too.
        fresh: bool,
    },
    Rejected {
        seq: u64,
        record_id: String,
        case_number: String,
        code: String,
        detail: String,
    },
    /// `gap`: stays pending, resent from the new head.
    Waiting,
}

/// Checks a push response against what was sent: one result per envelope in order,
/// record ids as sent, and for `accepted`/`duplicate` a receipt that verifies against a
/// trusted server key and names exactly the record sent (§6.3 "Kit side", §8.2).
pub(crate) fn check_push_response(
    kit_id: KitId,
    trusted: &[VerifyingKey],
    sent: &[SentRecord],
    response: &PushBatchResponse,
) -> Result<Vec<Applied>, String> {
    if response.results.len() != sent.len() {
        return Err(format!(
            "{} results for {} records",
            response.results.len(),
            sent.len()
        ));
    }
    sent.iter()
        .zip(&response.results)
        .enumerate()
        .map(|(i, (record, result))| {
            if result.index != i {
                return Err(format!("result {i} has index {}", result.index));
            }
            if let Some(id) = &result.record_id {
                if id.to_string() != record.record_id {
                    return Err(format!("result {i} names another record"));
                }
            }
            match result.outcome {
                Outcome::Accepted | Outcome::Duplicate => {
                    let envelope = result
                        .receipt
                        .as_ref()
                        .ok_or_else(|| format!("result {i} is missing its receipt"))?;
                    let receipt = Receipt::verify(envelope, trusted)
                        .map_err(|e| format!("receipt {i} does not verify: {e}"))?;
                    let matches = receipt.record_id.to_string() == record.record_id
                        && receipt.record_hash == record.hash
                        && receipt.kit_id == kit_id
                        && receipt.seq == record.seq;
                    if !matches {
                        return Err(format!("receipt {i} is for another record"));
                    }
                    Ok(Applied::Delivered {
                        seq: record.seq,
                        receipt_json: String::from_utf8_lossy(&envelope.to_json()).into_owned(),
                        received_at: sync_protocol_time(receipt.received_at),
                        fresh: result.outcome == Outcome::Accepted,
                    })
                }
                Outcome::Rejected | Outcome::Conflict => {
                    let problem = result
                        .problem
                        .as_ref()
                        .ok_or_else(|| format!("result {i} is missing its problem"))?;
                    let code = super::wire_name(&problem.code);
                    Ok(Applied::Rejected {
                        seq: record.seq,
                        record_id: record.record_id.clone(),
                        case_number: record.case_number.clone(),
                        code,
                        detail: problem.detail.clone(),
                    })
                }
                Outcome::Gap => Ok(Applied::Waiting),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use ed25519_dalek::SigningKey;
    use sync_protocol::api::{Problem, ProblemCode, RecordResult};
    use sync_protocol::ids::RecordId;

    fn server() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn kit() -> KitId {
        "0b5a3f4e-6c1d-4e2a-9b7f-3c8d2e1f4a6b"
            .parse()
            .expect("kit id")
    }

    fn sent(seq: u64) -> SentRecord {
        SentRecord {
            seq,
            record_id: RecordId::from_uuid(uuid::Uuid::now_v7()).to_string(),
            case_number: format!("XB62V-{seq:06}"),
            hash: Sha256Hash([seq as u8; 32]),
        }
    }

    fn receipt_for(r: &SentRecord, key: &SigningKey) -> sync_protocol::dsse::Envelope {
        Receipt {
            v: 1,
            record_id: r.record_id.parse().expect("id"),
            record_hash: r.hash,
            kit_id: kit(),
            seq: r.seq,
            received_at: Utc::now(),
            log_position: r.seq,
        }
        .sign(key)
    }

    fn result(i: usize, r: &SentRecord, outcome: Outcome, key: &SigningKey) -> RecordResult {
        RecordResult {
            index: i,
            record_id: Some(r.record_id.parse().expect("id")),
            outcome,
            receipt: matches!(outcome, Outcome::Accepted | Outcome::Duplicate)
                .then(|| receipt_for(r, key)),
            resend_from: (outcome == Outcome::Gap).then_some(r.seq),
            problem: matches!(outcome, Outcome::Rejected | Outcome::Conflict).then(|| {
                Problem::new(
                    ProblemCode::UnknownRouting,
                    422,
                    "Unknown routing",
                    "no such form",
                )
            }),
        }
    }

    fn response(results: Vec<RecordResult>) -> PushBatchResponse {
        PushBatchResponse {
            results,
            head: None,
            server_time: Utc::now(),
        }
    }

    fn trusted() -> Vec<VerifyingKey> {
        vec![server().verifying_key()]
    }

    #[test]
    fn every_outcome_maps_to_what_the_kit_stores() {
        let records = [sent(1), sent(2), sent(3), sent(4)];
        let key = server();
        let answer = response(vec![
            result(0, &records[0], Outcome::Accepted, &key),
            result(1, &records[1], Outcome::Duplicate, &key),
            result(2, &records[2], Outcome::Rejected, &key),
            result(3, &records[3], Outcome::Gap, &key),
        ]);
        let applied = check_push_response(kit(), &trusted(), &records, &answer).expect("valid");
        assert!(matches!(applied[0], Applied::Delivered { seq: 1, .. }));
        assert!(matches!(applied[1], Applied::Delivered { seq: 2, .. }));
        assert!(
            matches!(&applied[2], Applied::Rejected { seq: 3, code, .. } if code == "unknown-routing")
        );
        assert!(matches!(applied[3], Applied::Waiting));
    }

    #[test]
    fn a_receipt_from_an_untrusted_key_is_refused() {
        let records = [sent(1)];
        let stranger = SigningKey::from_bytes(&[9; 32]);
        let answer = response(vec![result(0, &records[0], Outcome::Accepted, &stranger)]);
        let err = check_push_response(kit(), &trusted(), &records, &answer).expect_err("refused");
        assert!(err.contains("does not verify"), "{err}");
    }

    #[test]
    fn a_valid_receipt_for_another_record_is_refused() {
        let records = [sent(1), sent(2)];
        let key = server();
        // Both results carry the receipt of record 1.
        let mut second = result(1, &records[1], Outcome::Accepted, &key);
        second.receipt = Some(receipt_for(&records[0], &key));
        let answer = response(vec![
            result(0, &records[0], Outcome::Accepted, &key),
            second,
        ]);
        let err = check_push_response(kit(), &trusted(), &records, &answer).expect_err("refused");
        assert!(err.contains("another record"), "{err}");
    }

    #[test]
    fn results_that_do_not_match_the_batch_one_to_one_are_refused() {
        let records = [sent(1), sent(2)];
        let key = server();
        let short = response(vec![result(0, &records[0], Outcome::Accepted, &key)]);
        assert!(check_push_response(kit(), &trusted(), &records, &short).is_err());
        let swapped = response(vec![
            result(1, &records[1], Outcome::Accepted, &key),
            result(0, &records[0], Outcome::Accepted, &key),
        ]);
        assert!(check_push_response(kit(), &trusted(), &records, &swapped).is_err());
        let mut missing = result(0, &records[0], Outcome::Accepted, &key);
        missing.receipt = None;
        let answer = response(vec![
            missing,
            result(1, &records[1], Outcome::Accepted, &key),
        ]);
        assert!(check_push_response(kit(), &trusted(), &records, &answer).is_err());
        let mut no_problem = result(0, &records[0], Outcome::Rejected, &key);
        no_problem.problem = None;
        let answer = response(vec![
            no_problem,
            result(1, &records[1], Outcome::Accepted, &key),
        ]);
        assert!(check_push_response(kit(), &trusted(), &records, &answer).is_err());
    }
}

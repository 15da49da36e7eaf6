//! Finalize: normalize the form data to Unicode NFC, validate against the form version,
//! check required attachments, route to the handling authority, seal to its key, build
//! and sign the record, chain it and commit record, attachments and the draft's deletion
//! in one `synchronous = FULL` transaction.

use chrono::{Local, NaiveDate};
use rand_core::OsRng;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use sync_protocol::ids::{Ars, AuthorityId, FormId, RecordId, Sha256Hash};
use sync_protocol::record::{Record, RecordKind};
use sync_protocol::seal::{self, AttachmentLabel, AuthorityPublicKey, CasePayload};
use uuid::Uuid;

use super::{
    kind_text, outdated_printout_kinds, parse_kind, purpose_text, Finalized, StoredAttachment,
};
use crate::codes;
use crate::kit::{now_text, Session};
use crate::KitError;

impl Session {
    /// Finalizes a draft into a sealed, signed, chained record, in one transaction with
    /// `synchronous = FULL`: either everything is on disk or nothing changed.
    ///
    /// # Errors
    /// [`KitError::Validation`] listing every failing field (nothing stored);
    /// [`KitError::MissingAttachments`]; [`KitError::OutdatedPrintout`] when the data
    /// changed after the printout was signed; [`KitError::NotEnrolled`]; routing errors;
    /// [`KitError::DiskFull`] / [`KitError::ReadOnly`] with the store unchanged.
    pub fn finalize(&mut self, draft_id: &str) -> Result<Finalized, KitError> {
        self.finalize_on(draft_id, Local::now().date_naive())
    }

    /// As [`Session::finalize`], for a given visit date (tests, benchmarks).
    ///
    /// # Errors
    /// As [`Session::finalize`].
    pub fn finalize_on(
        &mut self,
        draft_id: &str,
        visit_date: NaiveDate,
    ) -> Result<Finalized, KitError> {
        let clerk = self.require_clerk()?;
        let enrolment = self.require_enrolment()?;
        let (service_id, kind, references, data_text): (String, String, Option<String>, String) =
            self.conn
                .prepare_cached(
                    "SELECT service_id, kind, references_record, data FROM drafts WHERE id = ?1",
                )?
                .query_row([draft_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?
                .ok_or_else(|| KitError::NotFound(format!("draft {draft_id}")))?;
        let kind = parse_kind(&kind)?;
        let mut data: Value =
            serde_json::from_str(&data_text).map_err(|e| KitError::Corrupted(e.to_string()))?;
        // Saves normalize already; a draft stored before they did is validated and sealed
        // in NFC all the same (DIN 91379).
        fieldkit_catalog::din91379::normalize_nfc_json(&mut data);
        let attachments = self.stored_attachments(draft_id)?;
        let outdated = outdated_printout_kinds(&attachments, &data);
        if !outdated.is_empty() {
            return Err(KitError::OutdatedPrintout(outdated));
        }

        // What the record is about: the service's current form, or for a withdrawal or
        // the answer to a Rückfrage exactly what the original named.
        // Whom it is for, kept on the kit only: a withdrawal is for whom its original was.
        if kind == RecordKind::Supplement {
            data = super::supplement::answer_data(&data)?;
        }
        let display_label = match (kind, references.as_deref()) {
            (RecordKind::Withdrawal | RecordKind::Supplement, Some(original)) => self
                .conn
                .query_row(
                    "SELECT display_label FROM records WHERE record_id = ?1",
                    [original],
                    |r| r.get::<_, Option<String>>(0),
                )
                .optional()?
                .flatten(),
            _ => super::label::display_label(&data),
        };
        let (form_version, ars, authority) =
            if matches!(kind, RecordKind::Withdrawal | RecordKind::Supplement) {
                let original = references
                    .as_deref()
                    .ok_or_else(|| KitError::Corrupted(format!("{kind:?} without reference")))?;
                let (version, ars, authority): (u32, String, String) = self.conn.query_row(
                    "SELECT form_version, ars, authority_id FROM records WHERE record_id = ?1",
                    [original],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
                (version, Ars::parse(&ars)?, AuthorityId::parse(&authority)?)
            } else {
                self.validate_and_route(&service_id, &data, &attachments, visit_date, &enrolment)?
            };
        let catalog = self.catalog()?;
        let service = catalog.service(&service_id)?;
        let leika = service.leika.key.clone();
        let authority_key = authority_key(catalog, &authority)?;

        let record_id = RecordId::from_uuid(Uuid::now_v7());
        let kit_id = enrolment.kit_id;
        let case = CasePayload {
            form_data: data,
            attachment_keys: attachments.iter().map(|a| a.key.clone()).collect(),
            attachments: attachments
                .iter()
                .map(|a| AttachmentLabel {
                    attachment_id: a.entry.id,
                    kind: a.spec_id.clone(),
                    file_name: a.file_name.clone(),
                })
                .collect(),
        };
        let sealed = seal::seal(
            &authority_key,
            &seal::case_aad(&record_id, &kit_id, &authority),
            &case.to_json(),
            &mut OsRng,
        )?;

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head: Option<(u64, String)> = tx
            .prepare_cached("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (seq, prev_hash) = match head {
            Some((seq, hash)) => (seq + 1, Sha256Hash::try_from(hash)?),
            None => (1, Sha256Hash::ZERO),
        };
        let signed = Record {
            v: sync_protocol::PAYLOAD_VERSION,
            record_id,
            kit_id,
            seq,
            prev_hash,
            device_time: chrono::Utc::now(),
            clerk_id: clerk.clone(),
            kind,
            references: references.as_deref().map(str::parse).transpose()?,
            leika: leika.clone(),
            form_id: FormId::parse(&service_id)?,
            form_version,
            authority_id: authority.clone(),
            ars: ars.clone(),
            visit_date,
            sealed,
            attachments: attachments.iter().map(|a| a.entry.clone()).collect(),
        }
        .sign(&self.kit_key)?;
        let case_number = codes::case_number(&kit_id, seq);
        let verification_code = codes::verification_code(&signed.hash);
        let envelope = String::from_utf8(signed.envelope.to_json())
            .map_err(|e| KitError::Corrupted(e.to_string()))?;
        tx.prepare_cached(
            "INSERT INTO records (seq, record_id, hash, prev_hash, envelope, service_id, form_version,
                 authority_id, leika, ars, kind, references_record, case_number, verification_code,
                 visit_date, clerk_id, finalized_at, state, display_label)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 'pending',
                     ?18)",
        )?
        .execute(params![
                seq,
                record_id.to_string(),
                signed.hash.to_hex(),
                prev_hash.to_hex(),
                envelope,
                service_id,
                form_version,
                authority.as_str(),
                leika.as_str(),
                ars.as_str(),
                kind_text(kind),
                references,
                case_number,
                verification_code,
                visit_date.to_string(),
                clerk.as_str(),
                now_text(),
                display_label
        ])?;
        for a in &attachments {
            tx.prepare_cached(
                "INSERT INTO record_attachments (attachment_id, record_seq, spec_id, purpose, media_type, size,
                     ciphertext_size, ciphertext_sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                    a.entry.id.to_string(),
                    seq,
                    a.spec_id,
                    purpose_text(a.entry.purpose),
                    a.entry.media_type.as_str(),
                    a.entry.size,
                    a.entry.ciphertext_size,
                    a.entry.ciphertext_sha256.to_hex()
            ])?;
        }
        // secure_delete overwrites the draft's plaintext pages.
        tx.prepare_cached("DELETE FROM drafts WHERE id = ?1")?
            .execute([draft_id])?;
        tx.commit()?;
        Ok(Finalized {
            record_id: record_id.to_string(),
            seq,
            case_number,
            verification_code,
            service_id,
            authority_id: authority.to_string(),
            visit_date: visit_date.to_string(),
            display_label,
        })
    }

    pub(super) fn validate_and_route(
        &mut self,
        service_id: &str,
        data: &Value,
        attachments: &[StoredAttachment],
        day: NaiveDate,
        enrolment: &crate::enrolment::Enrolment,
    ) -> Result<(u32, Ars, AuthorityId), KitError> {
        let version = self
            .catalog()?
            .service(service_id)?
            .current_form(day)
            .map(|f| f.version)
            .ok_or_else(|| {
                KitError::Conflict(format!("{service_id} has no form valid on {day}"))
            })?;
        let validator = self.validator(service_id, version, day)?;
        let errors = validator.validate(data);
        if !errors.is_empty() {
            return Err(KitError::Validation(errors));
        }
        let required: Vec<String> = validator
            .required_attachments(data)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let missing: Vec<String> = required
            .into_iter()
            .filter(|spec| !attachments.iter().any(|a| &a.spec_id == spec))
            .collect();
        if !missing.is_empty() {
            return Err(KitError::MissingAttachments(missing));
        }
        let catalog = self.catalog()?;
        let service = catalog.service(service_id)?;
        let ars = match &service.residence_ars {
            Some(pointer) => {
                let text = data
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        KitError::Conflict(format!("the form has no residence ARS at {pointer}"))
                    })?;
                Ars::parse(text)?
            }
            None => catalog
                .authority(enrolment.authority_id.as_str())
                .and_then(|a| a.ars.clone())
                .ok_or_else(|| {
                    KitError::Conflict("the kit's own authority has no ARS in the catalog".into())
                })?,
        };
        let route = fieldkit_catalog::routing::route(catalog, service_id, &ars)?;
        Ok((version, ars, route.handling))
    }
}

fn authority_key(
    catalog: &fieldkit_catalog::Catalog,
    authority: &AuthorityId,
) -> Result<AuthorityPublicKey, KitError> {
    let published = catalog
        .authority(authority.as_str())
        .and_then(|a| a.hpke_public_key.clone())
        .ok_or_else(|| {
            KitError::Conflict(format!(
                "the installed catalog has no key for {authority}: sync to install a current catalog"
            ))
        })?;
    let key = AuthorityPublicKey(sync_protocol::b64::decode_array(
        "hpke_public_key",
        &published.public_key,
    )?);
    if key.key_id() != published.key_id {
        return Err(KitError::Corrupted(format!(
            "the catalog's key id for {authority} does not match its key"
        )));
    }
    Ok(key)
}

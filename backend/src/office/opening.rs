//! Opening cases, shared by the case view, attachment downloads and exports: the case
//! must belong to the reviewer's authority (else the same 404 as an unknown id), its
//! record must still verify against the kit's key, and every decryption is appended to
//! the decryption log *before* the authority's key is unsealed and the case opened.
//!
//! [`Opener`] keeps the unsealed authority keys of one request (an export opens many
//! cases with the same key); they are zeroized when it is dropped.

use std::collections::HashMap;

use chrono::Utc;
use ed25519_dalek::VerifyingKey;
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::RecordId;
use sync_protocol::record::SignedRecord;
use sync_protocol::seal::{self, AuthoritySecretKey, CasePayload};

use axum::http::Uri;

use super::error::OfficeError;
use super::i18n::Lang;
use crate::state::AppState;
use crate::storage::{CaseDetail, DecryptionEntry, SessionRow};

/// The case if it exists and belongs to the session's authority; else 404.
pub(super) async fn own_case(
    app: &AppState,
    session: &SessionRow,
    record_id: &str,
) -> Result<CaseDetail, OfficeError> {
    let id: RecordId = record_id.parse().map_err(|_| OfficeError::NotFound)?;
    let detail = app
        .store
        .case_detail(&id)
        .await?
        .ok_or(OfficeError::NotFound)?;
    if detail.case.authority_id != session.user.authority_id {
        return Err(OfficeError::NotFound);
    }
    Ok(detail)
}

/// The stored record if it still verifies against the kit's key and is the case's.
pub(super) fn verified_record(detail: &CaseDetail) -> Option<SignedRecord> {
    let key = VerifyingKey::from_bytes(detail.kit_public_key.as_ref()?).ok()?;
    let envelope = Envelope::from_json(&detail.envelope_json).ok()?;
    SignedRecord::verify(&envelope, detail.case.kit_id, &key)
        .ok()
        .filter(|r| r.hash == detail.hash && r.record.record_id == detail.case.record_id)
}

/// The case's verified record, or the refusal to open a case whose signature does not
/// verify (for the pages that need its files).
pub(super) fn verified_or_refused(
    detail: &CaseDetail,
    lang: Lang,
) -> Result<SignedRecord, OfficeError> {
    verified_record(detail).ok_or_else(|| {
        OfficeError::Unprocessable(vec![lang
            .pick(
                "Die Signatur des Vorgangs ist ungültig; er wird nicht geöffnet.",
                "The case's signature is invalid; it is not opened.",
            )
            .to_owned()])
    })
}

/// The query's name/value pairs, or a 400 for one that does not decode.
pub(super) fn query_pairs(uri: &Uri, lang: Lang) -> Result<Vec<(String, String)>, OfficeError> {
    serde_urlencoded::from_str(uri.query().unwrap_or_default()).map_err(|_| {
        OfficeError::BadRequest(vec![lang
            .pick("Ungültige Anfrage.", "Malformed query.")
            .to_owned()])
    })
}

/// A case page's one switch, `?{name}=1` (`0` and `lang` allowed too); any other
/// parameter is a 400 naming it (cut to 40 characters).
pub(super) fn switch_requested(uri: &Uri, name: &str, lang: Lang) -> Result<bool, OfficeError> {
    let mut on = false;
    for (k, v) in query_pairs(uri, lang)? {
        match (k.as_str(), v.as_str()) {
            (k, "1") if k == name => on = true,
            (k, "0") if k == name => {}
            ("lang", _) => {}
            (k, _) => {
                let k: String = k.chars().take(40).collect();
                return Err(OfficeError::BadRequest(vec![format!(
                    "{k}: {}",
                    lang.pick("ungültiger Parameter", "invalid parameter")
                )]));
            }
        }
    }
    Ok(on)
}

/// Why a case is decrypted, as written to the decryption log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The case view.
    View,
    /// The case's print view.
    Print,
    /// An attachment download or preview.
    Attachment,
    /// An export.
    Export,
}

impl Purpose {
    /// The logged name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Print => "print",
            Self::Attachment => "attachment",
            Self::Export => "export",
        }
    }
}

/// Opens the cases of one reviewer's authority, logging each decryption first.
pub(super) struct Opener<'a> {
    app: &'a AppState,
    session: &'a SessionRow,
    secrets: HashMap<String, AuthoritySecretKey>,
}

impl<'a> Opener<'a> {
    /// An opener for the session's authority.
    pub(super) fn new(app: &'a AppState, session: &'a SessionRow) -> Self {
        Self {
            app,
            session,
            secrets: HashMap::new(),
        }
    }

    /// Logs the decryption of `record` for `purpose`, then opens its case.
    ///
    /// # Errors
    /// [`OfficeError::KeysUnavailable`] without a master key; internal errors when the
    /// log cannot be written (then nothing is decrypted) or the case does not open.
    pub(super) async fn open(
        &mut self,
        record: &SignedRecord,
        purpose: Purpose,
    ) -> Result<CasePayload, OfficeError> {
        let master = self
            .app
            .master_key
            .as_ref()
            .ok_or(OfficeError::KeysUnavailable)?;
        let r = &record.record;
        let authority = &self.session.user.authority_id;
        self.app
            .store
            .log_decryption(&DecryptionEntry {
                record_id: r.record_id,
                authority_id: authority.clone(),
                actor: self.session.user.login.clone(),
                purpose: purpose.as_str().to_owned(),
                at: Utc::now(),
            })
            .await?;
        // The case was sealed to the record's authority; a case forwarded or placed
        // elsewhere by a flag (§6.3 "Flags") is opened with that authority's key. Who
        // may open it is decided by the inbox it is in ([`own_case`]).
        let sealed_to = &r.authority_id;
        if !self.secrets.contains_key(&r.sealed.key_id) {
            let keys = self.app.store.authority_keys(sealed_to).await?;
            let key = keys
                .iter()
                .find(|k| k.key.key_id == r.sealed.key_id)
                .ok_or_else(|| {
                    OfficeError::Internal("no authority key with the case's key id".into())
                })?;
            let secret = key
                .key
                .open(master, sealed_to)
                .map_err(|e| OfficeError::Internal(e.to_string()))?;
            self.secrets.insert(r.sealed.key_id.clone(), secret);
        }
        let secret = self
            .secrets
            .get(&r.sealed.key_id)
            .ok_or_else(|| OfficeError::Internal("authority key vanished".into()))?;
        let aad = seal::case_aad(&r.record_id, &r.kit_id, &r.authority_id);
        let plain = seal::open(secret, &r.sealed, &aad)
            .map_err(|e| OfficeError::Internal(format!("case does not open: {e}")))?;
        CasePayload::from_json(&plain).map_err(|e| OfficeError::Internal(e.to_string()))
    }
}

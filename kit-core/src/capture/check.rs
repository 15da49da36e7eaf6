//! Checking a draft without finalizing it: the same validation, attachment and routing
//! rules `finalize` applies, answered as a list for the app's review page instead of an
//! error, and the draft's attachments as the app lists them.

use chrono::{Local, NaiveDate};
use fieldkit_catalog::FieldError;
use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::Value;

use super::AttachmentInfo;
use crate::kit::Session;
use crate::KitError;

/// What stands between a draft and its finalization.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DraftCheck {
    /// Every failing field, with German and English messages.
    pub field_errors: Vec<FieldError>,
    /// Catalog ids of required attachments that are missing.
    pub missing_attachments: Vec<String>,
    /// Why no authority can take the application (checked only when the form is valid).
    pub routing_problem: Option<String>,
    /// Ids of printouts signed (or scanned) before the data last changed: they no longer
    /// show what would be sealed, and their kinds count as missing until signed again.
    pub outdated_printouts: Vec<String>,
}

impl DraftCheck {
    /// Whether `finalize` would accept the draft as it is.
    pub fn is_ready(&self) -> bool {
        self.field_errors.is_empty()
            && self.missing_attachments.is_empty()
            && self.routing_problem.is_none()
            && self.outdated_printouts.is_empty()
    }
}

impl Session {
    /// Checks a draft as `finalize` would today, without changing anything.
    ///
    /// # Errors
    /// [`KitError::NotFound`] for an unknown draft; [`KitError::NotEnrolled`]; catalog
    /// and database errors.
    pub fn check_draft(&mut self, draft_id: &str) -> Result<DraftCheck, KitError> {
        self.check_draft_on(draft_id, Local::now().date_naive())
    }

    /// As [`Session::check_draft`] for a given visit date.
    ///
    /// # Errors
    /// As [`Session::check_draft`].
    pub fn check_draft_on(
        &mut self,
        draft_id: &str,
        day: NaiveDate,
    ) -> Result<DraftCheck, KitError> {
        self.require_enrolment()?;
        let data = self.draft_data(draft_id)?;
        let service_id = self.draft_service(draft_id)?;
        if self.draft_kind(draft_id)? == "supplement" {
            // An answer to a Rückfrage: its note is all there is to check.
            return Ok(match super::supplement::answer_data(&data) {
                Ok(_) => DraftCheck::default(),
                Err(e) => DraftCheck {
                    field_errors: vec![FieldError {
                        pointer: "/answer".into(),
                        field: "answer".into(),
                        rule: "answer".into(),
                        label: Some(fieldkit_catalog::Localized {
                            de: "Antwort auf die Rückfrage".into(),
                            en: "Answer to the query".into(),
                        }),
                        message: fieldkit_catalog::Localized {
                            de: format!(
                                "Bitte eine Antwort von 1 bis {} Zeichen ohne Sonderzeichen außerhalb DIN 91379 eingeben.",
                                super::MAX_ANSWER_CHARS
                            ),
                            en: e.to_string(),
                        },
                    }],
                    ..DraftCheck::default()
                },
            });
        }
        // An outdated printout is not there for the check: its kind is missing until the
        // citizen signs again.
        let (outdated, attachments): (Vec<_>, Vec<_>) = self
            .stored_attachments(draft_id)?
            .into_iter()
            .partition(|a| a.is_outdated_printout(&data));
        let outdated_printouts: Vec<String> =
            outdated.iter().map(|a| a.entry.id.to_string()).collect();
        let mut check = self.check_attachments_present(&service_id, &data, &attachments, day)?;
        for kind in outdated.iter().map(|a| &a.spec_id) {
            if !check.missing_attachments.contains(kind) {
                check.missing_attachments.push(kind.clone());
            }
        }
        check.outdated_printouts = outdated_printouts;
        Ok(check)
    }

    fn check_attachments_present(
        &mut self,
        service_id: &str,
        data: &Value,
        attachments: &[super::StoredAttachment],
        day: NaiveDate,
    ) -> Result<DraftCheck, KitError> {
        let enrolment = self.require_enrolment()?;
        match self.validate_and_route(service_id, data, attachments, day, &enrolment) {
            Ok(_) => Ok(DraftCheck::default()),
            Err(KitError::Validation(field_errors)) => {
                let missing_attachments =
                    self.missing_attachments(service_id, data, attachments, day)?;
                Ok(DraftCheck {
                    field_errors,
                    missing_attachments,
                    ..DraftCheck::default()
                })
            }
            Err(KitError::MissingAttachments(missing_attachments)) => Ok(DraftCheck {
                missing_attachments,
                ..DraftCheck::default()
            }),
            Err(e @ (KitError::Catalog(_) | KitError::Conflict(_))) => Ok(DraftCheck {
                routing_problem: Some(e.to_string()),
                ..DraftCheck::default()
            }),
            Err(e) => Err(e),
        }
    }

    /// The attachments imported into a draft so far, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn draft_attachments(&self, draft_id: &str) -> Result<Vec<AttachmentInfo>, KitError> {
        Ok(self
            .stored_attachments(draft_id)?
            .into_iter()
            .map(|a| AttachmentInfo {
                id: a.entry.id.to_string(),
                spec_id: a.spec_id,
                media_type: a.entry.media_type.to_string(),
                size: a.entry.size,
                sha256: a.entry.sha256.to_string(),
                file_name: a.file_name,
            })
            .collect())
    }

    fn draft_kind(&self, draft_id: &str) -> Result<String, KitError> {
        self.conn
            .query_row("SELECT kind FROM drafts WHERE id = ?1", [draft_id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| KitError::NotFound(format!("draft {draft_id}")))
    }

    fn draft_service(&self, draft_id: &str) -> Result<String, KitError> {
        self.drafts()?
            .into_iter()
            .find(|d| d.id == draft_id)
            .map(|d| d.service_id)
            .ok_or_else(|| KitError::NotFound(format!("draft {draft_id}")))
    }

    /// Required attachments still missing, also while the form has errors (the review
    /// page lists both at once).
    fn missing_attachments(
        &mut self,
        service_id: &str,
        data: &Value,
        have: &[super::StoredAttachment],
        day: NaiveDate,
    ) -> Result<Vec<String>, KitError> {
        let Some(version) = self
            .catalog()?
            .service(service_id)?
            .current_form(day)
            .map(|f| f.version)
        else {
            return Ok(Vec::new());
        };
        let validator = self.validator(service_id, version, day)?;
        Ok(validator
            .required_attachments(data)
            .into_iter()
            .filter(|spec| !have.iter().any(|h| h.spec_id == *spec))
            .map(str::to_owned)
            .collect())
    }
}

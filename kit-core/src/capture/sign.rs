//! The citizen signs the printout of a draft: [`Session::sign_printout`] renders it with
//! the signature (PDF/A-3a + PDF/UA-1, [`crate::printout`]) and attaches it as the
//! service's `form` file. The attachment is bound to the data it shows
//! ([`super::data_digest`]); once the data changes it is outdated, `check_draft` lists
//! it and `finalize` refuses until the citizen signs again.

use fieldkit_catalog::din91379::normalize_nfc;
use sync_protocol::record::Purpose;

use super::AttachmentInfo;
use crate::kit::Session;
use crate::printout::PrintoutOptions;
use crate::KitError;

/// The signed printout attached to a draft.
#[derive(Debug, Clone)]
pub struct SignedPrintout {
    /// The new attachment.
    pub attachment: AttachmentInfo,
    /// Ids of the earlier printouts it replaced (removed from the draft).
    pub replaced: Vec<String>,
}

impl Session {
    /// Renders the printout of `draft_id` with the citizen's signature (PNG) and `place`,
    /// and attaches it as the service's `form` file. Earlier files of that kind are
    /// removed once the new one is stored, so a failure leaves the draft as it was.
    ///
    /// # Errors
    /// [`KitError::NotFound`] for an unknown draft; [`KitError::AttachmentRefused`] when
    /// the service takes no signed printout; [`KitError::Printout`] when the printout
    /// cannot be made (an unreadable PNG, a character outside DIN 91379); storage errors.
    pub fn sign_printout(
        &mut self,
        draft_id: &str,
        place: &str,
        signature_png: Vec<u8>,
    ) -> Result<SignedPrintout, KitError> {
        let service_id = self
            .drafts()?
            .into_iter()
            .find(|d| d.id == draft_id)
            .map(|d| d.service_id)
            .ok_or_else(|| KitError::NotFound(format!("draft {draft_id}")))?;
        let spec_id = self
            .catalog()?
            .service(&service_id)?
            .attachments
            .iter()
            .find(|a| a.purpose == Purpose::Form)
            .map(|a| a.id.clone())
            .ok_or_else(|| {
                KitError::AttachmentRefused(format!("{service_id} takes no signed printout"))
            })?;
        let place = normalize_nfc(place.trim());
        let options = PrintoutOptions {
            place: (!place.is_empty()).then_some(place),
            signature_png: Some(signature_png),
            date: None,
        };
        let pdf = self.printout(draft_id, &options)?;
        let earlier: Vec<String> = self
            .draft_attachments(draft_id)?
            .into_iter()
            .filter(|a| a.spec_id == spec_id)
            .map(|a| a.id)
            .collect();
        let attachment = self.attach_named(
            draft_id,
            &spec_id,
            "application/pdf",
            Some(SIGNED_PRINTOUT_FILE_NAME),
            pdf.as_slice(),
        )?;
        for id in &earlier {
            self.detach(draft_id, id)?;
        }
        Ok(SignedPrintout {
            attachment,
            replaced: earlier,
        })
    }
}

/// The file name a signed printout is sealed with (the reviewer sees it).
pub const SIGNED_PRINTOUT_FILE_NAME: &str = "unterschriebener-ausdruck.pdf";

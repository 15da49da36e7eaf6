//! The changes phase (§6.5): status updates and comments for the clerk, new catalogs,
//! server-key and TLS-pin rollovers, and the wipe order. Every change is a DSSE
//! envelope signed by a server key; each is verified against the keys this kit trusts
//! *before* anything in it is looked at, and applied only then. A change that does not
//! verify is never acted on: the verified changes before it are applied, the cursor
//! stays in front of it, and the run reports [`Blocked::ChangeRefused`].
//!
//! The phase runs twice in a run of an active kit: before sending, to learn key and pin
//! rollovers (so that receipts signed by a new key verify) but stopping in front of a
//! wipe, and after sending, when a wipe is executed.

use chrono::Utc;
use sync_protocol::api::{Change, ChangeKind, QueueBlock};
use sync_protocol::change::{PageVerifier, SignedChangesPage};
use sync_protocol::dsse::Envelope;

use super::plan::Blocked;
use super::run::{json_body, Request, Run};
use super::{Phase, SyncEvent};
use crate::catalog::compare_versions;
use crate::trust::TrustUpdate;
use crate::KitError;

const PAGE: u32 = 100;

/// Which of the two passes of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Before sending: everything up to (not including) a wipe; refusals stay silent
    /// (the final pass reports them).
    BeforeSend,
    /// After sending: everything, including a wipe.
    Final,
}

impl Run<'_> {
    /// Pulls every waiting change; installs a newer catalog announced by the feed or by
    /// the handshake's `catalog_version`; applies rollovers; wipes the kit when ordered
    /// (final pass only).
    pub(crate) fn changes(
        &mut self,
        announced_catalog: Option<&str>,
        pass: Pass,
    ) -> Result<(), KitError> {
        if pass == Pass::Final {
            self.emit(SyncEvent::Phase {
                phase: Phase::Changes,
            });
        }
        let kit_id = self.session.require_enrolment()?.kit_id;
        let mut newest_catalog = announced_catalog.map(str::to_owned);
        loop {
            if self.cancel.is_cancelled() {
                return Err(KitError::Cancelled);
            }
            let cursor = self.session.changes_cursor()?;
            // What this kit still has to send (§6.5 `outbox`): a kit revoked with drain
            // is wiped only once this is 0.
            let outbox = self.session.pending_count()? + self.session.uploads_open_count()?;
            // A queue stopped at a record is reported with it (§6.5 `blocked`), so that
            // IT staff see it at the backend before a clerk calls them.
            let blocked = self
                .session
                .blocked_at()?
                .and_then(|(seq, reason)| QueueBlock::parse(&reason).map(|b| (b, seq)))
                .map_or_else(String::new, |(block, seq)| {
                    format!("&blocked={}&blocked_seq={seq}", block.as_str())
                });
            let request = Request::get(
                format!("/v1/changes?after={cursor}&limit={PAGE}&outbox={outbox}{blocked}"),
                self.options.request_timeout,
            );
            let page: SignedChangesPage = self.call(&request, |r| json_body(r, "changes"))?;
            if page.next_cursor < cursor || (page.more && page.next_cursor == cursor) {
                return Err(KitError::Conflict(format!(
                    "the backend's change feed does not advance (from {cursor} to {})",
                    page.next_cursor
                )));
            }
            let now = Utc::now() - chrono::Duration::seconds(self.report.clock_skew_secs);
            let mut trust = self.session.trust_state()?;
            let mut verifier = PageVerifier::new(kit_id, cursor, trust.verifier_keys(now)?);
            let mut accepted: Vec<Change> = Vec::new();
            let mut stop: Option<Stop> = None;
            for envelope in &page.changes {
                let change = match verifier.next(envelope) {
                    Ok(signed) => signed.into_change(),
                    Err(e) => {
                        stop = Some(Stop::Refused(e.to_string()));
                        break;
                    }
                };
                if let ChangeKind::Wipe { reason } = &change.change {
                    stop = Some(Stop::Wipe(reason.clone()));
                    break;
                }
                match trust.apply(&change.change, now) {
                    TrustUpdate::None | TrustUpdate::PinIgnored => {}
                    TrustUpdate::ServerKey(_) | TrustUpdate::TlsPin(_) => {
                        self.report.trust_updates += 1;
                    }
                }
                accepted.push(change);
            }
            if let (Some(Stop::Wipe(reason)), Pass::Final) = (&stop, pass) {
                self.session.wipe()?;
                self.report.wiped = true;
                self.emit(SyncEvent::Wiped {
                    reason: reason.clone(),
                });
                return Ok(());
            }
            // The cursor moves past what was verified and applied only; on a full page
            // to the backend's `next_cursor` (which may skip entries it withholds).
            let new_cursor = match stop {
                Some(_) => accepted.last().map_or(cursor, |c| c.cursor),
                None => page.next_cursor.max(verifier.last_cursor()),
            };
            self.session
                .apply_changes(&accepted, new_cursor, Some(&trust))?;
            self.announce(&accepted, &mut newest_catalog)?;
            match stop {
                Some(Stop::Refused(detail)) => {
                    if pass == Pass::Final {
                        self.block(Blocked::ChangeRefused {
                            after: new_cursor,
                            detail,
                        })?;
                    }
                    break;
                }
                Some(Stop::Wipe(_)) => break,
                None if !page.more => break,
                None => {}
            }
        }
        if let Some(version) = newest_catalog {
            let installed = self.session.installed_version()?;
            let newer = installed
                .as_deref()
                .is_none_or(|i| compare_versions(&version, i).is_gt());
            if newer {
                self.install_current_catalog()?;
            }
        }
        Ok(())
    }

    /// Tells the clerk what the applied changes mean; notes the newest catalog.
    fn announce(
        &mut self,
        applied: &[Change],
        newest_catalog: &mut Option<String>,
    ) -> Result<(), KitError> {
        for change in applied {
            self.report.changes_applied += 1;
            match &change.change {
                ChangeKind::Status {
                    record_id,
                    status,
                    comment,
                } => {
                    let record_id = record_id.to_string();
                    let case_number = self.session.case_number_of(&record_id)?;
                    let status = super::wire_name(status);
                    self.emit(SyncEvent::CaseStatus {
                        record_id,
                        case_number,
                        status,
                        comment: comment.clone(),
                    });
                }
                ChangeKind::Catalog { version } => {
                    let newer = newest_catalog
                        .as_deref()
                        .is_none_or(|n| compare_versions(version, n).is_gt());
                    if newer {
                        *newest_catalog = Some(version.clone());
                    }
                }
                ChangeKind::Wipe { .. }
                | ChangeKind::ServerKey { .. }
                | ChangeKind::TlsPin { .. } => {}
            }
        }
        Ok(())
    }

    fn install_current_catalog(&mut self) -> Result<(), KitError> {
        let request = Request::get("/v1/catalog/current", self.options.request_timeout);
        let envelope: Envelope = self.call(&request, |r| json_body(r, "catalog"))?;
        // A catalog that does not verify (or is older, from a lagging node) is refused
        // and the current one kept (§6.6); the run goes on.
        let meta = match self.session.install_catalog(&envelope) {
            Ok(meta) => meta,
            Err(e @ (KitError::Protocol(_) | KitError::Catalog(_) | KitError::Conflict(_))) => {
                self.emit(SyncEvent::CatalogRefused {
                    detail: e.to_string(),
                });
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.report.catalog_installed = Some(meta.version.clone());
        self.emit(SyncEvent::CatalogInstalled {
            version: meta.version,
        });
        Ok(())
    }
}

/// Why a page was not applied to its end.
enum Stop {
    /// This change did not verify.
    Refused(String),
    /// A wipe order (executed in the final pass).
    Wipe(String),
}

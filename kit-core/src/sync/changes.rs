//! The changes phase (§6.5): status updates and comments for the clerk, new catalogs,
//! and the wipe order. Each page is applied, with its cursor, in one transaction.

use sync_protocol::api::{ChangeKind, ChangesPage};
use sync_protocol::dsse::Envelope;

use super::run::{json_body, Request, Run};
use super::{Phase, SyncEvent};
use crate::catalog::compare_versions;
use crate::KitError;

const PAGE: u32 = 100;

impl Run<'_> {
    /// Pulls every waiting change; installs a newer catalog announced by the feed or by
    /// the handshake's `catalog_version`; wipes the kit when ordered.
    pub(crate) fn changes(&mut self, announced_catalog: Option<&str>) -> Result<(), KitError> {
        self.emit(SyncEvent::Phase {
            phase: Phase::Changes,
        });
        let mut newest_catalog = announced_catalog.map(str::to_owned);
        loop {
            if self.cancel.is_cancelled() {
                return Err(KitError::Cancelled);
            }
            let cursor = self.session.changes_cursor()?;
            // What this kit still has to send (§6.5 `outbox`): a kit revoked with drain
            // is wiped only once this is 0.
            let outbox = self.session.pending_count()? + self.session.uploads_open_count()?;
            let request = Request::get(
                format!("/v1/changes?after={cursor}&limit={PAGE}&outbox={outbox}"),
                self.options.request_timeout,
            );
            let page: ChangesPage = self.call(&request, |_, r| json_body(r, "changes"))?;
            if page.next_cursor < cursor || (page.more && page.next_cursor == cursor) {
                return Err(KitError::Conflict(format!(
                    "the backend's change feed does not advance (from {cursor} to {})",
                    page.next_cursor
                )));
            }
            if let Some(reason) = page.changes.iter().find_map(|c| match &c.change {
                ChangeKind::Wipe { reason } => Some(reason.clone()),
                _ => None,
            }) {
                self.session.wipe()?;
                self.report.wiped = true;
                self.emit(SyncEvent::Wiped { reason });
                return Ok(());
            }
            self.session
                .apply_status_changes(&page.changes, page.next_cursor)?;
            for change in &page.changes {
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
                            newest_catalog = Some(version.clone());
                        }
                    }
                    ChangeKind::Wipe { .. } => {}
                }
            }
            if !page.more {
                break;
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

    fn install_current_catalog(&mut self) -> Result<(), KitError> {
        let request = Request::get("/v1/catalog/current", self.options.request_timeout);
        let envelope: Envelope = self.call(&request, |_, r| json_body(r, "catalog"))?;
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

//! Retention (DSGVO Art. 5(1)(e), storage limitation): sealed records and attachment
//! files are deleted a configurable number of days after they are complete; what stays
//! is the chain metadata and a log entry without personal data. Stale drafts are
//! reported, never silently dropped — they may be unfinished work.

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;

use crate::capture::DraftSummary;
use crate::kit::{sync_protocol_time, Session};
use crate::KitError;

/// Days a complete record stays on the kit by default.
pub const DEFAULT_RETENTION_DAYS: u32 = 7;

/// What a purge did.
#[derive(Debug, Clone, Serialize)]
pub struct PurgeReport {
    /// Case numbers purged now.
    pub purged: Vec<String>,
    /// Attachment files deleted (of purged records, and orphans of interrupted imports).
    pub files_removed: u64,
    /// Drafts untouched for longer than the retention period.
    pub stale_drafts: Vec<DraftSummary>,
}

impl Session {
    /// Purges records complete for more than `retention_days`, now.
    ///
    /// # Errors
    /// Database or file errors.
    pub fn purge(&mut self, retention_days: u32) -> Result<PurgeReport, KitError> {
        self.purge_at(Utc::now(), retention_days)
    }

    /// As [`Session::purge`], at a given time (tests).
    ///
    /// # Errors
    /// Database or file errors.
    pub fn purge_at(
        &mut self,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<PurgeReport, KitError> {
        let cutoff = sync_protocol_time(now - Duration::days(i64::from(retention_days)));
        let purged_at = sync_protocol_time(now);
        let tx = self.conn.transaction()?;
        let due: Vec<(u64, String, String, String, String, Option<String>)> = {
            let mut stmt = tx.prepare(
                "SELECT seq, record_id, case_number, service_id, finalized_at, completed_at
                 FROM records WHERE state = 'complete' AND completed_at <= ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([&cutoff], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut files = Vec::new();
        for (seq, record_id, case_number, service_id, finalized_at, completed_at) in &due {
            let ids: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT attachment_id FROM record_attachments WHERE record_seq = ?1",
                )?;
                let rows = stmt.query_map([seq], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            tx.execute(
                "UPDATE records SET envelope = NULL, display_label = NULL, state = 'purged' WHERE seq = ?1",
                [seq],
            )?;
            tx.execute(
                "INSERT INTO purge_log (record_id, case_number, service_id, finalized_at, completed_at, purged_at, attachments)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![record_id, case_number, service_id, finalized_at, completed_at, purged_at, ids.len()],
            )?;
            files.extend(ids);
        }
        tx.commit()?;
        // Files go after the commit: a crash in between leaves orphans, removed below
        // on the next purge, never a record pointing at a missing file.
        let mut removed = 0;
        for id in &files {
            if std::fs::remove_file(self.home.attachment(id)).is_ok() {
                removed += 1;
            }
        }
        removed += self.remove_orphan_files()?;
        let stale_drafts = self
            .drafts()?
            .into_iter()
            .filter(|d| d.updated_at.as_str() < cutoff.as_str())
            .collect();
        Ok(PurgeReport {
            purged: due.into_iter().map(|d| d.2).collect(),
            files_removed: removed,
            stale_drafts,
        })
    }

    /// Deletes attachment files that no draft and no unpurged record refers to (left by
    /// an import or purge interrupted by a crash).
    fn remove_orphan_files(&self) -> Result<u64, KitError> {
        let dir = self.home.attachments();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            let referenced: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM draft_attachments WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM record_attachments a JOIN records r ON r.seq = a.record_seq
                                WHERE a.attachment_id = ?1 AND r.state <> 'purged')",
                [&stem],
                |r| r.get(0),
            )?;
            let is_part = path.extension().is_some_and(|e| e == "part");
            let old_enough = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 24 * 3600);
            if !referenced && (!is_part || old_enough) && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

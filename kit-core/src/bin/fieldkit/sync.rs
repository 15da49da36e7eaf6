//! `fieldkit sync`: one run with a progress bar (or, with `--json`, one JSON event per
//! line on stdout and the report last), or `--watch` to keep syncing whenever the
//! backend is reachable.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kit_core::sync::auto::{AutoSync, AutoSyncEvent, AutoSyncOptions};
use kit_core::sync::{self, CancelToken, Phase, SyncEvent, SyncOptions, SyncReport};
use kit_core::KitError;

use crate::exit;
use crate::output::{count, Output};
use crate::unlock::{Context, UsageError};

/// Flags of `fieldkit sync`.
#[derive(Args)]
pub struct SyncArgs {
    /// Keep running: sync whenever the backend is reachable, until interrupted.
    #[arg(long)]
    watch: bool,
    /// Give up after this many seconds without any success (0: never). The queue is
    /// kept either way; the next sync continues where this one stopped.
    #[arg(long, default_value_t = 120)]
    retry_for: u64,
    /// Talk to this URL instead of the enrolled one (same TLS pin and server keys;
    /// e.g. a second backend node).
    #[arg(long)]
    backend: Option<String>,
    /// Upload chunk size in KiB (1–4096).
    #[arg(long, default_value_t = 1024)]
    chunk_kib: usize,
    /// Attachments uploaded at the same time (1–3; 1 on a link that breaks when
    /// shared).
    #[arg(long, default_value_t = sync::MAX_PARALLEL_UPLOADS)]
    parallel_uploads: usize,
    /// First backoff ceiling in milliseconds (PROTOCOL.md §6.9: 1000).
    #[arg(long, default_value_t = 1000, hide = true)]
    backoff_ms: u64,
    /// Time limit of one request in seconds.
    #[arg(long, default_value_t = 60, hide = true)]
    request_timeout: u64,
}

fn german_phase(phase: Phase) -> &'static str {
    match phase {
        Phase::Handshake => "Verbindung zum Server",
        Phase::Push => "Anträge senden",
        Phase::Upload => "Anhänge hochladen",
        Phase::Changes => "Entscheidungen abholen",
    }
}

/// Draws events as a progress bar on stderr (hidden when stderr is not a terminal).
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg:24} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self { bar }
    }

    fn show(&self, event: &SyncEvent) {
        match event {
            SyncEvent::Phase { phase } => {
                self.bar.set_message(german_phase(*phase));
                self.bar.set_position(0);
                self.bar.set_length(0);
            }
            SyncEvent::Records { sent, total } | SyncEvent::Bytes { sent, total } => {
                self.bar.set_length(*total);
                self.bar.set_position(*sent);
            }
            SyncEvent::Retrying {
                attempt,
                delay_ms,
                reason,
            } => self.bar.println(format!(
                "Verbindung gestört ({reason}); Versuch {attempt}, nächster in {:.1} s",
                *delay_ms as f64 / 1000.0
            )),
            SyncEvent::ClockSkew { skew_secs } => self.bar.println(format!(
                "WARNUNG: Die Uhr dieses Geräts weicht um {skew_secs} s von der Serverzeit ab. Bitte Uhrzeit korrigieren lassen."
            )),
            SyncEvent::Rejected {
                case_number,
                code,
                detail,
                ..
            } => self.bar.println(format!(
                "Antrag {case_number} abgelehnt ({code}): {detail}"
            )),
            SyncEvent::CaseStatus {
                case_number,
                status,
                comment,
                record_id,
            } => self.bar.println(format!(
                "Vorgang {}: {status}{}",
                case_number.as_deref().unwrap_or(record_id),
                comment
                    .as_deref()
                    .map(|c| format!(" — {c}"))
                    .unwrap_or_default()
            )),
            SyncEvent::CatalogInstalled { version } => self
                .bar
                .println(format!("Neuer Leistungskatalog {version} installiert.")),
            SyncEvent::UploadProblem {
                attachment_id,
                detail,
            } => self
                .bar
                .println(format!("Anhang {attachment_id}: {detail}")),
            SyncEvent::Blocked { blocked } => {
                self.bar.println(blocked.message_de());
                if let Some(seq) = blocked.seq() {
                    // The way out, for whoever holds the recovery secret (PROTOCOL.md §11).
                    self.bar.println(format!(
                        "Für die IT: `fieldkit export-held --out DATEI` (ab Datensatz {seq}, mit dem Wiederherstellungsschlüssel), \
                         dann am Server `fieldkit-backend admin kit import-held DATEI`."
                    ));
                }
            }
            SyncEvent::CatalogRefused { detail } => self.bar.println(format!(
                "Der Leistungskatalog des Servers wurde nicht übernommen ({detail}); der bisherige bleibt in Gebrauch."
            )),
            SyncEvent::Wiped { reason } => self.bar.println(format!(
                "Dieses Gerät wurde von der IT gesperrt und gelöscht: {reason}"
            )),
        }
    }
}

fn summary(r: &SyncReport) -> String {
    if r.wiped {
        return "Alle Daten dieses Geräts wurden auf Anordnung der IT gelöscht.".into();
    }
    let blocked = r
        .blocked
        .as_ref()
        .map(|b| format!("\n{}", b.message_de()))
        .unwrap_or_default();
    format!(
        "Synchronisiert: {} zugestellt, {} abgelehnt, {} ({} Bytes), {}. Offen: {}, {} mit Anhängen im Upload.",
        r.delivered,
        r.rejected,
        count(r.attachments_uploaded, "Anhang", "Anhänge"),
        r.bytes_uploaded,
        count(r.changes_applied, "Änderung", "Änderungen"),
        count(r.pending, "Antrag", "Anträge"),
        r.uploads_open
    ) + &blocked
}

pub fn run(ctx: &Context, out: &Output, args: SyncArgs) -> Result<u8> {
    if !(1..=4096).contains(&args.chunk_kib) {
        anyhow::bail!(UsageError("--chunk-kib must be between 1 and 4096".into()));
    }
    if !(1..=sync::MAX_PARALLEL_UPLOADS).contains(&args.parallel_uploads) {
        anyhow::bail!(UsageError(format!(
            "--parallel-uploads must be between 1 and {}",
            sync::MAX_PARALLEL_UPLOADS
        )));
    }
    let mut session = ctx.session()?;
    let backend = match &args.backend {
        Some(url) => session.backend_at(url)?,
        None => session.backend()?,
    };
    let options = SyncOptions {
        chunk_size: args.chunk_kib * 1024,
        parallel_uploads: args.parallel_uploads,
        give_up_after: (args.retry_for > 0).then(|| Duration::from_secs(args.retry_for)),
        backoff: sync::BackoffPolicy {
            base: Duration::from_millis(args.backoff_ms.max(1)),
            ..sync::BackoffPolicy::default()
        },
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        ..SyncOptions::default()
    };
    let json = out.json;
    let print_json = |value: &dyn erased::Json| {
        if let Some(line) = value.line() {
            println!("{line}");
        }
    };
    if args.watch {
        let progress = Progress::new();
        let mut last_online: Option<bool> = None;
        let auto = AutoSync::spawn(
            session,
            backend,
            AutoSyncOptions {
                sync: options,
                ..AutoSyncOptions::default()
            },
            move |event| {
                if json {
                    print_json(event);
                    return;
                }
                // Every probe reports; a person reads only the changes.
                let online = match event {
                    AutoSyncEvent::Online { .. } => Some(true),
                    AutoSyncEvent::Offline { .. } => Some(false),
                    _ => None,
                };
                if let Some(now) = online {
                    if last_online.replace(now) == Some(now) {
                        return;
                    }
                }
                match event {
                    AutoSyncEvent::Online { .. } => progress.bar.println("Server erreichbar."),
                    AutoSyncEvent::Offline {
                        reason,
                        next_attempt_at,
                    } => progress.bar.println(format!(
                        "Server nicht erreichbar ({reason}); nächster Versuch um {}.",
                        next_attempt_at
                            .with_timezone(&chrono::Local)
                            .format("%H:%M:%S")
                    )),
                    AutoSyncEvent::Sync { inner } => progress.show(inner),
                    AutoSyncEvent::Finished { report } => progress.bar.println(summary(report)),
                    AutoSyncEvent::Failed { error } => {
                        progress
                            .bar
                            .println(format!("Synchronisation fehlgeschlagen: {error}"));
                    }
                    AutoSyncEvent::Wiped => progress.bar.println("Gerät gelöscht."),
                }
            },
        );
        while !auto.is_finished() {
            std::thread::sleep(Duration::from_millis(500));
        }
        return Ok(exit::OK);
    }
    let progress = (!json).then(Progress::new);
    let cancel = CancelToken::new();
    let result = sync::sync(&mut session, &backend, &options, &cancel, &mut |event| {
        if let Some(p) = &progress {
            p.show(event);
        } else {
            print_json(event);
        }
    });
    if let Some(p) = &progress {
        p.bar.finish_and_clear();
    }
    let report = match result {
        Ok(report) => report,
        Err(e @ (KitError::Network(_) | KitError::Cancelled)) => {
            out.error(&anyhow::Error::from(e));
            return Ok(exit::INCOMPLETE);
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        println!(
            "{}",
            serde_json::json!({"event": "report", "report": report})
        );
    } else {
        println!("{}", summary(&report));
    }
    // Done means: wiped on order, or nothing left to send or upload.
    let finished = report.wiped
        || (report.blocked.is_none() && report.pending == 0 && report.uploads_open == 0);
    Ok(if finished { exit::OK } else { exit::INCOMPLETE })
}

/// One JSON line per event for `--json`.
mod erased {
    use serde::Serialize;

    pub trait Json {
        fn line(&self) -> Option<String>;
    }

    impl<T: Serialize> Json for T {
        fn line(&self) -> Option<String> {
            serde_json::to_string(self).ok()
        }
    }
}

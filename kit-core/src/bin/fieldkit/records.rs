//! `fieldkit record …`: capture from JSON files (one application, or many as JSON
//! lines), finalize, list, show, answer a Rückfrage, withdraw, and the signed printout of a
//! draft or record.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use kit_core::{Finalized, RecordState, Session};
use serde::Serialize;

use crate::exit;
use crate::output::Output;
use crate::unlock::{Context, UsageError};

#[derive(Subcommand)]
pub enum RecordCommand {
    /// Capture one application from a JSON file of form data.
    New {
        /// Service id (see `fieldkit catalog list`).
        #[arg(long)]
        service: String,
        /// The form data, a JSON object.
        #[arg(long)]
        data: PathBuf,
        /// An attachment as KIND=PATH, e.g. signed-printout=scan.pdf (repeatable).
        #[arg(long = "attach", value_name = "KIND=PATH")]
        attach: Vec<String>,
        /// Finalize at once (otherwise it stays a draft).
        #[arg(long)]
        finalize: bool,
    },
    /// Capture many applications, one JSON object of form data per line.
    Import {
        /// Service id.
        #[arg(long)]
        service: String,
        /// The JSON-lines file.
        #[arg(long)]
        jsonl: PathBuf,
        /// Finalize each at once.
        #[arg(long)]
        finalize: bool,
    },
    /// Records (newest first) and open drafts.
    List {
        /// Only this state: pending, delivered, complete, rejected, purged.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One record by id or case number.
    Show {
        /// Record id or case number.
        id: String,
    },
    /// Finalize a draft.
    Finalize {
        /// Draft id.
        id: String,
    },
    /// Write the printout of a draft (for the citizen to sign) or of a finalized record
    /// (a confirmation with case number and verification code) as PDF/A-3a + PDF/UA-1.
    Printout {
        /// Draft id, record id or case number.
        id: String,
        /// The PDF file to write.
        #[arg(long)]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        /// Place of signature (default: the city of the form's address).
        #[arg(long)]
        place: Option<String>,
        /// The citizen's signature as a PNG image.
        #[arg(long, value_name = "FILE.png")]
        signature: Option<PathBuf>,
    },
    /// Answer the back office's Rückfrage on a record (its case waits for information):
    /// a note and the documents the citizen supplied, sent as a supplement to the same
    /// case.
    Answer {
        /// Record id or case number.
        id: String,
        /// The answer for the back office (1–2,000 characters).
        #[arg(long)]
        note: String,
        /// A document as KIND=PATH, a kind of the record's service (repeatable).
        #[arg(long = "attach", value_name = "KIND=PATH")]
        attach: Vec<String>,
    },
    /// Withdraw a finalized record (a new record that references it).
    Withdraw {
        /// Record id or case number.
        id: String,
        /// Why, for the back office.
        #[arg(long)]
        reason: String,
    },
}

/// Media type from a file name, for `--attach`.
pub fn media_type_of(path: &Path) -> Result<&'static str> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("pdf") => "application/pdf",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("tif" | "tiff") => "image/tiff",
        _ => bail!(UsageError(format!(
            "cannot tell the type of {} (use .pdf, .jpg, .png or .tif)",
            path.display()
        ))),
    })
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| UsageError(format!("{} is not JSON: {e}", path.display())).into())
}

#[derive(Serialize)]
struct Captured {
    draft_id: Option<String>,
    #[serde(flatten)]
    finalized: Option<Finalized>,
}

fn human(c: &Captured) -> String {
    match (&c.finalized, &c.draft_id) {
        (Some(f), _) => format!(
            "Abgeschlossen: Vorgang {}  Prüfcode {}  (Datensatz {})",
            f.case_number, f.verification_code, f.record_id
        ),
        (None, Some(d)) => format!("Entwurf gespeichert: {d}"),
        _ => String::new(),
    }
}

fn capture(
    session: &mut Session,
    service: &str,
    data: &serde_json::Value,
    attach: &[String],
    finalize: bool,
) -> Result<Captured> {
    let draft = session.create_draft(service, data)?;
    attach_all(session, &draft, attach)?;
    if finalize {
        Ok(Captured {
            draft_id: None,
            finalized: Some(session.finalize(&draft)?),
        })
    } else {
        Ok(Captured {
            draft_id: Some(draft),
            finalized: None,
        })
    }
}

/// Attaches every `KIND=PATH` of `--attach` to `draft`, with the file's name.
fn attach_all(session: &mut Session, draft: &str, attach: &[String]) -> Result<()> {
    for spec in attach {
        let (kind, path) = spec
            .split_once('=')
            .ok_or_else(|| UsageError(format!("--attach expects KIND=PATH, got {spec}")))?;
        let path = PathBuf::from(path);
        let media = media_type_of(&path)?;
        let file =
            std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy());
        session.attach_named(draft, kind, media, name.as_deref(), file)?;
    }
    Ok(())
}

/// Answers the Rückfrage on `id` with `note` and the files of `attach`, finalized at
/// once; if anything fails, the answer's draft is discarded (nothing half-written).
fn answer(session: &mut Session, id: &str, note: &str, attach: &[String]) -> Result<Finalized> {
    let draft = session.start_answer(id, note)?;
    let sent = attach_all(session, &draft, attach).and_then(|()| Ok(session.finalize(&draft)?));
    if sent.is_err() {
        session.discard_draft(&draft)?;
    }
    sent
}

pub fn run(ctx: &Context, out: &Output, cmd: RecordCommand) -> Result<u8> {
    let mut session = ctx.session()?;
    match cmd {
        RecordCommand::New {
            service,
            data,
            attach,
            finalize,
        } => {
            let data = read_json(&data)?;
            let captured = capture(&mut session, &service, &data, &attach, finalize)?;
            out.print(&captured, human);
        }
        RecordCommand::Import {
            service,
            jsonl,
            finalize,
        } => {
            let file = std::fs::File::open(&jsonl)
                .with_context(|| format!("opening {}", jsonl.display()))?;
            let mut done = 0u64;
            let mut failed = 0u64;
            for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
                let line = line.with_context(|| format!("reading {}", jsonl.display()))?;
                if line.trim().is_empty() {
                    continue;
                }
                let result = serde_json::from_str::<serde_json::Value>(&line)
                    .map_err(|e| {
                        anyhow::Error::from(UsageError(format!("line {}: not JSON: {e}", n + 1)))
                    })
                    .and_then(|data| capture(&mut session, &service, &data, &[], finalize));
                match result {
                    Ok(c) => {
                        done += 1;
                        if out.json {
                            out.print(&serde_json::json!({"line": n + 1, "result": c}), |_| {
                                String::new()
                            });
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("fieldkit: line {}: {e:#}", n + 1);
                    }
                }
            }
            if !out.json {
                println!("{done} übernommen, {failed} fehlerhaft.");
            }
            if failed > 0 {
                return Ok(exit::VALIDATION);
            }
        }
        RecordCommand::List { state, limit } => {
            let state = match state.as_deref() {
                None => None,
                Some("pending") => Some(RecordState::Pending),
                Some("delivered") => Some(RecordState::Delivered),
                Some("complete") => Some(RecordState::Complete),
                Some("rejected") => Some(RecordState::Rejected),
                Some("purged") => Some(RecordState::Purged),
                Some(other) => bail!(UsageError(format!("unknown state {other}"))),
            };
            let records = session.records(state, limit)?;
            let drafts = if state.is_none() {
                session.drafts()?
            } else {
                Vec::new()
            };
            out.print(
                &serde_json::json!({"records": records, "drafts": drafts}),
                |_| {
                    let mut lines: Vec<String> = records
                        .iter()
                        .map(|r| {
                            format!(
                                "{}  {:<10} {:<28} {}  {}",
                                r.case_number,
                                r.state.as_str(),
                                r.service_id,
                                r.visit_date,
                                r.verification_code
                            )
                        })
                        .collect();
                    lines.extend(drafts.iter().map(|d| {
                        format!(
                            "Entwurf {}  {}  zuletzt {}",
                            d.id, d.service_id, d.updated_at
                        )
                    }));
                    lines.join("\n")
                },
            );
        }
        RecordCommand::Show { id } => {
            let r = session.record(&id)?;
            out.print(&r, |r| serde_json::to_string_pretty(r).unwrap_or_default());
        }
        RecordCommand::Finalize { id } => {
            let f = session.finalize(&id)?;
            out.print(
                &Captured {
                    draft_id: None,
                    finalized: Some(f),
                },
                human,
            );
        }
        RecordCommand::Printout {
            id,
            out: file,
            force,
            place,
            signature,
        } => {
            // Refused before anything is rendered, so a wrong call costs nothing.
            if !force && file.exists() {
                bail!(UsageError(format!(
                    "{} exists; use --force to replace it",
                    file.display()
                )));
            }
            let signature_png = signature
                .map(|p| std::fs::read(&p).with_context(|| format!("reading {}", p.display())))
                .transpose()?;
            let options = kit_core::PrintoutOptions {
                place,
                signature_png,
                date: None,
            };
            let pdf = session.printout(&id, &options)?;
            write_atomically(&file, &pdf, force)?;
            out.print(
                &serde_json::json!({"file": file, "bytes": pdf.len()}),
                |_| {
                    format!(
                        "Ausdruck geschrieben: {} ({} Bytes)",
                        file.display(),
                        pdf.len()
                    )
                },
            );
        }
        RecordCommand::Answer { id, note, attach } => {
            let f = answer(&mut session, &id, &note, &attach)?;
            out.print(
                &Captured {
                    draft_id: None,
                    finalized: Some(f),
                },
                human,
            );
        }
        RecordCommand::Withdraw { id, reason } => {
            let record_id = session.record(&id)?.record_id;
            let f = session.withdraw(&record_id, &reason)?;
            out.print(
                &Captured {
                    draft_id: None,
                    finalized: Some(f),
                },
                human,
            );
        }
    }
    Ok(exit::OK)
}

/// Writes `bytes` to `path` through a temp file in the same folder (readable by its owner
/// only: a printout holds personal data) renamed into place, so a crash or a full disk
/// leaves either no file or the whole one. Without `replace`, an existing file is never
/// touched, even if it appears while we write.
fn write_atomically(path: &Path, bytes: &[u8], replace: bool) -> Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".fieldkit-printout-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    if replace {
        temp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", path.display()))?;
    } else {
        match temp.persist_noclobber(path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!(UsageError(format!(
                    "{} exists; use --force to replace it",
                    path.display()
                )))
            }
            // A FAT-formatted USB stick has neither an exclusive rename nor hard links,
            // which persist_noclobber needs: there the file's absence is checked and a
            // plain rename used (a file appearing in between would be replaced).
            Err(e) if !path.exists() => {
                e.file
                    .persist(path)
                    .map_err(|e| e.error)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Err(e) => {
                return Err(
                    anyhow::Error::from(e.error).context(format!("writing {}", path.display()))
                )
            }
        }
    }
    Ok(())
}

//! Commands for setting up and looking after a kit: init, clerks, catalog, status,
//! verify, purge, and the export of a blocked queue for IT.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use serde::Serialize;
use sync_protocol::dsse::Envelope;

use crate::exit;
use crate::output::{count, Output};
use crate::unlock::{new_pin, Context, UsageError};

#[derive(Subcommand)]
pub enum ClerkCommand {
    /// Add a clerk (unlocked by an existing clerk, or by IT with the recovery secret).
    Add {
        /// Display name, e.g. "Clara Müller".
        #[arg(long)]
        name: String,
    },
    /// List clerks.
    List,
    /// Change the PIN of the clerk who unlocks.
    ChangePin,
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Services of the installed catalog.
    List,
    /// One service: its form, attachments, fee and legal basis.
    Show {
        /// Service id, e.g. anmeldung.
        service: String,
    },
    /// Install a signed catalog file (as published by the backend).
    Install {
        /// The signed catalog (DSSE envelope JSON).
        file: PathBuf,
    },
}

pub fn init(ctx: &Context, out: &Output) -> Result<u8> {
    let given = std::env::var("FIELDKIT_RECOVERY_SECRET").ok();
    let done = ctx.kit.init(given.as_deref())?;
    #[derive(Serialize)]
    struct Shown<'a> {
        home: String,
        kit_public_key: &'a str,
        recovery_secret: &'a str,
    }
    let shown = Shown {
        home: ctx.kit.home().root().display().to_string(),
        kit_public_key: &done.kit_public_key,
        recovery_secret: &done.recovery_secret,
    };
    out.print(&shown, |s| {
        format!(
            "Kit eingerichtet in {}.\nWiederherstellungsschlüssel für die IT (nur jetzt sichtbar, sicher verwahren):\n\n    {}\n\nNächster Schritt: fieldkit clerk add --name \"Vorname Nachname\"",
            s.home, s.recovery_secret
        )
    });
    Ok(exit::OK)
}

pub fn enrol(
    ctx: &Context,
    out: &Output,
    provisioning: Option<PathBuf>,
    backend: Option<String>,
    code: Option<String>,
    name: Option<String>,
) -> Result<u8> {
    let provisioning: Option<kit_core::Provisioning> = match &provisioning {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(serde_json::from_str(&text).map_err(|e| {
                UsageError(format!(
                    "{} is not a provisioning file: {e}",
                    path.display()
                ))
            })?)
        }
        None => None,
    };
    let url = match (&provisioning, backend) {
        (Some(p), _) => p.backend_url.clone(),
        (None, Some(url)) => url,
        (None, None) => bail!(UsageError(
            "give --provisioning FILE, or --backend URL and --code CODE".into()
        )),
    };
    let code = code.ok_or_else(|| {
        UsageError("no enrolment code: give --code or FIELDKIT_ENROLMENT_CODE".into())
    })?;
    let name = name
        .or_else(|| provisioning.as_ref().map(|p| p.kit_name.clone()))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "Fieldkit-Kit".into());
    let backend =
        kit_core::net::Backend::new(&url, provisioning.as_ref().and_then(|p| p.tls_pin.as_ref()))?;
    let mut session = ctx.any_session()?;
    let enrolment = session.enrol(
        &backend,
        &url,
        &code,
        &name,
        provisioning.as_ref().map(|p| p.server_keys.as_slice()),
    )?;
    let catalog = session.installed_version()?;
    out.print(
        &serde_json::json!({"enrolment": enrolment, "catalog_version": catalog}),
        |_| {
            format!(
                "Registriert als {} ({}) bei {}. Katalog {} installiert.",
                enrolment.kit_id,
                enrolment.authority_id,
                enrolment.backend_url,
                catalog.as_deref().unwrap_or("?")
            )
        },
    );
    Ok(exit::OK)
}

pub fn clerk(ctx: &Context, out: &Output, cmd: ClerkCommand) -> Result<u8> {
    match cmd {
        ClerkCommand::Add { name } => {
            let mut session = ctx.any_session()?;
            let pin = new_pin()?;
            let clerk = session.add_clerk(&name, pin.as_bytes())?;
            out.print(&clerk, |c| {
                format!("Sachbearbeiter/in {} angelegt ({}).", c.name, c.id)
            });
        }
        ClerkCommand::List => {
            let session = ctx.any_session()?;
            let clerks = session.clerks()?;
            out.print(&clerks, |cs| {
                cs.iter()
                    .map(|c| format!("{}\t{}", c.id, c.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        ClerkCommand::ChangePin => {
            let mut session = ctx.session()?;
            let pin = new_pin()?;
            session.change_pin(pin.as_bytes())?;
            out.print(&serde_json::json!({"changed": true}), |_| {
                "PIN geändert.".into()
            });
        }
    }
    Ok(exit::OK)
}

pub fn catalog(ctx: &Context, out: &Output, cmd: CatalogCommand) -> Result<u8> {
    let mut session = ctx.any_session()?;
    match cmd {
        CatalogCommand::List => {
            #[derive(Serialize)]
            struct Row {
                id: String,
                name: String,
                offline: bool,
                leika: String,
                leika_verified: bool,
            }
            let rows: Vec<Row> = session
                .catalog()?
                .services
                .iter()
                .map(|s| Row {
                    id: s.id.to_string(),
                    name: s.name.de.clone(),
                    offline: s.availability.offline,
                    leika: s.leika.key.to_string(),
                    leika_verified: s.leika.verified,
                })
                .collect();
            out.print(&rows, |rows| {
                rows.iter()
                    .map(|r| {
                        format!(
                            "{:<28} {}{}",
                            r.id,
                            r.name,
                            if r.offline {
                                ""
                            } else {
                                "  (nicht offline möglich)"
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        CatalogCommand::Show { service } => {
            let s = session.catalog()?.service(&service)?.clone();
            out.print(&s, |s| {
                let mut text = format!("{} — {}\n{}\n", s.id, s.name.de, s.description.de);
                if let Some(reason) = &s.availability.reason {
                    text.push_str(&format!("Nicht offline möglich: {}\n", reason.de));
                }
                for a in &s.attachments {
                    text.push_str(&format!(
                        "Anlage {}: {}{}\n",
                        a.id,
                        a.label.de,
                        if a.required { " (Pflicht)" } else { "" }
                    ));
                }
                text
            });
        }
        CatalogCommand::Install { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let envelope = Envelope::from_json(&bytes)?;
            let meta = session.install_catalog(&envelope)?;
            out.print(&meta, |m| format!("Katalog {} installiert.", m.version));
        }
    }
    Ok(exit::OK)
}

pub fn status(ctx: &Context, out: &Output) -> Result<u8> {
    let session = ctx.any_session()?;
    let status = session.status()?;
    out.print(&status, |s| {
        format!(
            "Kit: {}\nKatalog: {}\nEntwürfe: {}\nAusstehend: {}\nÜbermittelt: {}\nAbgeschlossen: {}\nAbgelehnt: {}\nBereinigt: {}\nLetzte Synchronisierung: {}",
            s.kit_id.as_deref().unwrap_or("nicht registriert"),
            s.catalog_version.as_deref().unwrap_or("keiner"),
            s.drafts,
            s.pending,
            s.delivered,
            s.complete,
            s.rejected,
            s.purged,
            s.last_sync.as_deref().unwrap_or("noch nie")
        ) + &match s.clock_skew_secs {
            Some(skew) if skew.abs() > kit_core::sync::CLOCK_SKEW_WARNING_SECS => format!(
                "\nWARNUNG: Die Geräteuhr weicht um {skew} s von der Serverzeit ab. Bitte Uhrzeit korrigieren lassen."
            ),
            _ => String::new(),
        }
    });
    Ok(exit::OK)
}

pub fn verify(ctx: &Context, out: &Output) -> Result<u8> {
    let session = ctx.any_session()?;
    let report = session.verify_chain()?;
    let ok = report.ok();
    out.print(&serde_json::json!({"ok": ok, "report": report}), |_| {
        if ok {
            format!(
                "Kette in Ordnung: {}, {} und {} geprüft.",
                count(report.records, "Datensatz", "Datensätze"),
                count(report.signatures_checked, "Signatur", "Signaturen"),
                count(
                    report.receipts_checked,
                    "Empfangsbestätigung",
                    "Empfangsbestätigungen"
                )
            )
        } else {
            format!(
                "Kette BESCHÄDIGT: fehlerhafte Datensätze {:?}, Befunde {:?}, ungültige Empfangsbestätigungen {:?}",
                report.bad_records, report.findings, report.bad_receipts
            )
        }
    });
    Ok(if ok { exit::OK } else { exit::ERROR })
}

pub fn purge(ctx: &Context, out: &Output, days: u32) -> Result<u8> {
    let mut session = ctx.any_session()?;
    let report = session.purge(days)?;
    out.print(&report, |r| {
        format!(
            "{} Vorgänge bereinigt, {} Dateien gelöscht, {} Entwürfe älter als {days} Tage.",
            r.purged.len(),
            r.files_removed,
            r.stale_drafts.len()
        )
    });
    Ok(exit::OK)
}

pub fn export_held(
    ctx: &Context,
    out: &Output,
    file: &std::path::Path,
    from: Option<u64>,
) -> Result<u8> {
    let mut session = ctx.recovery_session()?;
    let export = session.export_held(from)?;
    write_new_private(file, &export.file)?;
    #[derive(Serialize)]
    struct Written<'a> {
        file: &'a std::path::Path,
        #[serde(flatten)]
        export: &'a kit_core::HeldExport,
    }
    out.print(
        &Written {
            file,
            export: &export,
        },
        |w| {
            format!(
                "Datensätze {}–{} für die IT geschrieben nach {} ({} Umschläge, {} Empfangsbestätigungen, SHA-256 {}). \
                 Einspielen am Server: fieldkit-backend admin kit import-held {}",
                w.export.from_seq,
                w.export.to_seq,
                w.file.display(),
                w.export.envelopes,
                w.export.receipts,
                w.export.file_sha256,
                w.file.display()
            )
        },
    );
    Ok(exit::OK)
}

/// Writes a new file readable by its owner only; never replaces an existing one.
fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).with_context(|| {
        format!(
            "{}: cannot create (an existing file is never replaced)",
            path.display()
        )
    })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("{}: writing", path.display()))?;
    Ok(())
}

//! `fieldkit`: the kit's command line for clerks, IT staff and scripts. A contract:
//! command and flag names may grow, never change. Exit codes: 0 ok, 1 error, 2 usage,
//! 3 locked or wrong PIN, 4 validation failed, 5 sync incomplete (backend unreachable,
//! gave up, or sending blocked — nothing is lost; run `fieldkit sync` again). `--json` prints machine-readable output
//! on stdout; messages go to stderr. PINs come from `FIELDKIT_PIN` or a prompt, never
//! from a flag (flags end up in shell history and process lists).

// A command-line program prints to stdout by design.
#![allow(clippy::print_stdout)]

mod admin;
mod output;
mod records;
mod sync;
mod unlock;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kit_core::KitError;

#[derive(Parser)]
#[command(
    name = "fieldkit",
    version,
    about = "Fieldkit kit: capture applications offline, keep them sealed, sync them later."
)]
struct Cli {
    /// The kit folder (default: the OS data folder, e.g. ~/.local/share/fieldkit).
    #[arg(long, global = true, env = "FIELDKIT_HOME")]
    home: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// The clerk who unlocks (default: the only clerk).
    #[arg(long, global = true, env = "FIELDKIT_CLERK")]
    clerk: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set up a new kit in the folder: store, kit key, recovery secret (shown once).
    Init,
    /// Enrol this kit with the backend (IT's provisioning file, or URL and one-time
    /// code), then install the current catalog.
    Enrol {
        /// The provisioning file from `fieldkit-backend admin kit provision`.
        #[arg(long, conflicts_with = "backend")]
        provisioning: Option<std::path::PathBuf>,
        /// The backend URL (instead of a provisioning file).
        #[arg(long, requires = "code")]
        backend: Option<String>,
        /// The one-time enrolment code.
        #[arg(long, env = "FIELDKIT_ENROLMENT_CODE")]
        code: Option<String>,
        /// The kit's name as the backend shows it (default: the host name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Manage clerks.
    #[command(subcommand)]
    Clerk(admin::ClerkCommand),
    /// The installed service catalog.
    #[command(subcommand)]
    Catalog(admin::CatalogCommand),
    /// Capture and inspect records.
    #[command(subcommand)]
    Record(records::RecordCommand),
    /// Counts per state, last sync, clock skew.
    Status,
    /// Deliver the queue to the backend and fetch decisions (progress on stderr; with
    /// `--json` one event per line on stdout).
    Sync(sync::SyncArgs),
    /// Walk the local chain and check every signature and link.
    Verify,
    /// Take away every permission of other users in the kit folder (folders 0700, files
    /// 0600): for a kit set up by an older Fieldkit, which refuses to start otherwise.
    /// Whoever could read the folder may have copied the key slots: change the PINs.
    FixPermissions,
    /// For IT, when a sync reports the queue blocked: write every record from the blocked
    /// position on (envelopes, receipts, the kit's signed statement) into a file for
    /// `fieldkit-backend admin kit import-held`. Needs the recovery secret.
    ExportHeld {
        /// The file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// First position (default: where the last sync stopped).
        #[arg(long)]
        from: Option<u64>,
    },
    /// Delete sealed data of records complete for longer than the retention period.
    Purge {
        /// Retention in days.
        #[arg(long, default_value_t = kit_core::DEFAULT_RETENTION_DAYS)]
        days: u32,
    },
}

/// Exit codes of the contract.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any error not listed below.
    pub const ERROR: u8 = 1;
    /// Wrong usage (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// Kit locked: wrong PIN, too many attempts, no clerk.
    pub const LOCKED: u8 = 3;
    /// Form data or attachments do not validate.
    pub const VALIDATION: u8 = 4;
    /// The sync did not finish (unreachable, gave up, blocked); the queue is kept.
    pub const INCOMPLETE: u8 = 5;
}

fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<KitError>() {
        Some(
            KitError::WrongSecret { .. }
            | KitError::TooManyAttempts { .. }
            | KitError::UnknownClerk(_),
        ) => exit::LOCKED,
        Some(
            KitError::Validation(_)
            | KitError::MissingAttachments(_)
            | KitError::OutdatedPrintout(_)
            | KitError::AttachmentRefused(_),
        ) => exit::VALIDATION,
        _ if err.downcast_ref::<unlock::UsageError>().is_some() => exit::USAGE,
        _ => exit::ERROR,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output { json: cli.json };
    let home = match cli.home.clone().or_else(kit_core::home::Home::default_root) {
        Some(h) => h,
        None => {
            eprintln!("fieldkit: no --home given and no OS data folder found");
            return ExitCode::from(exit::USAGE);
        }
    };
    let ctx = unlock::Context {
        kit: kit_core::Kit::at(home),
        clerk: cli.clerk.clone(),
    };
    let result = match cli.command {
        Command::Init => admin::init(&ctx, &out),
        Command::Enrol {
            provisioning,
            backend,
            code,
            name,
        } => admin::enrol(&ctx, &out, provisioning, backend, code, name),
        Command::Clerk(c) => admin::clerk(&ctx, &out, c),
        Command::Catalog(c) => admin::catalog(&ctx, &out, c),
        Command::Record(c) => records::run(&ctx, &out, c),
        Command::Status => admin::status(&ctx, &out),
        Command::Sync(args) => sync::run(&ctx, &out, args),
        Command::Verify => admin::verify(&ctx, &out),
        Command::FixPermissions => unlock::fix_permissions(&ctx, &out),
        Command::Purge { days } => admin::purge(&ctx, &out, days),
        Command::ExportHeld { out: file, from } => admin::export_held(&ctx, &out, &file, from),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            out.error(&err);
            ExitCode::from(exit_code(&err))
        }
    }
}

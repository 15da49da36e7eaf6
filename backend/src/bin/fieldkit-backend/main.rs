//! The `fieldkit-backend` binary: `serve` runs the kit API; `admin …` are IT staff's
//! commands against the database (see `backend/README.md` for every command and the
//! exit codes). Argument parsing, logging set-up and printing live here; everything
//! else is the library.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use fieldkit_backend::admin::{Admin, AdminError, Target};
use fieldkit_backend::blobs::{BlobConfig, BlobStore};
use fieldkit_backend::config::{
    check_master_key_place, Config, ConfigError, ConfigLayer, DatabaseUrl, LogFormat, ENV_CONFIG,
};
use fieldkit_backend::keys::{
    KeyError, MasterKey, MasterKeyOrigin, MasterKeySource, ENV_MASTER_KEY,
};
use fieldkit_backend::server::{serve_on, serve_ops, shutdown_signal};
use fieldkit_backend::state::{
    server_key_ring, server_signing_key, AppState, ProvisioningSettings, ServerKeyError,
};
use fieldkit_backend::storage::{self, Role, StoreError};
use fieldkit_backend::tls::load_tls;
use fieldkit_catalog::AuthorityKind;
use zeroize::Zeroizing;

#[derive(Debug, Parser)]
#[command(
    name = "fieldkit-backend",
    version,
    about = "The Fieldkit municipal backend"
)]
struct Cli {
    /// TOML configuration file (also `FIELDKIT_CONFIG`).
    #[arg(long, global = true, env = ENV_CONFIG)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the kit API.
    Serve(ConfigLayer),
    /// IT staff's commands; they work on the database directly.
    Admin(AdminArgs),
}

#[derive(Debug, clap::Args)]
struct AdminArgs {
    /// Data folder of an embedded setup (database, attachments, master key).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// `postgres://…` or `sqlite://PATH` instead of the data folder's database.
    #[arg(long = "database", global = true)]
    database_url: Option<String>,
    /// File with the master key (base64); alternatively `FIELDKIT_MASTER_KEY`.
    #[arg(long, global = true)]
    master_key_file: Option<PathBuf>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Authorities (tenants) and their HPKE keys.
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Back-office users.
    #[command(subcommand)]
    User(UserCommand),
    /// Kits.
    #[command(subcommand)]
    Kit(KitCommand),
    /// The service catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// The server signing key (rotation reaches kits through their signed changes).
    #[command(subcommand)]
    ServerKey(ServerKeyCommand),
    /// The TLS certificate pin kits enforce.
    #[command(subcommand)]
    TlsPin(TlsPinCommand),
    /// Demo authorities, users, catalog and a provisioned kit in the data folder.
    Demo {
        /// The URL the demo kit will use.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        backend_url: String,
        /// The catalog folder to publish.
        #[arg(long, default_value = fieldkit_catalog::CATALOG_DIR)]
        catalog: PathBuf,
    },
    /// Print a new random master key (base64) for `FIELDKIT_MASTER_KEY`.
    GenerateMasterKey,
    /// Back up the database and the attachments into a new folder, while the backend
    /// runs (the master key is not in it: back it up separately).
    Backup {
        /// The new (or empty) folder.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty database and attachment store (checks every file
    /// first; refuses a target that is not empty).
    Restore {
        /// The backup folder.
        #[arg(long)]
        from: PathBuf,
    },
    /// Check that every complete attachment is stored, whole and of its hash; names the
    /// cases of those that are not (exit 8).
    Fsck,
}

#[derive(Debug, Subcommand)]
enum AuthorityCommand {
    /// Add an authority with a new HPKE key pair.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// Regionalschlüssel; omit only for a federal office.
        #[arg(long)]
        ars: Option<String>,
        #[arg(long, value_parser = parse_kind)]
        kind: AuthorityKind,
    },
    /// List authorities and their key ids.
    List,
    /// Retire the current HPKE key and make a new one current.
    RotateKey { id: String },
    /// Require (on) or not (off) a second admin's confirmation in the back office for
    /// new reviewers and authority-admins and for role changes.
    FourEyes {
        id: String,
        #[arg(value_enum)]
        rule: OnOff,
    },
}

/// A switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
enum ServerKeyCommand {
    /// Make a new signing key current; kits trust the old one until the overlap ends.
    /// Restart every server process afterwards.
    Rotate {
        /// Days kits keep trusting the replaced key (1–365).
        #[arg(long, default_value_t = 30)]
        overlap_days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum TlsPinCommand {
    /// Announce the pin of a new certificate; kits trust the old pins until the overlap
    /// ends. Install the new certificate before then.
    Announce {
        /// The new certificate (PEM, leaf first).
        #[arg(long)]
        cert: PathBuf,
        /// Days kits keep trusting the current pins (1–365).
        #[arg(long, default_value_t = 30)]
        overlap_days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password comes from FIELDKIT_PASSWORD or a prompt.
    Add {
        #[arg(long)]
        authority: String,
        #[arg(long)]
        login: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// List users.
    List,
    /// Disable a user.
    Disable { login: String },
    /// Change a user's role (applies at once; recorded and shown to the authority's
    /// admins).
    SetRole {
        login: String,
        #[arg(long, value_enum)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
enum KitCommand {
    /// Provision a kit: prints its one-time code, writes its provisioning file.
    Provision {
        #[arg(long)]
        authority: String,
        #[arg(long)]
        name: String,
        /// The public base URL kits use to reach the backend.
        #[arg(long)]
        backend_url: String,
        /// The backend's TLS certificate (PEM) to pin.
        #[arg(long)]
        tls_cert: Option<PathBuf>,
        /// Allow an http:// URL to a non-loopback host.
        #[arg(long)]
        insecure_allow_plain_http: bool,
        /// Where to write the provisioning file (default: <data dir>/provisioning/<kit id>.json).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Hours the code stays valid (default: enrolment_code_ttl_hours, 72).
        #[arg(long)]
        valid_hours: Option<u32>,
    },
    /// List kits with their state, last contact, last seq and what they last reported of
    /// their queue (undelivered applications, where a blocked queue stopped).
    List {
        /// Only kits whose queue is blocked at a record the backend misses (after a
        /// restore: the kits that cannot heal by themselves).
        #[arg(long)]
        blocked: bool,
    },
    /// Revoke a kit. Default (drain): it may still deliver what it finalized (flagged
    /// "received from a revoked kit") and wipes itself once it reports an empty outbox.
    Revoke {
        kit_id: String,
        #[arg(long)]
        reason: String,
        /// drain (default), stolen (drain; every later record held for a second
        /// person's review) or wipe-now (needs --confirm-undelivered).
        #[arg(long, default_value = "drain", value_parser = parse_revocation_mode)]
        mode: fieldkit_backend::storage::RevocationMode,
        /// For wipe-now: the number of undelivered applications the kit last reported
        /// (shown by the refusal without it); what is not delivered is destroyed.
        #[arg(long)]
        confirm_undelivered: Option<u64>,
    },
    /// Lift a kit's quarantine after the fork was investigated.
    Release { kit_id: String },
    /// Import a blocked kit's held-records file (written on the kit by `fieldkit
    /// export-held` with the recovery secret): delivers what it can, restores records the
    /// backend once receipted and lost, bridges the rest as evidence; audited.
    ImportHeld { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Sign and publish the catalog folder at PATH as the current version.
    Publish { path: PathBuf },
}

fn parse_revocation_mode(s: &str) -> Result<fieldkit_backend::storage::RevocationMode, String> {
    fieldkit_backend::storage::RevocationMode::parse(s)
        .ok_or_else(|| "one of drain, stolen, wipe-now".to_owned())
}

fn parse_kind(s: &str) -> Result<AuthorityKind, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| "one of gemeinde, kreis, land, bund".to_owned())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn master_key_source(file: Option<PathBuf>) -> MasterKeySource {
    MasterKeySource {
        env: env(ENV_MASTER_KEY).map(Zeroizing::new),
        file,
        generate_in: None,
    }
}

fn init_logging(format: LogFormat, default: &str, to_stderr: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = match (format, to_stderr) {
        (LogFormat::Json, false) => builder.json().try_init(),
        (LogFormat::Json, true) => builder.json().with_writer(std::io::stderr).try_init(),
        (LogFormat::Text, false) => builder.try_init(),
        (LogFormat::Text, true) => builder.with_writer(std::io::stderr).try_init(),
    };
    drop(result);
}

/// The exit code of a failed `serve` (documented in backend/README.md).
fn serve_exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return 5;
        }
        if cause.downcast_ref::<KeyError>().is_some() {
            return 6;
        }
        // The server signing key does not open with this master key (or the store
        // failed reading it).
        match cause.downcast_ref::<ServerKeyError>() {
            Some(ServerKeyError::Key(_)) => return 6,
            Some(ServerKeyError::Store(StoreError::Unavailable(_) | StoreError::Migration(_))) => {
                return 7
            }
            _ => {}
        }
        if let Some(StoreError::Unavailable(_) | StoreError::Migration(_)) =
            cause.downcast_ref::<StoreError>()
        {
            return 7;
        }
    }
    1
}

async fn serve(config_file: Option<PathBuf>, flags: ConfigLayer) -> anyhow::Result<()> {
    let layer = ConfigLayer::layered(config_file.as_deref(), env, flags)?;
    let config = Config::resolve(layer)?;
    init_logging(config.log_format, "info", false);
    tracing::info!(
        listen = %config.listen,
        database = %config.database,
        public_base_url = %config.public_base_url,
        tls = config.tls.is_some(),
        "starting fieldkit-backend"
    );
    let mut source = master_key_source(config.master_key_file.clone());
    if source.env.is_none() {
        if let Some(file) = &config.master_key_file {
            check_master_key_place(file, &config.data_dir, config.allow_master_key_in_data_dir)?;
        }
    }
    // Only a demo set-up that asks for it keeps (or generates) its key in the data folder.
    if config.database.is_embedded() && config.allow_master_key_in_data_dir {
        source.generate_in = Some(config.data_dir.clone());
    }
    let (master, origin) = MasterKey::load(&source).map_err(|e| match e {
        KeyError::NoMasterKey => anyhow::Error::new(e).context(
            "kein Hauptschlüssel / no master key: FIELDKIT_MASTER_KEY or master_key_file \
             outside the data folder (e.g. /etc/fieldkit/master.key, mode 0600; \
             `fieldkit-backend admin generate-master-key` prints a new one); a demo set-up \
             may pass --allow-master-key-in-data-dir",
        ),
        other => other.into(),
    })?;
    if let MasterKeyOrigin::Generated(path) = &origin {
        tracing::warn!(
            path = %path.display(),
            "generated a new master key; back it up: without it the keys in the database cannot be opened"
        );
    }
    let store = storage::open(&config.database, config.database_pool_size).await?;
    let server_key = server_signing_key(store.as_ref(), &master)
        .await
        .context("loading the server signing key")?;
    let key_ring = server_key_ring(store.as_ref(), &master)
        .await
        .context("loading the earlier server signing keys")?;
    let blobs = BlobStore::open(&config.blobs).context("opening the attachment store")?;
    // A store that does not answer now is logged, not fatal: records still arrive, and
    // uploads get 503 until it is back.
    match blobs.probe().await {
        Ok(()) => tracing::info!(blobs = %blobs.describe(), "attachment store answers"),
        Err(e) => {
            tracing::error!(blobs = %blobs.describe(), error = %e, "attachment store does not answer")
        }
    }
    let app = AppState::with_master_key(
        store.clone(),
        server_key,
        config.public_base_url.clone(),
        blobs,
        master,
    );
    app.set_limits(config.limits.clone());
    app.set_server_key_ring(key_ring);
    let _ = app.provisioning.set(ProvisioningSettings {
        tls_cert: config.tls.as_ref().map(|(cert, _)| cert.clone()),
        code_ttl: config.enrolment_code_ttl,
    });
    let tls = match &config.tls {
        Some((cert, key)) => Some(load_tls(cert, key)?),
        None => None,
    };
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("binding {}", config.listen))?;
    let ops_listener = std::net::TcpListener::bind(config.ops_listen)
        .with_context(|| format!("binding the operations listener {}", config.ops_listen))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        ops_addr = %ops_listener.local_addr()?,
        "listening"
    );
    let ops = tokio::spawn(serve_ops(ops_listener, app.clone()));
    let served = serve_on(listener, app, tls, config.shutdown_grace, shutdown_signal()).await;
    ops.abort();
    // Requests are done (or past their grace); a background task still holding a
    // connection does not keep the process from exiting.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), store.close()).await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

fn read_password() -> Result<Zeroizing<String>, AdminError> {
    if let Some(p) = env("FIELDKIT_PASSWORD") {
        return Ok(Zeroizing::new(p));
    }
    let io = |source| AdminError::Io {
        path: "terminal".into(),
        source,
    };
    let first = Zeroizing::new(rpassword::prompt_password("Password: ").map_err(io)?);
    let second = Zeroizing::new(rpassword::prompt_password("Repeat password: ").map_err(io)?);
    if first != second {
        return Err(AdminError::Invalid("the passwords differ".into()));
    }
    Ok(first)
}

fn out(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn print<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce(&T) -> String) {
    if json {
        out(serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        let t = text(value);
        if !t.is_empty() {
            out(t);
        }
    }
}

async fn run_admin(config_file: Option<PathBuf>, args: AdminArgs) -> Result<(), AdminError> {
    if let AdminCommand::GenerateMasterKey = args.command {
        out(MasterKey::generate().to_text().as_str());
        return Ok(());
    }
    let flags = ConfigLayer {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        master_key_file: args.master_key_file.clone(),
        ..ConfigLayer::default()
    };
    let layer = ConfigLayer::layered(config_file.as_deref(), env, flags)
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let data_dir = layer
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("fieldkit-data"));
    let database = match &layer.database_url {
        Some(url) => DatabaseUrl::parse(url).map_err(|e| AdminError::Invalid(e.to_string()))?,
        None => DatabaseUrl::embedded(&data_dir),
    };
    let ttl_hours = layer.enrolment_code_ttl_hours.unwrap_or(72);
    let blobs = BlobConfig::resolve(layer.blobs.as_deref(), &data_dir)
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let target = Target {
        database,
        data_dir: data_dir.clone(),
        master_key: master_key_source(layer.master_key_file.clone()),
        blobs,
    };
    if let AdminCommand::Backup { .. } | AdminCommand::Restore { .. } | AdminCommand::Fsck =
        args.command
    {
        return commands::maintain(&target, args.command, args.json).await;
    }
    let admin = Admin::open(&target).await?;
    if let MasterKeyOrigin::Generated(path) = &admin.master_origin {
        tracing::warn!(path = %path.display(), "generated a new master key; back it up");
    }
    let result = commands::run(&admin, args.command, args.json, ttl_hours).await;
    admin.store.close().await;
    result
}

mod commands;

/// Makes every file and folder this process creates its owner's alone (umask 077): the
/// database, attachments, backups, restores and provisioning files. The unit's
/// `UMask=0077` covers the service; this also covers IT's commands, run from a shell
/// whose umask is usually 022 (`runuser -u fieldkit -- fieldkit-backend admin restore`
/// left the restored database readable by the group before).
fn owner_only_files() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

fn main() -> ExitCode {
    owner_only_files();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "fieldkit-backend: cannot start the runtime: {e}"
            );
            return ExitCode::from(1);
        }
    };
    match cli.command {
        Command::Serve(flags) => match runtime.block_on(serve(cli.config, flags)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "fieldkit-backend failed");
                let _ = writeln!(std::io::stderr(), "fieldkit-backend: {e:#}");
                ExitCode::from(serve_exit_code(&e))
            }
        },
        Command::Admin(args) => {
            init_logging(LogFormat::Text, "warn", true);
            match runtime.block_on(run_admin(cli.config, args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "fieldkit-backend admin: {e}");
                    ExitCode::from(e.exit_code())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn authority_kinds_parse_from_their_catalog_names() {
        assert_eq!(parse_kind("kreis"), Ok(AuthorityKind::Kreis));
        assert!(parse_kind("Kreis").is_err());
    }

    #[test]
    fn serve_errors_map_to_documented_exit_codes() {
        let config: anyhow::Error = ConfigError::Invalid("x".into()).into();
        assert_eq!(serve_exit_code(&config), 5);
        let key: anyhow::Error = KeyError::NoMasterKey.into();
        assert_eq!(serve_exit_code(&key.context("loading")), 6);
        let wrong = anyhow::Error::new(ServerKeyError::Key(KeyError::NoMasterKey));
        assert_eq!(
            serve_exit_code(&wrong.context("loading the server signing key")),
            6
        );
    }
}

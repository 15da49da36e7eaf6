//! The admin commands, through the real `fieldkit-backend` binary where the exit code
//! matters and through the library where the content does: the demo, provisioning files
//! with TLS pins, catalog publication rules, and the documented exit codes.

use std::path::Path;
use std::process::{Command, Output};

use fieldkit_backend::admin::kit::{provision, Out, ProvisionArgs, ProvisioningFile};
use fieldkit_backend::storage::PublishedCatalog;

use crate::support::{Backend, Db};

fn cli(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldkit-backend"));
    cmd.arg("admin").arg("--data-dir").arg(data_dir).args(args);
    cmd.env_remove("FIELDKIT_MASTER_KEY")
        .env_remove("FIELDKIT_PASSWORD");
    cmd.env_remove("FIELDKIT_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// An admin command closes the database before its process ends, after a command that
/// wrote and after one that only read. SQLite's last connection checkpoints the
/// write-ahead log and removes it when it closes: a `-wal` file left behind is a
/// connection still closing on its own thread while the process tore itself down.
#[test]
fn admin_commands_close_the_database_before_they_exit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wal = dir.path().join("fieldkit.sqlite3-wal");
    for args in [&["demo"][..], &["authority", "list"], &["kit", "list"]] {
        let out = cli(dir.path(), args, &[]);
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        assert!(dir.path().join("fieldkit.sqlite3").is_file());
        assert!(
            !wal.exists(),
            "{args:?} ended with {} still there",
            wal.display()
        );
    }
}

#[test]
fn the_demo_sets_up_everything_and_admin_errors_have_documented_exit_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = cli(dir.path(), &["--json", "demo"], &[]);
    assert_eq!(code(&demo), 0, "{}", String::from_utf8_lossy(&demo.stderr));
    let report: serde_json::Value = serde_json::from_slice(&demo.stdout).expect("JSON report");
    assert_eq!(
        report["users"].as_array().map(Vec::len),
        Some(4),
        "one user per role"
    );
    assert!(report["users"][0]["password"]
        .as_str()
        .is_some_and(|p| p.len() >= 20));
    assert_eq!(report["catalog"]["outcome"], "published");
    let file = report["kit"]["file"].as_str().expect("provisioning file");
    let provisioning: ProvisioningFile =
        serde_json::from_slice(&std::fs::read(file).expect("file written")).expect("parses");
    assert_eq!(
        provisioning.tls_pin, None,
        "plain HTTP on loopback has no pin"
    );
    assert!(
        dir.path().join("master.key").is_file(),
        "generated on first use"
    );

    let again = cli(dir.path(), &["demo"], &[]);
    assert_eq!(code(&again), 0, "re-running adds what is missing");
    assert!(String::from_utf8_lossy(&again.stdout).contains("exists already"));

    let dup = cli(
        dir.path(),
        &[
            "authority",
            "add",
            "--id",
            "gemeinde-musterstadt",
            "--name",
            "X",
            "--ars",
            "064320001001",
            "--kind",
            "gemeinde",
        ],
        &[],
    );
    assert_eq!(code(&dup), 4, "exists already");
    let unknown = cli(
        dir.path(),
        &[
            "kit",
            "revoke",
            "00000000-0000-4000-8000-000000000000",
            "--reason",
            "lost",
        ],
        &[],
    );
    assert_eq!(code(&unknown), 3, "not found");
    let bad_id = cli(
        dir.path(),
        &["kit", "revoke", "kit-1", "--reason", "lost"],
        &[],
    );
    assert_eq!(code(&bad_id), 5, "invalid input");
    let short = cli(
        dir.path(),
        &[
            "user",
            "add",
            "--authority",
            "gemeinde-musterstadt",
            "--login",
            "a.b",
            "--role",
            "reviewer",
        ],
        &[("FIELDKIT_PASSWORD", "short")],
    );
    assert_eq!(code(&short), 5);
    let added = cli(
        dir.path(),
        &[
            "user",
            "add",
            "--authority",
            "gemeinde-musterstadt",
            "--login",
            "a.b",
            "--role",
            "auditor",
        ],
        &[("FIELDKIT_PASSWORD", "a long enough passphrase")],
    );
    assert_eq!(
        code(&added),
        0,
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let users = cli(dir.path(), &["--json", "user", "list"], &[]);
    let text = String::from_utf8_lossy(&users.stdout);
    assert!(
        text.contains("\"a.b\"") && !text.contains("argon2"),
        "no hashes printed"
    );
    let kit_id = report["kit"]["kit_id"].as_str().expect("kit id");
    let revoke = cli(
        dir.path(),
        &["kit", "revoke", kit_id, "--reason", "Test"],
        &[],
    );
    assert_eq!(code(&revoke), 0);
    let kits = cli(dir.path(), &["--json", "kit", "list"], &[]);
    let kits: serde_json::Value = serde_json::from_slice(&kits.stdout).expect("JSON");
    assert!(kits
        .as_array()
        .expect("list")
        .iter()
        .any(|k| k["kit_id"] == kit_id && k["state"] == "revoked"));
    let usage = cli(dir.path(), &["kit", "frobnicate"], &[]);
    assert_eq!(code(&usage), 2, "usage errors");
    let pg_without_key = cli(
        dir.path(),
        &[
            "--database",
            "postgres://nobody@127.0.0.1:1/x",
            "authority",
            "list",
        ],
        &[],
    );
    assert_eq!(
        code(&pg_without_key),
        6,
        "PostgreSQL needs a configured master key"
    );
    let wrong_key = cli(
        dir.path(),
        &[
            "kit",
            "provision",
            "--authority",
            "gemeinde-musterstadt",
            "--name",
            "K",
            "--backend-url",
            "http://127.0.0.1:1",
        ],
        &[(
            "FIELDKIT_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )],
    );
    assert_eq!(
        code(&wrong_key),
        6,
        "a wrong master key cannot open the server key"
    );
}

fn self_signed(dir: &Path) -> std::path::PathBuf {
    let cert = rcgen::generate_simple_self_signed(vec!["fieldkit.example".into()]).expect("cert");
    let path = dir.join("cert.pem");
    std::fs::write(&path, cert.cert.pem()).expect("write");
    path
}

#[tokio::test]
async fn provisioning_pins_the_tls_certificate_and_refuses_unpinned_or_plain_remote_urls() {
    let backend = Backend::new(&Db::Sqlite).await;
    let cert = self_signed(backend.dir.path());
    let out = backend.dir.path().join("p.json");
    let args = |url: &'static str, tls: Option<&'static Path>| ProvisionArgs {
        authority: "gemeinde-musterstadt",
        name: "Koffer 1",
        backend_url: url,
        tls_cert: tls,
        insecure_allow_plain_http: false,
        code_ttl: chrono::Duration::hours(1),
        out: Out::Nowhere,
    };
    let cert_static: &'static Path = Box::leak(cert.clone().into_boxed_path());
    let pinned = provision(
        &backend.admin,
        ProvisionArgs {
            out: Out::File(out.clone()),
            ..args("https://fieldkit.example/", Some(cert_static))
        },
    )
    .await
    .expect("provisioned");
    let file: ProvisioningFile =
        serde_json::from_slice(&std::fs::read(&out).expect("written")).expect("parses");
    assert_eq!(file, pinned.provisioning);
    assert_eq!(file.backend_url, "https://fieldkit.example");
    assert_eq!(file.server_keys, backend.app.server_keys);
    let pin = file.tls_pin.expect("a pin");
    assert_eq!(pin.spki_sha256.len(), 64);
    assert_eq!(pin, fieldkit_backend::tls::tls_pin(&cert).expect("pin"));
    assert!(!String::from_utf8_lossy(&std::fs::read(&out).expect("read")).contains(&pinned.code));
    for (url, tls) in [
        ("https://fieldkit.example", None),
        ("http://10.1.2.3:8080", None),
    ] {
        assert!(
            provision(&backend.admin, args(url, tls)).await.is_err(),
            "{url}"
        );
    }
    let stored = backend.store().kits().await.expect("kits");
    assert_eq!(stored.len(), 1, "refused provisioning stores nothing");
}

#[tokio::test]
async fn a_published_version_is_never_replaced_by_other_content() {
    let backend = Backend::new(&Db::Sqlite).await;
    let current = backend
        .store()
        .current_catalog()
        .await
        .expect("store")
        .expect("published by the test backend");
    let changed = PublishedCatalog {
        envelope_json: b"{}".to_vec(),
        ..current.clone()
    };
    assert!(backend.store().publish_catalog(&changed).await.is_err());
    let republished = fieldkit_backend::admin::catalog::publish(
        &backend.admin,
        Path::new(fieldkit_catalog::CATALOG_DIR),
    )
    .await
    .expect("same content");
    assert_eq!(republished.outcome, "unchanged");
    fieldkit_backend::admin::authority::rotate_key(&backend.admin, "gemeinde-musterstadt")
        .await
        .expect("rotated");
    let refused = fieldkit_backend::admin::catalog::publish(
        &backend.admin,
        Path::new(fieldkit_catalog::CATALOG_DIR),
    )
    .await
    .expect_err("a new key needs a new catalog version");
    assert_eq!(refused.exit_code(), 4);
}

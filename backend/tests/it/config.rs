//! The configuration: the example file parses and documents every field, layers apply
//! in the order defaults → file → environment → flags, and unsafe combinations are
//! refused.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use clap::Parser as _;
use fieldkit_backend::blobs::BlobConfig;
use fieldkit_backend::config::{Config, ConfigLayer, DatabaseUrl, Limits, LogFormat};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fieldkit-backend.example.toml");

#[derive(Debug, clap::Parser)]
struct Flags {
    #[command(flatten)]
    layer: ConfigLayer,
}

fn flags(args: &[&str]) -> ConfigLayer {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    Flags::try_parse_from(all).expect("flags parse").layer
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn the_example_config_file_parses_and_names_every_field() {
    let layer = ConfigLayer::from_file(Path::new(EXAMPLE)).expect("the example parses");
    assert_eq!(
        layer.public_base_url.as_deref(),
        Some("https://fieldkit.musterstadt.example")
    );
    let text = std::fs::read_to_string(EXAMPLE).expect("readable");
    for key in [
        "listen",
        "ops_listen",
        "data_dir",
        "database_url",
        "public_base_url",
        "tls_cert",
        "tls_key",
        "insecure_allow_plain_http",
        "master_key_file",
        "allow_master_key_in_data_dir",
        "enrolment_code_ttl_hours",
        "shutdown_grace_seconds",
        "log_format",
        "database_pool_size",
        "header_read_timeout_seconds",
        "body_idle_timeout_seconds",
        "request_timeout_seconds",
        "max_connections",
        "max_requests_per_kit",
        "quota_records_per_day",
        "quota_pending_upload_mib",
        // [blobs]
        "kind",
        "endpoint",
        "bucket",
        "region",
        "path_style",
        "prefix",
        "allow_http",
        "credentials_file",
        "timeout_seconds",
        "connect_timeout_seconds",
    ] {
        assert!(
            text.contains(&format!("{key} = ")),
            "the example documents {key}"
        );
    }
    let config = Config::resolve(layer.over(ConfigLayer::defaults())).expect("valid");
    assert_eq!(
        config.listen,
        "127.0.0.1:8080".parse::<SocketAddr>().expect("addr")
    );
    assert_eq!(config.log_format, LogFormat::Json);
    assert!(config.database.is_embedded());
    assert_eq!(
        config.limits,
        Limits::default(),
        "the example shows the default limits"
    );
    assert!(
        matches!(&config.blobs, BlobConfig::Filesystem(dir) if dir == Path::new("fieldkit-data")),
        "attachments in the data folder by default"
    );
}

#[test]
fn limits_come_from_every_layer_and_zero_is_refused() {
    let env: HashMap<&str, &str> = [("FIELDKIT_MAX_CONNECTIONS", "7")].into();
    let layer = ConfigLayer::layered(
        None,
        |k| env.get(k).map(|v| (*v).to_owned()),
        flags(&[
            "--header-read-timeout-seconds",
            "2",
            "--max-requests-per-kit",
            "1",
        ]),
    )
    .expect("layers");
    let limits = Config::resolve(layer).expect("valid").limits;
    assert_eq!(limits.header_read_timeout, Duration::from_secs(2));
    assert_eq!(limits.max_connections, 7);
    assert_eq!(limits.max_requests_per_kit, 1);
    assert_eq!(limits.request_timeout, Limits::default().request_timeout);
    for zero in [
        "--header-read-timeout-seconds",
        "--body-idle-timeout-seconds",
        "--request-timeout-seconds",
        "--max-connections",
        "--max-requests-per-kit",
        "--quota-records-per-day",
        "--quota-pending-upload-mib",
    ] {
        let layer = flags(&[zero, "0"]).over(ConfigLayer::defaults());
        let err = Config::resolve(layer).expect_err("zero is refused");
        assert!(err.to_string().contains("at least 1"), "{zero}: {err}");
    }
    let same = flags(&[
        "--listen",
        "127.0.0.1:7000",
        "--ops-listen",
        "127.0.0.1:7000",
    ])
    .over(ConfigLayer::defaults());
    let err = Config::resolve(same).expect_err("one listener for both is refused");
    assert!(err.to_string().contains("ops_listen"), "{err}");
    let bad: HashMap<&str, &str> = [("FIELDKIT_REQUEST_TIMEOUT_SECONDS", "soon")].into();
    assert!(ConfigLayer::from_env(|k| bad.get(k).map(|v| (*v).to_owned())).is_err());
}

#[test]
fn flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9000\"\ndata_dir = \"/from/file\"\nshutdown_grace_seconds = 7\n",
    )
    .expect("write");
    let env: HashMap<&str, &str> = [
        ("FIELDKIT_DATA_DIR", "/from/env"),
        ("FIELDKIT_DATABASE_URL", "postgres://u:pw@db/fk"),
    ]
    .into();
    let layer = ConfigLayer::layered(
        Some(&file),
        |k| env.get(k).map(|v| (*v).to_owned()),
        flags(&["--database", "sqlite:///from/flag.sqlite3"]),
    )
    .expect("layers");
    let config = Config::resolve(layer).expect("valid");
    assert_eq!(config.listen.port(), 9000, "file over defaults");
    assert_eq!(
        config.data_dir,
        Path::new("/from/env"),
        "environment over file"
    );
    assert_eq!(
        config.database,
        DatabaseUrl::Sqlite("/from/flag.sqlite3".into()),
        "flags over environment"
    );
    assert_eq!(config.shutdown_grace.as_secs(), 7);
    assert_eq!(
        config.enrolment_code_ttl,
        chrono::Duration::hours(72),
        "default"
    );
    assert_eq!(config.public_base_url, "http://127.0.0.1:9000");
}

#[test]
fn plain_http_is_refused_off_loopback_unless_explicitly_allowed() {
    let public = flags(&["--listen", "0.0.0.0:8080"]);
    let err = Config::resolve(public.clone().over(ConfigLayer::defaults())).expect_err("refused");
    assert!(err.to_string().contains("plain HTTP"), "{err}");
    let allowed = flags(&["--listen", "0.0.0.0:8080", "--insecure-allow-plain-http"]);
    assert!(Config::resolve(allowed.over(ConfigLayer::defaults())).is_ok());
    let tls = flags(&[
        "--listen",
        "0.0.0.0:8443",
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
    ]);
    let config = Config::resolve(tls.over(ConfigLayer::defaults())).expect("tls is fine");
    assert_eq!(config.public_base_url, "https://0.0.0.0:8443");
    let half = flags(&["--tls-cert", "c.pem"]);
    assert!(Config::resolve(half.over(ConfigLayer::defaults())).is_err());
}

#[test]
fn unknown_keys_and_bad_values_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "listn = \"127.0.0.1:1\"\n").expect("write");
    assert!(
        ConfigLayer::from_file(&file).is_err(),
        "a typo is not ignored"
    );
    let bad = ConfigLayer::from_env(|k| (k == "FIELDKIT_LISTEN").then(|| "nowhere".to_owned()));
    assert!(bad.is_err());
    assert!(ConfigLayer::layered(None, no_env, ConfigLayer::default()).is_ok());
    assert!(DatabaseUrl::parse("mysql://x").is_err());
}

#[test]
fn a_master_key_inside_the_data_folder_is_refused_unless_a_demo_asks_for_it() {
    use fieldkit_backend::config::check_master_key_place;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let inside = data.join("master.key");
    std::fs::write(&inside, "x").expect("write");
    let err = check_master_key_place(&inside, &data, false).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.starts_with("Der Hauptschlüssel"),
        "German first: {text}"
    );
    assert!(
        text.contains("/etc/fieldkit/master.key"),
        "says where: {text}"
    );
    // The same place reached through `..` is still inside.
    let sneaky = data.join("sub/../master.key");
    std::fs::create_dir_all(data.join("sub")).expect("sub");
    assert!(check_master_key_place(&sneaky, &data, false).is_err());
    assert!(
        check_master_key_place(&inside, &data, true).is_ok(),
        "a demo may"
    );
    let outside = dir.path().join("master.key");
    assert!(check_master_key_place(&outside, &data, false).is_ok());
    let layer = flags(&["--allow-master-key-in-data-dir"]).over(ConfigLayer::defaults());
    assert!(
        Config::resolve(layer)
            .expect("valid")
            .allow_master_key_in_data_dir
    );
    assert!(
        !Config::resolve(ConfigLayer::defaults())
            .expect("valid")
            .allow_master_key_in_data_dir
    );
}

#[test]
fn serve_refuses_a_master_key_in_the_data_folder_and_says_where_to_keep_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let serve = |extra: &[(&str, &str)]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fieldkit-backend"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--ops-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(&data)
            .env_remove("FIELDKIT_MASTER_KEY")
            .env_remove("FIELDKIT_ALLOW_MASTER_KEY_IN_DATA_DIR")
            .envs(extra.iter().copied())
            .output()
            .expect("serve runs")
    };
    // A key file inside the data folder: refused as configuration (exit 5).
    let key_path = data.join("master.key");
    std::fs::write(&key_path, "not even read").expect("write");
    let key = key_path.to_str().expect("utf-8 path");
    let out = serve(&[("FIELDKIT_MASTER_KEY_FILE", key)]);
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{said}");
    assert!(said.contains("Hauptschlüssel"), "{said}");
    assert!(said.contains("/etc/fieldkit/master.key"), "{said}");
    // No key at all for the embedded store: no longer generated into the folder (6).
    std::fs::remove_file(&key_path).expect("remove");
    let out = serve(&[]);
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{said}");
    assert!(said.contains("outside the data folder"), "{said}");
    assert!(!key_path.exists(), "nothing was generated");
}

#[test]
fn blobs_come_from_the_file_and_the_environment_and_secrets_only_from_outside_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "[blobs]\nkind = \"s3\"\nendpoint = \"https://s3.internal\"\nbucket = \"from-file\"\n",
    )
    .expect("write");
    let env: HashMap<&str, &str> = [
        ("FIELDKIT_BLOBS_BUCKET", "from-env"),
        ("FIELDKIT_BLOBS_ACCESS_KEY_ID", "AKID"),
        ("FIELDKIT_BLOBS_SECRET_ACCESS_KEY", "VERYSECRET"),
    ]
    .into();
    let layer = ConfigLayer::layered(
        Some(&file),
        |k| env.get(k).map(|v| (*v).to_owned()),
        ConfigLayer::default(),
    )
    .expect("layers");
    let config = Config::resolve(layer).expect("valid");
    let BlobConfig::S3(s3) = &config.blobs else {
        panic!("s3 expected: {:?}", config.blobs);
    };
    assert_eq!(s3.bucket, "from-env", "environment over file");
    assert_eq!(s3.endpoint.as_deref(), Some("https://s3.internal"));
    assert!(s3.path_style, "path style by default");
    assert!(!format!("{config:?}").contains("VERYSECRET"));
    // Without credentials an S3 store is refused at start, not at the first upload.
    let no_secret =
        ConfigLayer::layered(Some(&file), no_env, ConfigLayer::default()).expect("layers");
    let err = Config::resolve(no_secret).expect_err("no credentials");
    assert!(err.to_string().contains("credentials"), "{err}");
    // A secret in the file is an unknown key, not a quietly accepted one.
    std::fs::write(&file, "[blobs]\nsecret_access_key = \"x\"\n").expect("write");
    assert!(ConfigLayer::from_file(&file).is_err());
}

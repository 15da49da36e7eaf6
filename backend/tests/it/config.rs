//! The configuration: the example file parses and documents every field, layers apply
//! in the order defaults → file → environment → flags, and unsafe combinations are
//! refused.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use clap::Parser as _;
use fieldkit_backend::config::{Config, ConfigLayer, DatabaseUrl, LogFormat};

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
        "data_dir",
        "database_url",
        "public_base_url",
        "tls_cert",
        "tls_key",
        "insecure_allow_plain_http",
        "master_key_file",
        "enrolment_code_ttl_hours",
        "shutdown_grace_seconds",
        "log_format",
        "database_pool_size",
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

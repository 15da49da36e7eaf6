//! What flows back to the kit: the back office's decisions and comments, new catalogs,
//! the wipe order for a revoked kit; and the clock: a kit whose clock is off by ten
//! minutes is corrected, warned, and the receipt's time is the one that counts.

use fieldkit_e2e::harness::scenario::Scenario;
use sync_protocol::api::CaseStatus;

fn events(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "sync failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn report(events: &[serde_json::Value]) -> serde_json::Value {
    events.last().expect("report")["report"].clone()
}

#[test]
fn decisions_and_comments_flow_back_once() {
    let s = Scenario::new();
    let ids = s.kit.capture(2, 1_000);
    events(&s.kit.sync(None, &[]));
    let comment = "Wohnungsgeberbestätigung fehlt.";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = fieldkit_backend::storage::open(&s.database(), 1)
            .await
            .expect("store");
        let decided = store
            .set_case_status(
                &ids[0].parse().expect("record id"),
                CaseStatus::NeedsInformation,
                Some(comment),
                "reviewer@musterstadt",
                chrono::Utc::now(),
            )
            .await
            .expect("status set");
        assert!(decided);
    });
    let got = events(&s.kit.sync(None, &[]));
    let status: Vec<_> = got.iter().filter(|e| e["event"] == "case_status").collect();
    assert_eq!(status.len(), 1, "{got:?}");
    assert_eq!(status[0]["status"], "needs_information");
    assert_eq!(status[0]["comment"], comment);
    assert!(status[0]["case_number"].is_string(), "shown by case number");
    let session = s.kit.session();
    let record = session.record(&ids[0]).expect("record");
    assert_eq!(record.case_status.as_deref(), Some("needs_information"));
    assert_eq!(record.case_comment.as_deref(), Some(comment));
    drop(session);
    // Again: nothing new, and the history holds the decision once.
    let again = events(&s.kit.sync(None, &[]));
    assert!(again.iter().all(|e| e["event"] != "case_status"));
    assert_eq!(
        s.kit
            .session()
            .case_history(&ids[0])
            .expect("history")
            .len(),
        1
    );
}

#[test]
fn a_newer_catalog_published_at_the_backend_is_installed_by_sync() {
    let s = Scenario::new();
    let catalog = s.dir.path().join("catalog-next");
    copy_dir(
        std::path::Path::new(fieldkit_catalog::CATALOG_DIR),
        &catalog,
    );
    let meta_path = catalog.join("catalog.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).expect("catalog.json"))
            .expect("json");
    meta["version"] = "2099.1.1".into();
    std::fs::write(&meta_path, meta.to_string()).expect("write");
    s.backend
        .admin(&["catalog", "publish", catalog.to_str().expect("utf-8")]);
    let got = events(&s.kit.sync(None, &[]));
    assert!(got
        .iter()
        .any(|e| e["event"] == "catalog_installed" && e["version"] == "2099.1.1"));
    assert_eq!(report(&got)["catalog_installed"], "2099.1.1");
    assert_eq!(
        s.kit
            .session()
            .installed_version()
            .expect("version")
            .as_deref(),
        Some("2099.1.1")
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn a_revoked_kit_wipes_everything_including_undelivered_records() {
    let s = Scenario::new();
    s.kit.capture(1, 1_000);
    let kit_id = s
        .kit
        .session()
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .kit_id
        .to_string();
    // Wiping at once (the kit never reported its outbox: 0 confirmed); a drained
    // revocation delivers first (`revocation.rs`).
    s.backend.admin(&[
        "kit",
        "revoke",
        &kit_id,
        "--reason",
        "Gerät als verloren gemeldet",
        "--mode",
        "wipe-now",
        "--confirm-undelivered",
        "0",
    ]);
    let got = events(&s.kit.sync(None, &[]));
    assert!(got
        .iter()
        .any(|e| e["event"] == "wiped" && e["reason"] == "Gerät als verloren gemeldet"));
    assert_eq!(report(&got)["wiped"], true);
    assert!(!s.kit.home.join("keyslots.json").exists(), "keys gone");
    assert!(!s.kit.home.join("kit.db").exists(), "store gone");
    let leftover: Vec<_> = std::fs::read_dir(s.kit.home.join("attachments"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(leftover.is_empty(), "attachment files gone");
    let status = s.kit.cli().arg("status").output().expect("runs");
    assert!(!status.status.success(), "the wiped kit cannot be opened");
}

#[test]
fn a_kit_clock_ten_minutes_off_is_corrected_warned_and_the_receipt_time_counts() {
    let mut s = Scenario::new();
    // The backend's clock runs 10 minutes ahead of the kit's.
    s.backend.restart_with_clock_offset(600);
    let ids = s.kit.capture(1, 1_000);
    let got = events(&s.kit.sync(None, &[]));
    let warning = got
        .iter()
        .find(|e| e["event"] == "clock_skew")
        .expect("the clerk is warned");
    let skew = warning["skew_secs"].as_i64().expect("skew");
    assert!(
        (-620..=-580).contains(&skew),
        "kit minus server ≈ −600 s, got {skew}"
    );
    assert_eq!(report(&got)["delivered"], 1, "delivered despite the skew");
    let session = s.kit.session();
    let record = session.record(&ids[0]).expect("record");
    let finalized = chrono::DateTime::parse_from_rfc3339(&record.finalized_at).expect("time");
    let received =
        chrono::DateTime::parse_from_rfc3339(record.received_at.as_deref().expect("received_at"))
            .expect("time");
    assert!(
        (received - finalized).num_seconds() > 500,
        "received_at is the server's time: {finalized} → {received}"
    );
    let status = session.status().expect("status");
    assert_eq!(status.clock_skew_secs, Some(skew));
}

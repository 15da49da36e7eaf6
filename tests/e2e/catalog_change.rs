//! Captures survive catalog changes (issue 13), through the CLIs and HTTP only: two
//! Anmeldungen captured offline on catalog N, then IT publishes N+1 without the service
//! (`fieldkit-backend admin catalog publish`); the kit syncs and both land in an inbox,
//! none rejected, ending in the exactly-once check.

use std::path::Path;

use fieldkit_e2e::harness::copy_dir;
use fieldkit_e2e::harness::scenario::Scenario;

#[test]
fn two_captures_on_catalog_n_land_after_n_plus_1_retires_the_service() {
    let s = Scenario::new();
    let ids = s.kit.capture(2, 1_000);

    let next = s.dir.path().join("catalog-next");
    copy_dir(Path::new(fieldkit_catalog::CATALOG_DIR), &next);
    std::fs::remove_file(next.join("services/anmeldung.json")).expect("retire the service");
    let meta_path = next.join("catalog.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).expect("meta")).expect("json");
    meta["version"] = "2099.1.1".into();
    std::fs::write(&meta_path, serde_json::to_vec(&meta).expect("json")).expect("write");
    s.backend
        .admin(&["catalog", "publish", next.to_str().expect("utf-8 path")]);

    let out = s.kit.sync(None, &[]);
    assert!(
        out.status.success(),
        "sync: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .expect("report");
    assert_eq!(report["report"]["rejected"], 0, "{report}");
    let settled = s.check();
    assert_eq!(settled.records, 2);
    let session = s.kit.session();
    for id in &ids {
        let record = session.record(id).expect("record");
        assert!(record.rejection.is_none(), "{id} was not rejected");
    }
}

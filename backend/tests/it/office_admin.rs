//! Back office, IT administration — the kits page: provisioning shows a one-time code
//! that really enrols a kit exactly once, a QR code that decodes (from the served SVG)
//! to the provisioning file offered for download, revocation needs a confirmation and
//! a reason and makes the kit's next API call fail; wrong input writes nothing; every
//! action is in the admin audit trail with the acting person. Also: which role sees
//! which admin pages in the navigation. The helpers here serve the other
//! `office_admin_*` tests too.

use axum::http::StatusCode;
use base64::Engine as _;
use fieldkit_backend::state::ProvisioningSettings;
use fieldkit_backend::storage::{
    AdminAction, AuditEntry, AuditQuery, AuditSource, KitStatus, Role,
};
use sha2::{Digest as _, Sha256};
use sync_protocol::api::{EnrolResponse, Provisioning};
use sync_protocol::ids::AuthorityId;

use crate::support::office::{add_user, Browser};
use crate::support::{databases, Backend, Resp, TestKit};

pub const TOWN: &str = "gemeinde-musterstadt";
pub const COUNTY: &str = "landkreis-musterkreis";

/// The text between `start` and the next `end`.
pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let at = text.find(start)? + start.len();
    let rest = &text[at..];
    Some(&rest[..rest.find(end)?])
}

/// Undoes askama's HTML escaping.
pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#43;", "+")
        .replace("&#61;", "=")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// Decodes the QR code of a served SVG: reads its modules back from the path's
/// `M{x} {y}h{n}v1h-{n}z` runs, draws them 4 pixels per module and lets `rqrr` find
/// and decode the code.
pub fn qr_bytes(svg: &str) -> Vec<u8> {
    let view_box = between(svg, "viewBox=\"0 0 ", "\"").expect("a viewBox");
    let side: usize = view_box
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a square side");
    let mut dark = vec![false; side * side];
    let path = between(svg, " d=\"", "\"").expect("a path");
    for run in path.split('M').filter(|r| !r.is_empty()) {
        let (x, rest) = run.split_once(' ').expect("x y");
        let (y, rest) = rest.split_once('h').expect("y h");
        let (n, _) = rest.split_once('v').expect("n v");
        let (x, y, n): (usize, usize, usize) = (
            x.parse().expect("x"),
            y.parse().expect("y"),
            n.parse().expect("n"),
        );
        for i in x..x + n {
            dark[y * side + i] = true;
        }
    }
    let scale = 4;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side * scale, side * scale, |x, y| {
            if dark[(y / scale) * side + x / scale] {
                0
            } else {
                255
            }
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the SVG");
    let mut bytes = Vec::new();
    grids[0].decode_to(&mut bytes).expect("the QR code decodes");
    bytes
}

/// The admin events of `authority`'s trail, newest first.
pub async fn admin_events(backend: &Backend, authority: &str) -> Vec<AuditEntry> {
    backend
        .store()
        .audit_page(&AuditQuery {
            authority_id: AuthorityId::parse(authority).expect("id"),
            sources: vec![AuditSource::Admin],
            actor: None,
            from: None,
            before: None,
            after: None,
            limit: 1000,
        })
        .await
        .expect("audit page")
        .entries
}

/// A browser signed in as a new user of `authority` with `role`.
pub async fn as_role(backend: &Backend, authority: &str, login: &str, role: Role) -> Browser {
    let pw = add_user(backend, authority, login, role).await;
    Browser::signed_in(backend, login, &pw).await
}

/// Gives the backend the TLS certificate the page pins into provisioning files (as
/// `serve` does from `tls_cert`); returns the certificate's DER.
fn with_tls_cert(backend: &Backend) -> Vec<u8> {
    let cert = rcgen::generate_simple_self_signed(vec!["fieldkit.test".into()]).expect("cert");
    let path = backend.dir.path().join("tls.pem");
    std::fs::write(&path, cert.cert.pem()).expect("cert written");
    backend
        .app
        .provisioning
        .set(ProvisioningSettings {
            tls_cert: Some(path),
            code_ttl: chrono::Duration::hours(2),
        })
        .expect("set once");
    cert.cert.der().to_vec()
}

fn assert_refused(resp: &Resp, message: &str) {
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text()
    );
    assert!(
        resp.text().contains(message),
        "{message} in {}",
        resp.text()
    );
}

#[tokio::test]
async fn a_provisioned_code_enrols_once_and_the_qr_code_holds_the_provisioning_file() {
    for db in
        databases("a_provisioned_code_enrols_once_and_the_qr_code_holds_the_provisioning_file")
    {
        let backend = Backend::new(&db).await;
        let der = with_tls_cert(&backend);
        let mut it = as_role(&backend, TOWN, "it.ops", Role::ItOperator).await;
        let page = it.get(&backend, "/office/admin/kits").await;
        assert_eq!(page.status, StatusCode::OK, "{}", db.name());
        assert!(page.text().contains("Neuen Koffer bereitstellen"));
        let resp = it
            .submit(
                &backend,
                "/office/admin/kits",
                &[("name", "Bürgerkoffer 7")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        let text = resp.text();
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        let code = between(&text, "id=\"one-time-code\">", "<")
            .expect("the code")
            .to_owned();
        let kit_id = between(&text, "<dt>Koffer-ID</dt><dd><code>", "<").expect("kit id");

        // The download is the file the CLI writes; the QR code carries the same file.
        let href = unescape(
            between(&text, "href=\"data:application/json;base64,", "\"").expect("download"),
        );
        let file = base64::engine::general_purpose::STANDARD
            .decode(href)
            .expect("base64");
        let provisioning: Provisioning =
            serde_json::from_slice(&file).expect("a provisioning file");
        let mut expected = serde_json::to_vec_pretty(&provisioning).expect("json");
        expected.push(b'\n');
        assert_eq!(file, expected, "formatted like the CLI's file");
        assert_eq!(provisioning.authority_id.as_str(), TOWN);
        assert_eq!(provisioning.kit_name, "Bürgerkoffer 7");
        assert_eq!(provisioning.backend_url, backend.base_url);
        assert_eq!(provisioning.server_keys, backend.app.server_keys);
        let pin = provisioning
            .tls_pin
            .as_ref()
            .expect("the certificate is pinned");
        assert_eq!(pin.cert_sha256, hex::encode(Sha256::digest(&der)));
        let svg = between(&text, "<svg ", "</svg>").expect("an inline SVG");
        let decoded = qr_bytes(svg);
        assert_eq!(decoded, serde_json::to_vec(&provisioning).expect("json"));
        assert!(
            !String::from_utf8_lossy(&decoded).contains(&code),
            "the QR code has no code"
        );

        // The code enrols the kit the page named — once.
        let mut kit = TestKit::new(&backend).await;
        let enrolled = backend.send(kit.enrol_request(&code)).await;
        assert_eq!(enrolled.status, StatusCode::CREATED, "{enrolled:?}");
        let answer: EnrolResponse = enrolled.json();
        assert_eq!(answer.kit_id.to_string(), kit_id);
        kit.enrolled(&answer);
        let second = TestKit::new(&backend).await;
        let again = backend.send(second.enrol_request(&code)).await;
        assert!(
            again.status.is_client_error(),
            "a used code: {}",
            again.status
        );
        let state = backend
            .send(kit.signed("GET", "/v1/state", Vec::new()))
            .await;
        assert_eq!(state.status, StatusCode::OK);

        let list = it.get(&backend, "/office/admin/kits").await.text();
        assert!(list.contains(kit_id) && list.contains("Aktiv"), "{list}");
        assert!(!list.contains(&code), "the code is shown only once");
        let events = admin_events(&backend, TOWN).await;
        let event = events
            .iter()
            .find(|e| e.action == AdminAction::KitProvisioned.as_str() && e.subject == kit_id)
            .expect("provisioning audited");
        assert_eq!(event.actor, "it.ops");
        assert_eq!(event.detail.as_deref(), Some("Bürgerkoffer 7"));
        assert!(events.iter().all(|e| !format!("{e:?}").contains(&code)));
    }
}

#[tokio::test]
async fn wrong_provisioning_input_writes_nothing() {
    for db in databases("wrong_provisioning_input_writes_nothing") {
        let backend = Backend::new(&db).await;
        let mut it = as_role(&backend, TOWN, "it.ops", Role::ItOperator).await;
        it.get(&backend, "/office/admin/kits").await;
        let kits_before = backend.store().kits().await.expect("kits").len();
        let events_before = admin_events(&backend, TOWN).await.len();
        // Plain HTTP to a non-loopback host and no certificate to pin: the server's
        // configuration does not allow it, and the page says so.
        let resp = it
            .submit(&backend, "/office/admin/kits", &[("name", "Koffer")])
            .await;
        assert_refused(
            &resp,
            "Mit dieser Serverkonfiguration kann hier kein Koffer",
        );
        with_tls_cert(&backend);
        let long = "x".repeat(129);
        for name in ["", "   ", long.as_str()] {
            let resp = it
                .submit(&backend, "/office/admin/kits", &[("name", name)])
                .await;
            assert_refused(
                &resp,
                "Bitte geben Sie dem Koffer einen Namen mit 1 bis 128 Zeichen.",
            );
        }
        // Without a CSRF token nothing happens either.
        let resp = it
            .post(&backend, "/office/admin/kits", &[("name", "Koffer")])
            .await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        assert_eq!(
            backend.store().kits().await.expect("kits").len(),
            kits_before
        );
        assert_eq!(admin_events(&backend, TOWN).await.len(), events_before);
    }
}

#[tokio::test]
async fn a_revocation_needs_a_confirmed_reason_and_refuses_the_kit_from_then_on() {
    for db in databases("a_revocation_needs_a_confirmed_reason_and_refuses_the_kit_from_then_on") {
        let backend = Backend::new(&db).await;
        let kit = backend.kit().await;
        let foreign = backend.kit_of(COUNTY).await;
        let mut it = as_role(&backend, TOWN, "it.ops", Role::ItOperator).await;
        let list = it.get(&backend, "/office/admin/kits").await.text();
        let path = format!("/office/admin/kits/{}/revoke", kit.kit_id);
        assert!(list.contains(&path), "a revoke link: {list}");
        assert!(
            !list.contains(&foreign.kit_id.to_string()),
            "no foreign kit listed"
        );

        let confirm = it.get(&backend, &path).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm
            .text()
            .contains("kann nicht rückgängig gemacht werden"));
        for reason in ["", "   ", &"x".repeat(501)] {
            let resp = it.submit(&backend, &path, &[("reason", reason)]).await;
            assert_refused(
                &resp,
                "Bitte geben Sie einen Grund an (höchstens 500 Zeichen).",
            );
        }
        let row = backend
            .store()
            .kit(&kit.kit_id)
            .await
            .expect("store")
            .expect("kit");
        assert_eq!(row.status, KitStatus::Active, "nothing written");
        let state = backend
            .send(kit.signed("GET", "/v1/state", Vec::new()))
            .await;
        assert_eq!(state.status, StatusCode::OK);

        // Wiping at once needs the undelivered count the kit last reported (never: 0).
        let unconfirmed = it
            .submit(
                &backend,
                &path,
                &[
                    ("reason", "Gerät als verloren gemeldet"),
                    ("mode", "wipe-now"),
                ],
            )
            .await;
        assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
        let done = it
            .submit(
                &backend,
                &path,
                &[
                    ("reason", "Gerät als verloren gemeldet"),
                    ("mode", "wipe-now"),
                    ("confirm", "0"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
        assert_eq!(done.header("location"), Some("/office/admin/kits"));
        let state = backend
            .send(kit.signed("GET", "/v1/state", Vec::new()))
            .await;
        assert_eq!(state.status, StatusCode::FORBIDDEN);
        assert_eq!(state.code(), "kit-revoked");
        let list = it.get(&backend, "/office/admin/kits").await.text();
        assert!(list.contains("Widerrufen") && list.contains("Gerät als verloren gemeldet"));
        let again = it
            .submit(&backend, &path, &[("reason", "noch einmal")])
            .await;
        assert_refused(&again, "Dieser Koffer ist bereits widerrufen.");
        let revocations: Vec<_> = admin_events(&backend, TOWN)
            .await
            .into_iter()
            .filter(|e| e.action == AdminAction::KitRevoked.as_str())
            .collect();
        assert_eq!(revocations.len(), 1);
        assert_eq!(revocations[0].actor, "it.ops");
        assert_eq!(revocations[0].subject, kit.kit_id.to_string());
        assert_eq!(
            revocations[0].detail.as_deref(),
            Some("wipe-now (0): Gerät als verloren gemeldet")
        );

        // Another authority's kit is not found, and stays active.
        let foreign_path = format!("/office/admin/kits/{}/revoke", foreign.kit_id);
        assert_eq!(
            it.get(&backend, &foreign_path).await.status,
            StatusCode::NOT_FOUND
        );
        let resp = it
            .submit(&backend, &foreign_path, &[("reason", "fremd")])
            .await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND);
        let state = backend
            .send(foreign.signed("GET", "/v1/state", Vec::new()))
            .await;
        assert_eq!(state.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn each_role_sees_the_admin_pages_it_may_use_and_is_refused_the_others() {
    let backend = Backend::new(&crate::support::Db::Sqlite).await;
    let pages = [
        "/office/admin/kits",
        "/office/admin/users",
        "/office/admin/authority",
        "/office/admin/catalog",
        "/office/admin/audit",
    ];
    for (login, role, allowed) in [
        ("r.berger", Role::Reviewer, &[][..]),
        ("it.ops", Role::ItOperator, &[0, 2, 3][..]),
        ("a.admin", Role::AuthorityAdmin, &[1, 3, 4][..]),
        ("p.pruef", Role::Auditor, &[4][..]),
    ] {
        let mut browser = as_role(&backend, TOWN, login, role).await;
        let home = browser.get(&backend, "/office").await.text();
        for (i, page) in pages.iter().enumerate() {
            let may = allowed.contains(&i);
            let link = format!("href=\"{page}\"");
            assert_eq!(home.contains(&link), may, "{login}: nav link {page}");
            let resp = browser.get(&backend, page).await;
            let expected = if may {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(resp.status, expected, "{login} {page}: {}", resp.text());
        }
    }
    let mut it = Browser::new();
    it.get(&backend, "/office/login").await;
    let resp = it.get(&backend, "/office/admin/kits").await;
    assert_eq!(resp.header("location"), Some("/office/login"));
}

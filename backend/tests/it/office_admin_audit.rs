//! Back office — the audit log viewer: an auditor reads the own authority's admin
//! events, case status changes and decryptions (never another authority's), newest
//! first, filtered by person, kind and date, in keyset pages; bad filters are a 400;
//! and `admin_events` refuses UPDATE and DELETE like the other trails.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use fieldkit_backend::storage::{AdminAction, AdminEvent, Role};
use sync_protocol::ids::AuthorityId;

use crate::office_admin::{as_role, between, unescape, COUNTY, TOWN};
use crate::office_cases::anmeldung_data;
use crate::records::push;
use crate::support::kit::Spec;
use crate::support::{databases, Backend};

fn rows(page: &str) -> Vec<String> {
    let Some(body) = between(page, "<tbody>", "</tbody>") else {
        return Vec::new();
    };
    body.split("<tr>").skip(1).map(str::to_owned).collect()
}

#[tokio::test]
async fn an_auditor_reads_the_own_trail_newest_first_with_filters() {
    for db in databases("an_auditor_reads_the_own_trail_newest_first_with_filters") {
        let backend = Backend::new(&db).await;
        let mut kit = backend.kit().await;
        let record = kit.next(&Spec::anmeldung().with_form_data(anmeldung_data()));
        push(&backend, &kit, &[&record]).await;
        let id = record.record.record_id.to_string();
        let mut reviewer = as_role(&backend, TOWN, "r.berger", Role::Reviewer).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let case = format!("/office/cases/{id}");
        assert_eq!(reviewer.get(&backend, &case).await.status, StatusCode::OK);
        // Distinct milliseconds, so that "newest first" is well defined.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let moved = reviewer
            .submit(
                &backend,
                &format!("{case}/status"),
                &[("status", "in_review")],
            )
            .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text());
        fieldkit_backend::admin::kit::revoke(
            &backend.admin,
            &backend.kit_of(COUNTY).await.kit_id.to_string(),
            "fremder Koffer",
        )
        .await
        .expect("revoked");

        let mut auditor = as_role(&backend, TOWN, "p.pruef", Role::Auditor).await;
        let page = auditor.get(&backend, "/office/admin/audit").await;
        assert_eq!(page.status, StatusCode::OK, "{}", db.name());
        let text = page.text();
        let all = rows(&text);
        assert!(!text.contains("fremder Koffer"), "no foreign event");
        let decryption = all
            .iter()
            .position(|r| {
                r.contains("Vorgang geöffnet") && r.contains(&id) && r.contains("r.berger")
            })
            .expect("the decryption");
        let status = all
            .iter()
            .position(|r| r.contains("In Bearbeitung") && r.contains(&id))
            .expect("the status change");
        let added = all
            .iter()
            .position(|r| r.contains("Benutzer angelegt") && r.contains("r.berger"))
            .expect("the reviewer's account, added by the CLI");
        assert!(status < decryption && decryption < added, "newest first");
        assert!(all
            .iter()
            .any(|r| r.contains("Katalog veröffentlicht") && r.contains("gesamte Installation")));

        let only = auditor
            .get(
                &backend,
                "/office/admin/audit?person=r.berger&kind=decryption",
            )
            .await
            .text();
        let only = rows(&only);
        assert_eq!(only.len(), 1, "{only:?}");
        assert!(only[0].contains(&id));
        let today = fieldkit_backend::office::local_time::today();
        let tomorrow = (today + Duration::days(1)).format("%Y-%m-%d");
        let future = auditor
            .get(&backend, &format!("/office/admin/audit?from={tomorrow}"))
            .await;
        assert!(future.text().contains("Keine Einträge für diesen Filter."));
        for bad in [
            "kind=everything",
            "from=2026-13-01",
            "from=2026-02-02&to=2026-02-01",
            "after=nonsense",
            "person=a&person=b",
            "sort=x",
        ] {
            let resp = auditor
                .get(&backend, &format!("/office/admin/audit?{bad}"))
                .await;
            assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}

#[tokio::test]
async fn the_trail_pages_by_keyset_without_gaps_or_repeats() {
    for db in databases("the_trail_pages_by_keyset_without_gaps_or_repeats") {
        let backend = Backend::new(&db).await;
        let town = AuthorityId::parse(TOWN).expect("id");
        let start = Utc::now() - Duration::hours(1);
        for i in 0..60 {
            // Pairs share a timestamp, so the order must also use the id.
            backend
                .store()
                .append_admin_event(&AdminEvent {
                    at: start + Duration::seconds(i / 2),
                    actor: "x.bulk".into(),
                    authority_id: Some(town.clone()),
                    action: AdminAction::KitReleased,
                    target: format!("target-{i:02}"),
                    detail: None,
                })
                .await
                .expect("appended");
        }
        let mut admin = as_role(&backend, TOWN, "a.admin", Role::AuthorityAdmin).await;
        let first = admin
            .get(&backend, "/office/admin/audit?person=x.bulk")
            .await
            .text();
        let first_rows = rows(&first);
        assert_eq!(first_rows.len(), 50, "{}", db.name());
        let before_next = &first[..first.find("\" rel=\"next\"").expect("a next link")];
        let next = unescape(&before_next[before_next.rfind("href=\"").expect("href") + 6..]);
        assert!(next.starts_with("/office/admin/audit?"), "{next}");
        let second = admin.get(&backend, &next).await.text();
        assert!(second.contains("Neueste Einträge"), "{next}: {second}");
        let second_rows = rows(&second);
        assert_eq!(second_rows.len(), 10);
        assert!(!second.contains("rel=\"next\""));
        let targets: Vec<String> = first_rows
            .iter()
            .chain(&second_rows)
            .map(|r| between(r, "<code>", "</code>").expect("subject").to_owned())
            .collect();
        let expected: Vec<String> = (0..60).rev().map(|i| format!("target-{i:02}")).collect();
        assert_eq!(targets, expected);
    }
}

#[tokio::test]
async fn admin_events_are_append_only_in_the_database() {
    for db in databases("admin_events_are_append_only_in_the_database") {
        let backend = Backend::new(&db).await;
        let refused = |what: &str, e: String| {
            assert!(e.contains("append-only"), "{} {what}: {e}", db.name());
        };
        match backend.pg_url() {
            None => {
                let conn = rusqlite::Connection::open(backend.dir.path().join("fieldkit.sqlite3"))
                    .expect("open the database file");
                let n: i64 = conn
                    .query_row("SELECT COUNT(*) FROM admin_events", [], |r| r.get(0))
                    .expect("count");
                assert!(n > 0, "the setup's authorities and catalog are audited");
                for sql in [
                    "UPDATE admin_events SET actor = 'x'",
                    "DELETE FROM admin_events",
                ] {
                    refused(sql, conn.execute(sql, []).expect_err(sql).to_string());
                }
            }
            Some(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(connection);
                let n: i64 = client
                    .query_one("SELECT COUNT(*) FROM admin_events", &[])
                    .await
                    .expect("count")
                    .get(0);
                assert!(n > 0, "the setup's authorities and catalog are audited");
                for sql in [
                    "UPDATE admin_events SET actor = 'x'",
                    "DELETE FROM admin_events",
                ] {
                    let e = client.execute(sql, &[]).await.expect_err(sql);
                    refused(sql, format!("{e} {e:?}"));
                }
            }
        }
    }
}

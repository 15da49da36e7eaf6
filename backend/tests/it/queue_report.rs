//! A kit's blocked queue seen at the backend (PROTOCOL.md §6.5 `blocked`), on SQLite and
//! PostgreSQL: what a kit reports with its outbox is kept with the time a stop was first
//! reported, listed by `admin kit list` and on the IT kits page, counted once per new
//! stop in `/metrics`, and cleared by the next report without it. Wrong reports are
//! refused with 400 and change nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fieldkit_backend::admin;
use fieldkit_backend::storage::Role;

use crate::office_admin::{as_role, TOWN};
use crate::support::{databases, Backend, Resp, TestKit};

async fn changes(backend: &Backend, kit: &TestKit, query: &str) -> Resp {
    backend
        .send(kit.signed_as("2", "GET", &format!("/v1/changes?{query}"), Vec::new()))
        .await
}

/// The kit as `admin kit list` shows it.
async fn listed(backend: &Backend, kit: &TestKit) -> admin::kit::KitInfo {
    admin::kit::list(&backend.admin)
        .await
        .expect("list")
        .into_iter()
        .find(|k| k.kit_id == kit.kit_id)
        .expect("the kit is listed")
}

/// `(reason, seq, since)` of the kit's listed stop.
async fn stop(backend: &Backend, kit: &TestKit) -> Option<(&'static str, u64, String)> {
    listed(backend, kit)
        .await
        .blocked
        .map(|b| (b.reason, b.seq, b.since))
}

async fn metrics(backend: &Backend) -> String {
    use tower::ServiceExt as _;
    let response = fieldkit_backend::api::ops_router(backend.app.clone())
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8(body.to_vec()).expect("utf-8")
}

fn blocked_count(metrics: &str, reason: &str) -> u64 {
    let prefix = format!("fieldkit_kit_queue_blocked_total{{reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

#[tokio::test]
async fn a_blocked_queue_is_kept_listed_counted_once_and_cleared_by_the_next_report() {
    for db in databases("a_blocked_queue_is_kept_listed_counted_once_and_cleared") {
        let backend = Backend::new(&db).await;
        let kit = backend.kit().await;
        let other = backend.kit().await;
        assert_eq!(listed(&backend, &kit).await.outbox, None, "never reported");

        let ok = changes(
            &backend,
            &kit,
            "after=0&outbox=3&blocked=cannot_resend&blocked_seq=2",
        );
        assert_eq!(ok.await.status, StatusCode::OK, "{}", db.name());
        let (reason, seq, since) = stop(&backend, &kit).await.expect("blocked");
        assert_eq!((reason, seq), ("cannot_resend", 2), "{}", db.name());
        assert_eq!(listed(&backend, &kit).await.outbox, Some(3));
        assert_eq!(
            stop(&backend, &other).await,
            None,
            "another kit is untouched"
        );
        assert_eq!(blocked_count(&metrics(&backend).await, "cannot_resend"), 1);

        // Reported again at the next sync: the same stop, since the first report, counted
        // once.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let again = changes(
            &backend,
            &kit,
            "outbox=4&blocked=cannot_resend&blocked_seq=2",
        );
        assert_eq!(again.await.status, StatusCode::OK);
        assert_eq!(
            stop(&backend, &kit).await,
            Some(("cannot_resend", 2, since.clone()))
        );
        assert_eq!(listed(&backend, &kit).await.outbox, Some(4));
        assert_eq!(blocked_count(&metrics(&backend).await, "cannot_resend"), 1);

        // Wrong reports: 400, and the stored report stays as it was.
        for bad in [
            "outbox=1&blocked=cannot_resend",
            "outbox=1&blocked_seq=2",
            "blocked=cannot_resend&blocked_seq=2",
            "outbox=1&blocked=purged&blocked_seq=2",
            "outbox=1&blocked=&blocked_seq=2",
            "outbox=1&blocked=CANNOT_RESEND&blocked_seq=2",
            "outbox=1&blocked=cannot_resend&blocked_seq=0",
            "outbox=1&blocked=cannot_resend&blocked_seq=9007199254740992",
            "outbox=1&blocked=cannot_resend&blocked_seq=02",
            "outbox=1&blocked=cannot_resend&blocked_seq=-2",
            "outbox=1&blocked=cannot_resend&blocked=chain_broken&blocked_seq=2",
            "outbox=1&blocked=cannot_resend&blocked_seq=2&blocked_seq=3",
            "outbox=1&blocked",
        ] {
            let resp = changes(&backend, &kit, bad).await;
            assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(resp.code(), "malformed-request", "{bad}");
        }
        assert_eq!(
            stop(&backend, &kit).await,
            Some(("cannot_resend", 2, since.clone())),
            "{}",
            db.name()
        );
        assert_eq!(listed(&backend, &kit).await.outbox, Some(4));

        // The IT operator of the kit's authority sees it on the kits page, marked, with
        // what to do, in both languages.
        let mut it = as_role(&backend, TOWN, "it.ops", Role::ItOperator).await;
        let page = it.get(&backend, "/office/admin/kits").await.text();
        assert!(
            page.contains(
                r#"<strong class="queue-blocked">Blockiert bei Nr. 2: im Koffer bereits bereinigt"#
            ),
            "{page}"
        );
        assert!(page.contains("Datei der zurückgehaltenen Datensätze importieren"));
        let page = it.get(&backend, "/office/admin/kits?lang=en").await.text();
        assert!(
            page.contains("Blocked at no. 2: already purged on the kit"),
            "{page}"
        );

        // Another stop (the kit imported nothing, a later record is refused now): a new
        // time and a new count.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let moved = changes(
            &backend,
            &kit,
            "outbox=4&blocked=resent_record_refused&blocked_seq=5",
        );
        assert_eq!(moved.await.status, StatusCode::OK);
        let (reason, seq, since_moved) = stop(&backend, &kit).await.expect("blocked");
        assert_eq!((reason, seq), ("resent_record_refused", 5));
        assert!(since_moved > since, "{since_moved} after {since}");
        let text = metrics(&backend).await;
        assert_eq!(blocked_count(&text, "resent_record_refused"), 1);
        assert_eq!(blocked_count(&text, "cannot_resend"), 1);
        assert!(!text.contains(&kit.kit_id.to_string()), "no ids in metrics");

        // Unblocked: the next report says so without `blocked`.
        let cleared = changes(&backend, &kit, "outbox=0");
        assert_eq!(cleared.await.status, StatusCode::OK);
        assert_eq!(stop(&backend, &kit).await, None, "{}", db.name());
        assert_eq!(listed(&backend, &kit).await.outbox, Some(0));
        let page = it.get(&backend, "/office/admin/kits?lang=de").await.text();
        assert!(!page.contains("queue-blocked"), "{page}");
        assert!(page.contains("alles übertragen"));

        // A request without any report (an older kit) leaves the last report alone.
        assert_eq!(
            changes(&backend, &kit, "after=0").await.status,
            StatusCode::OK
        );
        assert_eq!(listed(&backend, &kit).await.outbox, Some(0));
    }
}

//! The storage conformance suite: ONE set of checks that every [`Store`]
//! implementation must pass, run against SQLite always and against PostgreSQL when
//! `FIELDKIT_TEST_DATABASE_URL` is set (the model is atuin's
//! `atuin-server-database`). It drives the trait directly, without HTTP.

use std::sync::Arc;

use chrono::{Duration, Utc};
use ed25519_dalek::SigningKey;
use fieldkit_backend::ingest::{prepare, push_batch, BatchItem};
use fieldkit_backend::keys::{MasterKey, SealedAuthorityKey, SealedServerKey};
use fieldkit_backend::storage::{
    EnrolOutcome, KitStatus, NewAuthority, NewKit, PublishOutcome, PublishedCatalog, Role, Store,
    StoreError, UserRow,
};
use fieldkit_catalog::AuthorityKind;
use rand_core::OsRng;
use sync_protocol::api::{CaseStatus, ChangeKind, Outcome};
use sync_protocol::chain::verify_run;
use sync_protocol::ids::{Ars, AuthorityId, KitId};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;
use uuid::Uuid;

use crate::support::kit::{SealTo, Spec};
use crate::support::{databases, pg, Backend, Db};

fn id(s: &str) -> AuthorityId {
    AuthorityId::parse(s).expect("authority id")
}

async fn open(db: &Db, dir: &std::path::Path) -> (Arc<Store>, Option<pg::Schema>) {
    match db {
        Db::Sqlite => (
            Arc::new(
                Store::open_sqlite(&dir.join("conformance.sqlite3"))
                    .await
                    .expect("sqlite opens"),
            ),
            None,
        ),
        Db::Postgres(url) => {
            let schema = pg::Schema::create(url).await;
            let store = Store::open_postgres(&schema.url, 4)
                .await
                .expect("postgres opens");
            (Arc::new(store), Some(schema))
        }
    }
}

#[tokio::test]
async fn every_store_passes_the_conformance_suite() {
    for db in databases("conformance suite") {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, _schema) = open(&db, dir.path()).await;
        let master = MasterKey::generate();
        authorities_and_keys(store.as_ref(), &master).await;
        users(store.as_ref()).await;
        kits_and_enrolment(store.as_ref()).await;
        nonces(store.as_ref()).await;
        catalogs_and_changes(store.as_ref()).await;
        eprintln!("conformance suite passed on {}", db.name());
    }
}

#[tokio::test]
async fn opening_a_store_twice_migrates_once_and_keeps_the_data() {
    for db in databases("reopen") {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, schema) = open(&db, dir.path()).await;
        let master = MasterKey::generate();
        let candidate = SealedServerKey::generate(&master, Utc::now());
        let first = store.ensure_server_key(&candidate).await.expect("key");
        drop(store);
        let again: Arc<Store> = match (&db, &schema) {
            (Db::Sqlite, _) => Arc::new(
                Store::open_sqlite(&dir.path().join("conformance.sqlite3"))
                    .await
                    .expect("reopens"),
            ),
            (Db::Postgres(_), Some(s)) => {
                Arc::new(Store::open_postgres(&s.url, 2).await.expect("reopens"))
            }
            (Db::Postgres(_), None) => unreachable!("a schema exists for postgres"),
        };
        let other = SealedServerKey::generate(&master, Utc::now());
        let kept = again.ensure_server_key(&other).await.expect("key");
        assert_eq!(kept, first, "the first server key stays ({})", db.name());
        assert_eq!(
            kept.open(&master)
                .ok()
                .map(|k| k.verifying_key().to_bytes()),
            Some(first.public_key)
        );
    }
}

async fn authorities_and_keys(store: &Store, master: &MasterKey) {
    let new = NewAuthority {
        id: id("gemeinde-a"),
        name: "Gemeinde A".into(),
        ars: Some(Ars::parse("064320001001").expect("ars")),
        kind: AuthorityKind::Gemeinde,
    };
    let first = SealedAuthorityKey::generate(master, &new.id, Utc::now());
    store
        .add_authority(&new, &first, Utc::now())
        .await
        .expect("added");
    let again = SealedAuthorityKey::generate(master, &new.id, Utc::now());
    assert!(matches!(
        store.add_authority(&new, &again, Utc::now()).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let listed = store.authorities().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].authority, new);
    let second = SealedAuthorityKey::generate(master, &new.id, Utc::now());
    store
        .rotate_authority_key(&new.id, &second, Utc::now())
        .await
        .expect("rotated");
    let keys = store.authority_keys(&new.id).await.expect("keys");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].key, second, "the current key comes first");
    assert!(keys[0].retired_at.is_none());
    assert_eq!(keys[1].key, first);
    assert!(keys[1].retired_at.is_some(), "the old key is kept, retired");
    assert!(
        keys[1].key.open(master, &new.id).is_ok(),
        "a retired key still opens"
    );
    assert!(matches!(
        store
            .rotate_authority_key(&id("nobody"), &second, Utc::now())
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn users(store: &Store) {
    let user = UserRow {
        login: "r.berger".into(),
        authority_id: id("gemeinde-a"),
        role: Role::Reviewer,
        password_hash: fieldkit_backend::password::hash("correct horse battery").expect("hash"),
        disabled: false,
        created_at: Utc::now(),
        must_change_password: true,
    };
    store.add_user(&user).await.expect("added");
    assert!(matches!(
        store.add_user(&user).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let stranger = UserRow {
        login: "x".into(),
        authority_id: id("nowhere"),
        ..user.clone()
    };
    assert!(matches!(
        store.add_user(&stranger).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.disable_user("r.berger").await.expect("disable"));
    assert!(!store.disable_user("nobody").await.expect("disable"));
    let users = store.users().await.expect("users");
    assert_eq!(users.len(), 1);
    assert!(users[0].disabled);
    assert!(users[0].must_change_password);
    assert_eq!(users[0].role, Role::Reviewer);
    assert!(fieldkit_backend::password::verify(
        "correct horse battery",
        &users[0].password_hash
    ));
}

fn new_kit(code: &str, ttl: Duration) -> NewKit {
    NewKit {
        kit_id: KitId::from_uuid(Uuid::new_v4()),
        authority_id: id("gemeinde-a"),
        name: "Koffer".into(),
        code_hash: fieldkit_backend::codes::hash(code),
        code_expires_at: Utc::now() + ttl,
        created_at: Utc::now(),
    }
}

async fn kits_and_enrolment(store: &Store) {
    let kit = new_kit("AAAA-AAAA-AAAA", Duration::hours(1));
    store.provision_kit(&kit).await.expect("provisioned");
    let key = [1u8; 32];
    let hash = fieldkit_backend::codes::hash("aaaa aaaa aaaa");
    let enrolled = match store.enrol(&hash, &key, "host", Utc::now()).await {
        Ok(EnrolOutcome::Enrolled(k)) => k,
        other => panic!("expected an enrolment, got {other:?}"),
    };
    assert_eq!(enrolled.kit_id, kit.kit_id);
    assert_eq!(enrolled.status, KitStatus::Active);
    assert!(matches!(
        store.enrol(&hash, &key, "host", Utc::now()).await,
        Ok(EnrolOutcome::Repeated(k)) if k.kit_id == kit.kit_id
    ));
    assert_eq!(
        store.enrol(&hash, &[2; 32], "host", Utc::now()).await.ok(),
        Some(EnrolOutcome::CodeInvalid)
    );
    let expired = new_kit("BBBB-BBBB-BBBB", Duration::seconds(-1));
    store.provision_kit(&expired).await.expect("provisioned");
    assert_eq!(
        store
            .enrol(&expired.code_hash, &[3; 32], "host", Utc::now())
            .await
            .ok(),
        Some(EnrolOutcome::CodeInvalid)
    );
    let second = new_kit("CCCC-CCCC-CCCC", Duration::hours(1));
    store.provision_kit(&second).await.expect("provisioned");
    assert_eq!(
        store
            .enrol(&second.code_hash, &key, "host", Utc::now())
            .await
            .ok(),
        Some(EnrolOutcome::KeyConflict),
        "one public key, one kit"
    );
    assert_eq!(store.kits().await.expect("kits").len(), 3);
    assert!(store
        .revoke_kit(&kit.kit_id, "verloren", Utc::now())
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_kit(&KitId::from_uuid(Uuid::new_v4()), "x", Utc::now())
        .await
        .expect("revoke"));
    let row = store.kit(&kit.kit_id).await.expect("kit").expect("exists");
    assert_eq!(row.status, KitStatus::Revoked);
    assert_eq!(row.revoked_reason.as_deref(), Some("verloren"));
    let (changes, more) = store.changes(&kit.kit_id, 0, 10).await.expect("changes");
    assert!(!more);
    assert!(matches!(
        changes.last().map(|c| &c.change),
        Some(ChangeKind::Wipe { reason }) if reason == "verloren"
    ));
    assert!(!store.clear_quarantine(&kit.kit_id).await.expect("clear"));
}

async fn nonces(store: &Store) {
    let kit = store.kits().await.expect("kits")[0].kit_id;
    let nonce = "0123456789abcdef0123456789abcdef";
    assert!(!store.nonce_used(&kit, nonce).await.expect("check"));
    assert!(
        !store.nonce_used(&kit, nonce).await.expect("check"),
        "checking does not remember"
    );
    assert!(store
        .use_nonce(&kit, nonce, Utc::now())
        .await
        .expect("nonce"));
    assert!(store.nonce_used(&kit, nonce).await.expect("check"));
    assert!(
        !store
            .use_nonce(&kit, nonce, Utc::now())
            .await
            .expect("nonce"),
        "replay"
    );
    let other = KitId::from_uuid(Uuid::new_v4());
    assert!(
        store
            .use_nonce(&other, nonce, Utc::now())
            .await
            .expect("nonce"),
        "per kit"
    );
    let purged = store
        .purge_nonces(Utc::now() + Duration::seconds(1))
        .await
        .expect("purge");
    assert_eq!(purged, 2);
    assert!(store
        .use_nonce(&kit, nonce, Utc::now())
        .await
        .expect("nonce"));
    assert!(store
        .kit(&kit)
        .await
        .expect("kit")
        .is_some_and(|k| k.last_seen_at.is_some()));
}

async fn catalogs_and_changes(store: &Store) {
    let kit = store.kits().await.expect("kits")[0].kit_id;
    let (before, _) = store.changes(&kit, 0, 500).await.expect("changes");
    let catalog = PublishedCatalog {
        version: "2026.1.1".into(),
        envelope_json: b"{}".to_vec(),
        etag: "\"a\"".into(),
        // The stores keep milliseconds, as the wire does.
        published_at: chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis())
            .expect("now"),
    };
    assert_eq!(
        store.publish_catalog(&catalog).await.expect("publish"),
        PublishOutcome::Published
    );
    assert_eq!(
        store.publish_catalog(&catalog).await.expect("publish"),
        PublishOutcome::Unchanged
    );
    let altered = PublishedCatalog {
        envelope_json: b"{ }".to_vec(),
        ..catalog.clone()
    };
    assert!(matches!(
        store.publish_catalog(&altered).await,
        Err(StoreError::Conflict(_))
    ));
    let next = PublishedCatalog {
        version: "2026.1.2".into(),
        ..catalog.clone()
    };
    store.publish_catalog(&next).await.expect("publish");
    assert_eq!(
        store
            .current_catalog_version()
            .await
            .expect("version")
            .as_deref(),
        Some("2026.1.2")
    );
    assert_eq!(store.current_catalog().await.expect("current"), Some(next));
    let (after, _) = store.changes(&kit, 0, 500).await.expect("changes");
    assert_eq!(
        after.len(),
        before.len() + 2,
        "each publication is announced"
    );
    let (page, more) = store.changes(&kit, 0, 1).await.expect("page");
    assert!(more);
    let (rest, more) = store
        .changes(&kit, page[0].cursor, 500)
        .await
        .expect("rest");
    assert!(!more);
    assert_eq!(rest.len(), after.len() - 1);
    assert!(
        after.windows(2).all(|w| w[0].cursor < w[1].cursor),
        "cursors increase"
    );
}

/// The batch half of the suite needs a full backend (catalog, authorities, kits).
#[tokio::test]
async fn every_store_runs_batches_uploads_and_cases_alike() {
    for db in databases("batch conformance") {
        let backend = Backend::new(&db).await;
        let store = backend.store();
        let server_key = SigningKey::generate(&mut OsRng);
        let mut kit = backend.kit().await;
        let catalog = [std::sync::Arc::new(
            fieldkit_catalog::Catalog::from_dir(fieldkit_catalog::CATALOG_DIR).expect("catalog"),
        )];
        let records: Vec<SignedRecord> = vec![
            kit.next(&Spec::anmeldung().with_attachments(&[10, 20])),
            kit.next(&Spec {
                seal_to: SealTo::Stranger,
                ..Spec::anmeldung()
            }),
            kit.next(&Spec::driving_licence()),
        ];
        let (kit_id, kit_key) = (kit.kit_id, kit.key.verifying_key());
        let items = |records: &[SignedRecord]| -> Vec<BatchItem> {
            let envelopes: Vec<_> = records.iter().map(|r| r.envelope.clone()).collect();
            prepare(&envelopes, kit_id, &kit_key, &catalog)
        };
        let outcome = push_batch(store, &kit.kit_id, items(&records), &server_key, Utc::now())
            .await
            .expect("batch");
        let outcomes: Vec<Outcome> = outcome.results.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Accepted, Outcome::Rejected, Outcome::Accepted],
            "{}",
            db.name()
        );
        let trusted = [server_key.verifying_key()];
        let receipts: Vec<Receipt> = [0, 2]
            .iter()
            .map(|&i| {
                let r = Receipt::verify(
                    outcome.results[i].receipt.as_ref().expect("receipt"),
                    &trusted,
                )
                .expect("verifies");
                r.require_matches(&records[i]).expect("matches");
                r
            })
            .collect();
        assert!(receipts[1].log_position > receipts[0].log_position);
        let links: Vec<_> = records.iter().map(Into::into).collect();
        assert!(verify_run(None, &links).is_empty(), "all three are chained");
        assert_eq!(outcome.head.map(|h| h.hash), Some(records[2].hash));

        // The same batch again: the original outcomes, receipts byte for byte.
        let again = push_batch(store, &kit.kit_id, items(&records), &server_key, Utc::now())
            .await
            .expect("batch");
        assert_eq!(again.results[0].receipt, outcome.results[0].receipt);
        assert_eq!(again.results[1].problem, outcome.results[1].problem);
        assert_eq!(again.results[0].outcome, Outcome::Duplicate);

        // A fork quarantines, and a quarantined kit's batch is refused as a whole.
        let fork = kit.record_at(2, records[0].hash, &Spec::anmeldung());
        let forked = push_batch(store, &kit.kit_id, items(&[fork]), &server_key, Utc::now())
            .await
            .expect("batch");
        assert_eq!(forked.results[0].outcome, Outcome::Conflict);
        assert!(matches!(
            push_batch(store, &kit.kit_id, items(&records), &server_key, Utc::now()).await,
            Err(StoreError::KitNotActive(KitStatus::Quarantined))
        ));
        assert!(store.clear_quarantine(&kit.kit_id).await.expect("clear"));

        // Uploads: pending in state, compare-and-set offsets, completion, reset.
        let state = store.kit_state(&kit.kit_id, 1000).await.expect("state");
        assert_eq!(state.pending_uploads.len(), 2);
        assert_eq!(
            state.catalog_version.as_deref(),
            Some(catalog[0].meta.version.as_str())
        );
        let pending = &state.pending_uploads[0];
        let a = pending.attachment_id;
        let upload = store
            .upload(&kit.kit_id, &a, Some(&pending.record_id))
            .await
            .expect("upload")
            .expect("in the manifest");
        assert!(!upload.created);
        assert!(
            !store
                .advance_upload(&a, 0, 5, false, Utc::now())
                .await
                .expect("cas"),
            "not created"
        );
        store.create_upload(&a).await.expect("create");
        assert!(store
            .advance_upload(&a, 0, 5, false, Utc::now())
            .await
            .expect("cas"));
        assert!(
            !store
                .advance_upload(&a, 0, 9, false, Utc::now())
                .await
                .expect("cas"),
            "stale offset"
        );
        assert!(store.reset_upload(&a, false).await.expect("reset"));
        assert!(store
            .advance_upload(&a, 0, upload.length, true, Utc::now())
            .await
            .expect("cas"));
        assert!(
            !store.reset_upload(&a, true).await.expect("reset"),
            "complete stays"
        );
        let state = store.kit_state(&kit.kit_id, 1000).await.expect("state");
        assert_eq!(state.pending_uploads.len(), 1);
        let stranger = KitId::from_uuid(Uuid::new_v4());
        assert!(store
            .upload(&stranger, &a, None)
            .await
            .expect("upload")
            .is_none());

        // Cases: status with audit, and a change for the capturing kit.
        let case = records[0].record.record_id;
        assert!(store
            .set_case_status(
                &case,
                CaseStatus::NeedsInformation,
                Some("Nachweis fehlt"),
                "r.berger",
                Utc::now()
            )
            .await
            .expect("status"));
        let inbox = store
            .inbox(&id("gemeinde-musterstadt"))
            .await
            .expect("inbox");
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].status, CaseStatus::NeedsInformation);
        let county = store
            .inbox(&id("landkreis-musterkreis"))
            .await
            .expect("inbox");
        assert_eq!(county.len(), 1);
        let (changes, _) = store.changes(&kit.kit_id, 0, 500).await.expect("changes");
        assert!(changes.iter().any(|c| matches!(
            &c.change,
            ChangeKind::Status { record_id, status: CaseStatus::NeedsInformation, comment }
                if *record_id == case && comment.as_deref() == Some("Nachweis fehlt")
        )));
        assert!(
            !store
                .set_case_status(
                    &records[1].record.record_id,
                    CaseStatus::Approved,
                    None,
                    "x",
                    Utc::now()
                )
                .await
                .expect("status"),
            "a rejected record is not a case"
        );
    }
}

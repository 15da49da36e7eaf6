//! Ingest benchmark: 20,000 records pushed over loopback HTTP from several concurrent
//! simulated kits into the embedded store (and into PostgreSQL when
//! `FIELDKIT_TEST_DATABASE_URL` is set), printed beside the single-core ed25519
//! `verify_strict` rate measured in the same run, so the numbers can be compared across
//! machines.
//!
//! Run: `cargo bench -p fieldkit-backend --bench ingest`
//! Knobs: `FIELDKIT_BENCH_RECORDS` (default 20000), `FIELDKIT_BENCH_KITS` (default 8),
//! `FIELDKIT_BENCH_BATCH` (default 100).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

#[path = "support/pg.rs"]
mod pg_schema;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use ed25519_dalek::{Signature, SigningKey};
use fieldkit_backend::admin::{self, kit::ProvisionArgs, Admin, Target};
use fieldkit_backend::blobs::{BlobConfig, BlobStore};
use fieldkit_backend::config::DatabaseUrl;
use fieldkit_backend::keys::{MasterKey, MasterKeySource};
use fieldkit_backend::state::AppState;
use rand_core::{OsRng, RngCore as _};
use sync_protocol::api::{EnrolRequest, EnrolResponse, Outcome, PushBatch, PushBatchResponse};
use sync_protocol::dsse::pae;
use sync_protocol::httpsig::{self, RequestParts};
use sync_protocol::ids::{
    Ars, AuthorityId, ClerkId, FormId, KitId, LeikaKey, RecordId, Sha256Hash,
};
use sync_protocol::record::{Record, RecordKind, SignedRecord, RECORD_PAYLOAD_TYPE};
use sync_protocol::seal::{self, AuthorityPublicKey, CasePayload};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Kit {
    key: SigningKey,
    kit_id: KitId,
    records: Vec<SignedRecord>,
}

fn build_records(kit: &Kit, n: usize, authority_key: AuthorityPublicKey) -> Vec<SignedRecord> {
    let authority = AuthorityId::parse("gemeinde-musterstadt").unwrap();
    let mut out: Vec<SignedRecord> = Vec::with_capacity(n);
    for seq in 1..=n as u64 {
        let record_id = RecordId::from_uuid(uuid::Uuid::now_v7());
        let case = CasePayload {
            form_data: serde_json::json!({
                "persons": [{"family_name": "Musterfrau", "first_names": "Erika",
                             "date_of_birth": "1941-08-12", "place_of_birth": "Berlin"}],
                "move_in_date": "2026-11-02",
                "new_address": {"street": "Lindenweg", "house_number": seq.to_string(),
                                "postal_code": "64390", "city": "Musterstadt"}
            }),
            attachment_keys: Vec::new(),
            attachments: Vec::new(),
        };
        let aad = seal::case_aad(&record_id, &kit.kit_id, &authority);
        let sealed = seal::seal(&authority_key, &aad, &case.to_json(), &mut OsRng).unwrap();
        let record = Record {
            v: 1,
            record_id,
            kit_id: kit.kit_id,
            seq,
            prev_hash: out.last().map_or(Sha256Hash::ZERO, |r| r.hash),
            device_time: Utc::now(),
            clerk_id: ClerkId::parse("c-bench").unwrap(),
            kind: RecordKind::Application,
            references: None,
            leika: LeikaKey::parse("99115005104000").unwrap(),
            form_id: FormId::parse("anmeldung").unwrap(),
            form_version: 1,
            authority_id: authority.clone(),
            ars: Ars::parse("064320001001").unwrap(),
            visit_date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            sealed,
            attachments: Vec::new(),
        };
        out.push(record.sign(&kit.key).unwrap());
    }
    out
}

fn signed(
    client: &reqwest::Client,
    base: &str,
    kit: &Kit,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    let digest = httpsig::content_digest(&body);
    let headers = vec![
        ("content-digest".to_owned(), digest.clone()),
        ("fieldkit-protocol".to_owned(), "1".to_owned()),
    ];
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let target = format!("{base}{path}");
    let sig = httpsig::sign_request(
        &RequestParts {
            method,
            target_uri: &target,
            headers: &headers,
        },
        &kit.kit_id,
        &kit.key,
        Utc::now().timestamp(),
        &hex::encode(nonce),
    )
    .unwrap();
    client
        .request(method.parse().unwrap(), target)
        .header("content-digest", digest)
        .header("fieldkit-protocol", "1")
        .header("signature-input", sig.signature_input)
        .header("signature", sig.signature)
        .body(body)
}

/// Single-core ed25519 `verify_strict` over record-sized PAE messages, per second.
fn verify_strict_rate(records: &[SignedRecord]) -> f64 {
    let key = SigningKey::generate(&mut OsRng);
    let vk = key.verifying_key();
    let messages: Vec<(Vec<u8>, Signature)> = records
        .iter()
        .take(1000)
        .map(|r| {
            let m = pae(RECORD_PAYLOAD_TYPE, &r.payload);
            let s = ed25519_dalek::Signer::sign(&key, &m);
            (m, s)
        })
        .collect();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        for (m, s) in &messages {
            vk.verify_strict(m, s).unwrap();
            n += 1;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

async fn run(pg: Option<&str>, label: &str, total: usize, kits: usize, batch: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (database, schema) = match pg {
        None => (DatabaseUrl::embedded(dir.path()), None),
        Some(base) => {
            let (url, name) = pg_schema::fresh_schema(base).await;
            (DatabaseUrl::Postgres(url), Some(name))
        }
    };
    let target = Target {
        database,
        data_dir: dir.path().to_path_buf(),
        master_key: MasterKeySource {
            env: Some(zeroize::Zeroizing::new(
                MasterKey::generate().to_text().to_string(),
            )),
            file: None,
            generate_in: None,
        },
        blobs: BlobConfig::Filesystem(dir.path().to_path_buf()),
    };
    let admin = Admin::open(&target).await.unwrap();
    let catalog = fieldkit_catalog::Catalog::from_dir(fieldkit_catalog::CATALOG_DIR).unwrap();
    for a in &catalog.authorities {
        let new = fieldkit_backend::storage::NewAuthority {
            id: a.id.clone(),
            name: a.name.clone(),
            ars: a.ars.clone(),
            kind: a.kind,
        };
        admin::authority::add(&admin, &new).await.unwrap();
    }
    admin::catalog::publish(&admin, std::path::Path::new(fieldkit_catalog::CATALOG_DIR))
        .await
        .unwrap();
    let authority_key = {
        let keys = admin
            .store
            .authority_keys(&AuthorityId::parse("gemeinde-musterstadt").unwrap())
            .await
            .unwrap();
        AuthorityPublicKey(keys[0].key.public_key)
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = AppState::new(
        Arc::clone(&admin.store),
        admin.server_key().await.unwrap(),
        base.clone(),
        BlobStore::filesystem(dir.path()).unwrap(),
    );
    // A benchmark's kits push more in a minute than a kit's daily quota allows.
    app.set_limits(fieldkit_backend::config::Limits {
        quota_records_per_day: u64::MAX,
        ..fieldkit_backend::config::Limits::default()
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fieldkit_backend::server::serve_on(
        listener,
        app,
        None,
        Duration::from_secs(5),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = test_http_client();
    let mut fleet = Vec::new();
    for _ in 0..kits {
        let code = admin::kit::provision(
            &admin,
            ProvisionArgs {
                authority: "gemeinde-musterstadt",
                name: "Benchkoffer",
                backend_url: &base,
                tls_cert: None,
                insecure_allow_plain_http: false,
                code_ttl: chrono::Duration::hours(1),
                out: fieldkit_backend::admin::kit::Out::Nowhere,
            },
        )
        .await
        .unwrap()
        .code;
        let key = SigningKey::generate(&mut OsRng);
        let enrol = EnrolRequest {
            v: 1,
            code,
            kit_public_key: sync_protocol::b64::encode(key.verifying_key().as_bytes()),
            kit_name: "bench".into(),
            device_time: Utc::now(),
        };
        let answer: EnrolResponse = serde_json::from_slice(
            &client
                .post(format!("{base}/v1/enrol"))
                .header("fieldkit-protocol", "1")
                .body(enrol.sign(&key).to_json())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        )
        .unwrap();
        fleet.push(Kit {
            key,
            kit_id: answer.kit_id,
            records: Vec::new(),
        });
    }
    let per_kit = total / kits;
    let built = Instant::now();
    let handles: Vec<_> = fleet
        .into_iter()
        .map(|mut kit| {
            std::thread::spawn(move || {
                kit.records = build_records(&kit, per_kit, authority_key);
                kit
            })
        })
        .collect();
    let fleet: Vec<Kit> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!(
        "[{label}] built and sealed {} records for {kits} kits in {:.1} s (not timed below)",
        per_kit * kits,
        built.elapsed().as_secs_f64()
    );
    let verify_rate = verify_strict_rate(&fleet[0].records);

    let started = Instant::now();
    let tasks: Vec<_> = fleet
        .into_iter()
        .map(|kit| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let mut accepted = 0usize;
                for chunk in kit.records.chunks(batch) {
                    let body = serde_json::to_vec(&PushBatch {
                        envelopes: chunk.iter().map(|r| r.envelope.clone()).collect(),
                    })
                    .unwrap();
                    let resp = signed(&client, &base, &kit, "POST", "/v1/records", body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 200);
                    let answer: PushBatchResponse =
                        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
                    accepted += answer
                        .results
                        .iter()
                        .filter(|r| r.outcome == Outcome::Accepted)
                        .count();
                }
                accepted
            })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(accepted, per_kit * kits, "every record accepted");
    println!(
        "[{label}] ingest: {accepted} records in {seconds:.2} s = {:.0} records/s \
         ({kits} concurrent kits, batches of {batch}, loopback HTTP, {} cores)",
        accepted as f64 / seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "[{label}] ed25519 verify_strict, single core, same run: {verify_rate:.0} verifications/s"
    );
    let _ = stop.send(());
    let _ = server.await;
    if let (Some(base), Some(name)) = (pg, schema) {
        drop(admin);
        pg_schema::drop_schema(base, &name).await;
    }
}

fn main() {
    let total = env_usize("FIELDKIT_BENCH_RECORDS", 20_000);
    let kits = env_usize("FIELDKIT_BENCH_KITS", 8).max(1);
    let batch = env_usize("FIELDKIT_BENCH_BATCH", 100).clamp(1, 100);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        run(None, "sqlite", total, kits, batch).await;
        match std::env::var("FIELDKIT_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                run(Some(&url), "postgresql", total, kits, batch).await;
            }
            _ => println!("[postgresql] skipped: FIELDKIT_TEST_DATABASE_URL is not set"),
        }
    });
}

/// An HTTP client for talking to the test server. reqwest's rustls backend (enabled in
/// this workspace by the kit's client) needs a process-wide crypto provider: ring, as
/// everywhere in Fieldkit.
fn test_http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

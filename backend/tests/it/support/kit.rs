//! A test kit made from `sync-protocol` alone, as kit-core would do it: an ed25519 key,
//! records sealed to the responsible authority's published key, signed and chained,
//! attachments encrypted with STREAM, and every request signed per RFC 9421.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::Request;
use chrono::{NaiveDate, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore as _};
use sync_protocol::api::{EnrolRequest, EnrolResponse, PushBatch};
use sync_protocol::attachment::{encrypt_all, AttachmentSecret};
use sync_protocol::httpsig::{self, RequestParts};
use sync_protocol::ids::{
    Ars, AttachmentId, AuthorityId, ClerkId, FormId, KitId, LeikaKey, MediaType, RecordId,
    Sha256Hash,
};
use sync_protocol::record::{AttachmentEntry, Purpose, Record, RecordKind, SignedRecord};
use sync_protocol::seal::{self, AuthorityPublicKey, CasePayload};
use uuid::Uuid;

use super::Backend;

/// Whose key a record's case is sealed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealTo {
    /// The current key of the record's authority.
    Authority,
    /// A key no authority has.
    Stranger,
}

/// What to put into a record.
#[derive(Debug, Clone)]
pub struct Spec {
    pub form: &'static str,
    pub leika: &'static str,
    pub form_version: u32,
    pub ars: &'static str,
    pub authority: &'static str,
    pub seal_to: SealTo,
    pub kind: RecordKind,
    pub references: Option<RecordId>,
    /// Plaintext sizes of attachments.
    pub attachments: Vec<usize>,
    /// The form data to seal (default `{"test": seq}`).
    pub form_data: Option<serde_json::Value>,
    /// The media type of every attachment.
    pub media_type: &'static str,
    /// The capturing clerk.
    pub clerk: &'static str,
    /// Puts a wrong plaintext SHA-256 into the manifest (a kit bug the backend must
    /// catch when it decrypts).
    pub wrong_plaintext_hash: bool,
    /// Sealed labels (catalog kind, file name) of the attachments, by position.
    pub labels: Vec<(&'static str, Option<&'static str>)>,
}

impl Spec {
    /// A registration of residence in Musterstadt, handled there.
    pub fn anmeldung() -> Self {
        Self {
            form: "anmeldung",
            leika: "99115005104000",
            form_version: 1,
            ars: "064320001001",
            authority: "gemeinde-musterstadt",
            seal_to: SealTo::Authority,
            kind: RecordKind::Application,
            references: None,
            attachments: Vec::new(),
            form_data: None,
            media_type: "application/pdf",
            clerk: "c-test",
            wrong_plaintext_hash: false,
            labels: Vec::new(),
        }
    }

    /// A first driving licence for a Musterstadt resident: decided and handled by the
    /// county.
    pub fn driving_licence() -> Self {
        Self {
            form: "fahrerlaubnis-ersterteilung",
            leika: "99000000000002",
            authority: "landkreis-musterkreis",
            ..Self::anmeldung()
        }
    }

    pub fn with_form_data(mut self, data: serde_json::Value) -> Self {
        self.form_data = Some(data);
        self
    }

    pub fn with_attachments(mut self, sizes: &[usize]) -> Self {
        self.attachments = sizes.to_vec();
        self
    }

    /// Seals these labels (catalog kind, file name) for the attachments, by position.
    pub fn with_labels(mut self, labels: &[(&'static str, Option<&'static str>)]) -> Self {
        self.labels = labels.to_vec();
        self
    }
}

/// A kit under test.
pub struct TestKit {
    pub key: SigningKey,
    pub kit_id: KitId,
    pub base_url: String,
    pub server_keys: Vec<VerifyingKey>,
    /// Records made so far, in chain order (forks are not added).
    pub chain: Vec<SignedRecord>,
    /// Ciphertexts of the attachments made so far.
    pub ciphertexts: HashMap<AttachmentId, Vec<u8>>,
    /// Plaintexts of the attachments made so far.
    pub plaintexts: HashMap<AttachmentId, Vec<u8>>,
    authority_keys: HashMap<String, AuthorityPublicKey>,
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

impl TestKit {
    /// A new, not yet enrolled kit that knows the authorities' current keys.
    pub async fn new(backend: &Backend) -> Self {
        let mut authority_keys = HashMap::new();
        for a in backend.store().authorities().await.expect("authorities") {
            let keys = backend
                .store()
                .authority_keys(&a.authority.id)
                .await
                .expect("keys");
            if let Some(current) = keys.iter().find(|k| k.retired_at.is_none()) {
                authority_keys.insert(
                    a.authority.id.to_string(),
                    AuthorityPublicKey(current.key.public_key),
                );
            }
        }
        Self {
            key: SigningKey::generate(&mut OsRng),
            kit_id: KitId::from_uuid(Uuid::nil()),
            base_url: backend.base_url.clone(),
            server_keys: Vec::new(),
            chain: Vec::new(),
            ciphertexts: HashMap::new(),
            plaintexts: HashMap::new(),
            authority_keys,
        }
    }

    /// Uses `key` as `authority`'s current key from now on (after a rotation).
    pub fn learn_key(&mut self, authority: &str, key: [u8; 32]) {
        self.authority_keys
            .insert(authority.to_owned(), AuthorityPublicKey(key));
    }

    /// `POST /v1/enrol` with `code`.
    pub fn enrol_request(&self, code: &str) -> Request<Body> {
        let request = EnrolRequest {
            v: 1,
            code: code.to_owned(),
            kit_public_key: sync_protocol::b64::encode(self.key.verifying_key().as_bytes()),
            kit_name: "test-host".to_owned(),
            device_time: Utc::now(),
        };
        Request::post("/v1/enrol")
            .header("fieldkit-protocol", "1")
            .header("content-type", "application/json")
            .body(Body::from(request.sign(&self.key).to_json()))
            .expect("request")
    }

    /// Takes over what enrolment answered, checking the server keys as a kit must.
    pub fn enrolled(&mut self, response: &EnrolResponse) {
        self.kit_id = response.kit_id;
        self.server_keys = response
            .server_keys
            .iter()
            .map(|k| k.to_key().expect("server key is valid and matches its id"))
            .collect();
    }

    /// A request signed now.
    pub fn signed(&self, method: &str, path_and_query: &str, body: Vec<u8>) -> Request<Body> {
        self.signed_with(method, path_and_query, body, &[], Utc::now().timestamp())
    }

    /// A request signed now under protocol `version` (`"1"` or `"2"`).
    pub fn signed_as(
        &self,
        version: &str,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Request<Body> {
        self.signed_full(
            version,
            method,
            path_and_query,
            body,
            &[],
            Utc::now().timestamp(),
        )
    }

    /// A signed request with extra (unsigned) headers and a chosen `created`.
    pub fn signed_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        extra: &[(&str, &str)],
        created: i64,
    ) -> Request<Body> {
        self.signed_full("1", method, path_and_query, body, extra, created)
    }

    fn signed_full(
        &self,
        version: &str,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        extra: &[(&str, &str)],
        created: i64,
    ) -> Request<Body> {
        let digest = httpsig::content_digest(&body);
        let headers = vec![
            ("content-digest".to_owned(), digest.clone()),
            ("fieldkit-protocol".to_owned(), version.to_owned()),
        ];
        let target = format!("{}{path_and_query}", self.base_url);
        let sig = httpsig::sign_request(
            &RequestParts {
                method,
                target_uri: &target,
                headers: &headers,
            },
            &self.kit_id,
            &self.key,
            created,
            &random_hex(16),
        )
        .expect("signs");
        let mut builder = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header("content-digest", digest)
            .header("fieldkit-protocol", version)
            .header("signature-input", sig.signature_input)
            .header("signature", sig.signature);
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::from(body)).expect("request")
    }

    /// `POST /v1/records` with these envelopes.
    pub fn push(&self, records: &[&SignedRecord]) -> Request<Body> {
        let batch = PushBatch {
            envelopes: records.iter().map(|r| r.envelope.clone()).collect(),
        };
        self.signed(
            "POST",
            "/v1/records",
            serde_json::to_vec(&batch).expect("batch serializes"),
        )
    }

    /// The next record of the chain (appended to [`TestKit::chain`]).
    pub fn next(&mut self, spec: &Spec) -> SignedRecord {
        let seq = self.chain.len() as u64 + 1;
        let prev = self.chain.last().map_or(Sha256Hash::ZERO, |r| r.hash);
        let record = self.record_at(seq, prev, spec);
        self.chain.push(record.clone());
        record
    }

    /// A record at any seq and predecessor (for gaps, forks and wrong links).
    pub fn record_at(&mut self, seq: u64, prev_hash: Sha256Hash, spec: &Spec) -> SignedRecord {
        let record_id = RecordId::from_uuid(Uuid::now_v7());
        let authority = AuthorityId::parse(spec.authority).expect("authority id");
        let mut attachments = Vec::new();
        let mut keys = Vec::new();
        for (i, size) in spec.attachments.iter().enumerate() {
            let id = AttachmentId::from_uuid(Uuid::new_v4());
            let secret = AttachmentSecret::generate(&mut OsRng);
            let plain: Vec<u8> = (0..*size).map(|b| (b % 251) as u8).collect();
            let (ciphertext, d) = encrypt_all(&secret, id, &plain).expect("encrypts");
            attachments.push(AttachmentEntry {
                id,
                purpose: if i == 0 {
                    Purpose::Form
                } else {
                    Purpose::Attachment
                },
                media_type: MediaType::parse(spec.media_type).expect("media type"),
                size: d.size,
                sha256: if spec.wrong_plaintext_hash {
                    Sha256Hash([7; 32])
                } else {
                    d.sha256
                },
                ciphertext_size: d.ciphertext_size,
                ciphertext_sha256: d.ciphertext_sha256,
            });
            keys.push(secret.to_wire(id));
            self.ciphertexts.insert(id, ciphertext);
            self.plaintexts.insert(id, plain);
        }
        let case = CasePayload {
            form_data: spec
                .form_data
                .clone()
                .unwrap_or_else(|| serde_json::json!({"test": seq})),
            attachments: spec
                .labels
                .iter()
                .zip(&keys)
                .map(
                    |((kind, file_name), key)| sync_protocol::seal::AttachmentLabel {
                        attachment_id: key.attachment_id,
                        kind: (*kind).to_owned(),
                        file_name: file_name.map(str::to_owned),
                    },
                )
                .collect(),
            attachment_keys: keys,
        };
        let recipient = match spec.seal_to {
            SealTo::Authority => *self
                .authority_keys
                .get(spec.authority)
                .expect("the authority has a published key"),
            SealTo::Stranger => seal::generate_authority_keypair(&mut OsRng).1,
        };
        let aad = seal::case_aad(&record_id, &self.kit_id, &authority);
        let sealed = seal::seal(&recipient, &aad, &case.to_json(), &mut OsRng).expect("seals");
        Record {
            v: 1,
            record_id,
            kit_id: self.kit_id,
            seq,
            prev_hash,
            device_time: Utc::now(),
            clerk_id: ClerkId::parse(spec.clerk).expect("clerk"),
            kind: spec.kind,
            references: spec.references,
            leika: LeikaKey::parse(spec.leika).expect("leika"),
            form_id: FormId::parse(spec.form).expect("form"),
            form_version: spec.form_version,
            authority_id: authority,
            ars: Ars::parse(spec.ars).expect("ars"),
            visit_date: NaiveDate::from_ymd_opt(2026, 11, 21).expect("date"),
            sealed,
            attachments,
        }
        .sign(&self.key)
        .expect("signs")
    }
}

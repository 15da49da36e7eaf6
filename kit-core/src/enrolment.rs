//! Enrolment: the kit proves possession of its key with a one-time code and learns its
//! id, its authority and the server keys it will trust for receipts and catalogs. The
//! HTTP exchange is the sync engine's; this module builds the signed request and stores
//! the answer.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sync_protocol::api::{EnrolRequest, EnrolResponse, ServerKey};
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::{AuthorityId, KitId};

use crate::kit::{now_text, Session};
use crate::KitError;

/// What a kit knows about its enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// The id the backend assigned.
    pub kit_id: KitId,
    /// The authority the kit belongs to.
    pub authority_id: AuthorityId,
    /// The kit's name at the backend.
    pub kit_name: String,
    /// Where the backend is.
    pub backend_url: String,
    /// Keys trusted for receipts and catalogs.
    pub server_keys: Vec<ServerKey>,
    /// When the kit enrolled.
    pub enrolled_at: String,
    /// The TLS pin from the provisioning file, enforced on every later connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_pin: Option<sync_protocol::api::TlsPin>,
}

impl Session {
    /// Enrols with a backend: sends the signed request, stores the answer (checking the
    /// server keys against the provisioning file's), then fetches and installs the
    /// current catalog with a signed request.
    ///
    /// Refused on a kit that is already enrolled, before anything is sent: whoever runs
    /// a server can answer with this kit's id, so an answer proves nothing, and a second
    /// enrolment would hand the kit's trust (server keys, TLS pin, catalog, authority
    /// keys) to that server.
    ///
    /// # Errors
    /// [`KitError::AlreadyEnrolled`]; [`KitError::Backend`] with the backend's reason
    /// (unknown, expired or used code); [`KitError::Network`]; [`KitError::Conflict`]
    /// when the keys do not match.
    pub fn enrol(
        &mut self,
        backend: &crate::net::Backend,
        backend_url: &str,
        code: &str,
        kit_name: &str,
        provisioned_keys: Option<&[ServerKey]>,
    ) -> Result<Enrolment, KitError> {
        self.refuse_if_enrolled()?;
        let response = backend.enrol(&self.enrol_request(code, kit_name))?;
        let enrolment =
            self.apply_enrolment_pinned(backend_url, &response, provisioned_keys, backend.pin())?;
        self.update_catalog(backend)?;
        Ok(enrolment)
    }

    /// Fetches `GET /v1/catalog/current` and installs it if it is newer.
    ///
    /// # Errors
    /// Network, backend and catalog verification errors.
    pub fn update_catalog(
        &mut self,
        backend: &crate::net::Backend,
    ) -> Result<fieldkit_catalog::CatalogMeta, KitError> {
        let envelope: Envelope = backend.get_signed(self, "/v1/catalog/current")?;
        self.install_catalog(&envelope)
    }

    /// The stored enrolment, if any.
    ///
    /// # Errors
    /// Database errors; [`KitError::Corrupted`] if the stored value does not parse.
    pub fn enrolment(&self) -> Result<Option<Enrolment>, KitError> {
        self.meta("enrolment")?
            .map(|json| {
                serde_json::from_str(&json)
                    .map_err(|e| KitError::Corrupted(format!("enrolment: {e}")))
            })
            .transpose()
    }

    /// [`KitError::AlreadyEnrolled`] when the kit has an enrolment.
    ///
    /// # Errors
    /// As described; database errors.
    pub fn refuse_if_enrolled(&self) -> Result<(), KitError> {
        match self.enrolment()? {
            Some(existing) => Err(KitError::AlreadyEnrolled {
                kit_id: existing.kit_id.to_string(),
                backend_url: existing.backend_url,
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn require_enrolment(&self) -> Result<Enrolment, KitError> {
        self.enrolment()?.ok_or(KitError::NotEnrolled)
    }

    /// The signed enrolment request for `code`; the kit key signs it here and never
    /// leaves the store.
    pub fn enrol_request(&self, code: &str, kit_name: &str) -> Envelope {
        EnrolRequest {
            v: sync_protocol::PAYLOAD_VERSION,
            code: code.to_owned(),
            kit_public_key: sync_protocol::b64::encode(self.kit_key.verifying_key().as_bytes()),
            kit_name: kit_name.to_owned(),
            device_time: chrono::Utc::now(),
        }
        .sign(&self.kit_key)
    }

    /// Stores the backend's answer to an enrolment. When a provisioning file named the
    /// server keys, the answer must carry the same keys.
    ///
    /// # Errors
    /// [`KitError::AlreadyEnrolled`] if the kit is enrolled (whatever the answer says);
    /// [`KitError::Conflict`] if the keys differ from the provisioning file; protocol
    /// errors for malformed keys.
    pub fn apply_enrolment(
        &mut self,
        backend_url: &str,
        response: &EnrolResponse,
        provisioned_keys: Option<&[ServerKey]>,
    ) -> Result<Enrolment, KitError> {
        self.apply_enrolment_pinned(backend_url, response, provisioned_keys, None)
    }

    /// As [`Session::apply_enrolment`], storing the TLS pin in the same write (a crash
    /// can never leave an enrolment without its pin).
    fn apply_enrolment_pinned(
        &mut self,
        backend_url: &str,
        response: &EnrolResponse,
        provisioned_keys: Option<&[ServerKey]>,
        tls_pin: Option<&sync_protocol::api::TlsPin>,
    ) -> Result<Enrolment, KitError> {
        if response.server_keys.is_empty() {
            return Err(KitError::Conflict("the backend sent no server keys".into()));
        }
        for key in &response.server_keys {
            key.to_key()?;
        }
        if let Some(expected) = provisioned_keys {
            let mut a: Vec<_> = expected.iter().map(|k| &k.key_id).collect();
            let mut b: Vec<_> = response.server_keys.iter().map(|k| &k.key_id).collect();
            a.sort();
            b.sort();
            if a != b {
                return Err(KitError::Conflict(
                    "the backend's keys differ from the provisioning file: do not trust this server".into(),
                ));
            }
        }
        self.refuse_if_enrolled()?;
        let enrolment = Enrolment {
            kit_id: response.kit_id,
            authority_id: response.authority_id.clone(),
            kit_name: response.kit_name.clone(),
            backend_url: backend_url.trim_end_matches('/').to_owned(),
            server_keys: response.server_keys.clone(),
            enrolled_at: now_text(),
            tls_pin: tls_pin.cloned(),
        };
        self.store_enrolment(&enrolment)?;
        Ok(enrolment)
    }

    fn store_enrolment(&self, enrolment: &Enrolment) -> Result<(), KitError> {
        let json =
            serde_json::to_string(enrolment).map_err(|e| KitError::Corrupted(e.to_string()))?;
        Session::set_meta(&self.conn, "enrolment", &json)
    }

    /// A client for the backend this kit is enrolled with, enforcing its TLS pin.
    ///
    /// # Errors
    /// [`KitError::NotEnrolled`]; as [`crate::net::Backend::new`].
    pub fn backend(&self) -> Result<crate::net::Backend, KitError> {
        let enrolment = self.require_enrolment()?;
        self.backend_at(&enrolment.backend_url)
    }

    /// The server keys this kit trusts now (enrolment, then verified rollovers:
    /// `crate::trust`).
    ///
    /// # Errors
    /// [`KitError::NotEnrolled`].
    pub fn trusted_server_keys(&self) -> Result<Vec<VerifyingKey>, KitError> {
        self.trust_state()?.server_keys_at(chrono::Utc::now())
    }
}

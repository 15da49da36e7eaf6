//! The catalog's data model, as it appears in the files of `catalog/` and in a
//! published bundle.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::ids::{Ars, AuthorityId, FormId, LeikaKey, MediaType};
use sync_protocol::record::Purpose;

/// A text in German and English. Both are required; German is what clerks see first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    /// German.
    pub de: String,
    /// English.
    pub en: String,
}

/// Words people type when they look for a service but that its name does not contain
/// ("Umzug", "umziehen" for the Anmeldung; "Führerschein" for the Fahrerlaubnis), per
/// language. Only the kit's service search reads them; they never reach a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keywords {
    /// German words and phrases.
    #[serde(default)]
    pub de: Vec<String>,
    /// English words and phrases.
    #[serde(default)]
    pub en: Vec<String>,
}

impl Keywords {
    /// No word in either language (then the member is left out of a bundle).
    pub fn is_empty(&self) -> bool {
        self.de.is_empty() && self.en.is_empty()
    }
}

/// The level of an authority in the German federal structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityKind {
    /// A municipality (Gemeinde, Stadt).
    Gemeinde,
    /// A county (Kreis) or a county-free city acting as one.
    Kreis,
    /// A federal state (Land).
    Land,
    /// A federal office (Bund), e.g. the Bundesamt für Justiz.
    Bund,
}

impl AuthorityKind {
    /// The German name, for messages.
    pub fn name_de(self) -> &'static str {
        match self {
            Self::Gemeinde => "Gemeinde",
            Self::Kreis => "Kreis",
            Self::Land => "Land",
            Self::Bund => "Bund",
        }
    }
}

/// An HPKE public key of an authority as published in a bundle (added by the backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedHpkeKey {
    /// `AuthorityPublicKey::key_id` of the key.
    pub key_id: String,
    /// The 32-byte X25519 public key, base64.
    pub public_key: String,
}

/// An authority (a tenant of the backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    /// Stable id.
    pub id: AuthorityId,
    /// Official name.
    pub name: String,
    /// Level.
    pub kind: AuthorityKind,
    /// Regionalschlüssel of its territory; none for federal offices, which cover all.
    pub ars: Option<Ars>,
    /// Postal address, for printouts.
    pub address: String,
    /// Whether this is demo data (shown as such in the UI).
    #[serde(default)]
    pub demo: bool,
    /// The key kits seal cases to; present in published bundles only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpke_public_key: Option<PublishedHpkeKey>,
}

impl Authority {
    /// Whether the authority's territory contains the residence `ars`.
    pub fn covers(&self, ars: &Ars) -> bool {
        match &self.ars {
            None => self.kind == AuthorityKind::Bund,
            Some(own) => ars.as_str().starts_with(own.as_str()),
        }
    }
}

/// The service's key in the Leistungskatalog and whether it was verified against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leika {
    /// The key.
    pub key: LeikaKey,
    /// False where no official key could be confirmed; the note says what was used.
    pub verified: bool,
    /// Where the key comes from, or why it is unverified.
    pub note: String,
}

/// Whether a service can be captured offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// True when the kit can capture it.
    pub offline: bool,
    /// Why not, for the clerk (only when `offline` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Localized>,
    /// The legal basis of that reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
}

/// Which of the two authorities works the case in the back office (and so gets it
/// sealed to its key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handling {
    /// The receiving authority checks and forwards (e.g. Führungszeugnis: the
    /// Meldebehörde transmits to the Bundesamt für Justiz through its own channel).
    Receiving,
    /// The deciding authority works the case directly (e.g. the county's driving-licence
    /// authority for an application taken by a municipality's kit).
    Deciding,
}

/// A reason a fee may be waived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverReason {
    /// Stable id, the value stored in the form data.
    pub id: String,
    /// For the clerk.
    pub label: Localized,
}

/// The fee of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    /// Amount in euro cents; `None` where the Land or municipality sets it.
    pub amount_cents: Option<u32>,
    /// Basis and remarks (e.g. which fee schedule, the accounting split).
    pub note: Localized,
    /// Reasons the fee may be waived.
    #[serde(default)]
    pub waiver_reasons: Vec<WaiverReason>,
}

/// A file the service wants attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSpec {
    /// Stable id within the service.
    pub id: String,
    /// FIT-Connect purpose.
    pub purpose: Purpose,
    /// Always required.
    pub required: bool,
    /// Required when the form data matches this JSON Schema (e.g. extended certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_when: Option<Value>,
    /// Accepted media types.
    pub media_types: Vec<MediaType>,
    /// Largest accepted file in bytes.
    pub max_bytes: u64,
    /// For the clerk.
    pub label: Localized,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Localized>,
}

/// One version of a service's form. Versions are never edited once published; a change
/// is a new version, and old ones stay so that every captured record stays readable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormVersion {
    /// 1, 2, …
    pub version: u32,
    /// First day kits capture with this version.
    pub valid_from: NaiveDate,
    /// The Fachdaten schema (JSON Schema 2020-12).
    pub schema: Value,
    /// Layout, order, labels, help texts and widgets (see catalog/README.md).
    pub ui: Value,
    /// For every field (path without array indices, e.g. `persons/family_name`): the
    /// legal provision that permits collecting it. Data minimisation is checked against
    /// this list.
    pub legal_basis: BTreeMap<String, String>,
}

/// A service a kit can (or explicitly cannot) record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Stable id; also the form id in records.
    pub id: FormId,
    /// Leistungskatalog key.
    pub leika: Leika,
    /// Name.
    pub name: Localized,
    /// What it is, for clerks.
    pub description: Localized,
    /// Search synonyms. Optional: catalogs written before it existed load unchanged, and
    /// a service without any is serialized without the member.
    #[serde(default, skip_serializing_if = "Keywords::is_empty")]
    pub keywords: Keywords,
    /// The law it rests on.
    pub legal_basis: Vec<String>,
    /// Whether the kit can capture it.
    pub availability: Availability,
    /// Authority kind that receives the application.
    pub receiving_authority_kind: AuthorityKind,
    /// Authority kind that decides it.
    pub deciding_authority_kind: AuthorityKind,
    /// Which of the two works the case in Fieldkit's back office.
    pub handled_by: Handling,
    /// JSON pointer to the form field holding the ARS of the citizen's residence, the
    /// routing input (e.g. `/new_address/ars`). Absent for acts done for the capturing
    /// authority itself (a Beglaubigung), which route to the kit's own authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence_ars: Option<String>,
    /// Fee, if any.
    pub fee: Option<Fee>,
    /// Whether a printout of the captured data must be signed by the citizen and
    /// attached (BMG §23(1) and similar).
    pub signed_printout_required: bool,
    /// Files to attach.
    pub attachments: Vec<AttachmentSpec>,
    /// Form versions, ascending; empty for services not available offline.
    pub forms: Vec<FormVersion>,
}

impl Service {
    /// The newest form version valid on `day`.
    pub fn current_form(&self, day: NaiveDate) -> Option<&FormVersion> {
        self.forms.iter().rev().find(|f| f.valid_from <= day)
    }

    /// A form version by number.
    pub fn form(&self, version: u32) -> Option<&FormVersion> {
        self.forms.iter().find(|f| f.version == version)
    }
}

/// An explicit routing rule that overrides the default (authority of the service's kind
/// covering the residence), e.g. where Land law designates another office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// The service.
    pub service: FormId,
    /// Residences whose ARS starts with this.
    pub ars_prefix: String,
    /// Receiving authority, if overridden.
    #[serde(default)]
    pub receiving: Option<AuthorityId>,
    /// Deciding authority, if overridden.
    #[serde(default)]
    pub deciding: Option<AuthorityId>,
    /// Why (the provision or agreement).
    pub note: String,
}

/// `catalog.json`: the catalog's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogMeta {
    /// The catalog version, e.g. `2026.11.1`. Raised with every published change.
    pub version: String,
    /// When this version was published.
    pub published: NaiveDate,
    /// Where the legal facts come from and as of when.
    pub sources: String,
}

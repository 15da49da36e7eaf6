//! Identifiers and keys of the record model, each a type that can only hold a valid
//! value: parsing is the validation, so a `LeikaKey` in hand is always `^99\d{12}$`.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ProtocolError;

macro_rules! validated_string {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:expr, $rule:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates.
            ///
            /// # Errors
            #[doc = concat!("[`ProtocolError::Malformed`] unless the value is ", $rule, ".")]
            pub fn parse(text: &str) -> Result<Self, ProtocolError> {
                let check: fn(&str) -> bool = $check;
                if check(text) {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(ProtocolError::malformed($field, concat!("must be ", $rule)))
                }
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ProtocolError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

fn is_slug(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase() | bytes[0].is_ascii_digit()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

validated_string!(
    /// A service's key in the Leistungskatalog (LeiKa): `99` followed by twelve digits.
    LeikaKey, "leika", |s| s.len() == 14 && s.starts_with("99") && all_digits(s),
    "14 digits starting with 99"
);

validated_string!(
    /// Amtlicher Regionalschlüssel: 2 (Land), 3 (Regierungsbezirk), 5 (Kreis),
    /// 9 (Gemeindeverband) or 12 (Gemeinde) digits.
    Ars, "ars", |s| matches!(s.len(), 2 | 3 | 5 | 9 | 12) && all_digits(s),
    "2, 3, 5, 9 or 12 digits"
);

validated_string!(
    /// An authority (tenant) of the backend, e.g. `gemeinde-musterstadt`.
    AuthorityId, "authority_id", is_slug,
    "1-64 characters of a-z, 0-9 and '-', not starting with '-'"
);

validated_string!(
    /// A clerk of a kit, e.g. `c-mueller`.
    ClerkId, "clerk_id", is_slug,
    "1-64 characters of a-z, 0-9 and '-', not starting with '-'"
);

validated_string!(
    /// A form of the service catalog, e.g. `anmeldung`.
    FormId, "form_id", is_slug,
    "1-64 characters of a-z, 0-9 and '-', not starting with '-'"
);

validated_string!(
    /// An IANA media type of an attachment, e.g. `application/pdf`.
    MediaType, "media_type",
    |s| {
        let mut parts = s.splitn(2, '/');
        let token = |t: &str| {
            t.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && t.len() <= 64
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        matches!((parts.next(), parts.next()), (Some(a), Some(b)) if token(a) && token(b))
            && s == s.to_ascii_lowercase()
    },
    "a lower-case type/subtype without parameters"
);

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }
            /// The UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ProtocolError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                parse_uuid(&s).map(Self)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0.hyphenated().to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl std::str::FromStr for $name {
            type Err = ProtocolError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_uuid(s).map(Self)
            }
        }
    };
}

/// Only the lower-case hyphenated form is accepted, so that an id has one spelling.
fn parse_uuid(s: &str) -> Result<Uuid, ProtocolError> {
    let u = Uuid::try_parse(s).map_err(|e| ProtocolError::malformed("uuid", e.to_string()))?;
    if u.hyphenated().to_string() != s {
        return Err(ProtocolError::malformed(
            "uuid",
            "must be lower-case hyphenated",
        ));
    }
    Ok(u)
}

uuid_id!(
    /// A kit, assigned by the backend at enrolment.
    KitId
);
uuid_id!(
    /// A record, a UUIDv7 chosen by the kit at finalize time.
    RecordId
);
uuid_id!(
    /// An attachment of a record, chosen by the kit.
    AttachmentId
);

impl RecordId {
    /// Checks that the UUID is version 7, as record ids must be.
    ///
    /// # Errors
    /// [`ProtocolError::Invalid`] for any other version.
    pub fn require_v7(&self) -> Result<(), ProtocolError> {
        if self.0.get_version_num() == 7 && self.0.get_variant() == uuid::Variant::RFC4122 {
            Ok(())
        } else {
            Err(ProtocolError::invalid("record_id", "must be a UUIDv7"))
        }
    }
}

/// A SHA-256 digest, written as 64 lower-case hex digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hash(pub [u8; 32]);

impl Sha256Hash {
    /// The all-zero value that stands in for "no previous record" at seq 1.
    pub const ZERO: Sha256Hash = Sha256Hash([0; 32]);

    /// Hashes bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl TryFrom<String> for Sha256Hash {
    type Error = ProtocolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        crate::b64::hex32::decode("sha256", &s).map(Self)
    }
}

impl From<Sha256Hash> for String {
    fn from(h: Sha256Hash) -> String {
        h.to_hex()
    }
}

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hash({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leika_keys_follow_the_catalog_format() {
        assert!(LeikaKey::parse("99115005104000").is_ok());
        for bad in [
            "",
            "9911500510400",
            "991150051040000",
            "88115005104000",
            "99a15005104000",
        ] {
            assert!(LeikaKey::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn ars_accepts_exactly_the_five_levels() {
        for good in ["06", "064", "06435", "064350014", "064350014014"] {
            assert!(Ars::parse(good).is_ok(), "{good} rejected");
        }
        for bad in ["", "0", "0643", "064350", "0643500140140", "06435001401x"] {
            assert!(Ars::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn slugs_reject_upper_case_spaces_and_leading_dash() {
        assert!(AuthorityId::parse("gemeinde-musterstadt").is_ok());
        for bad in ["", "-a", "A", "a b", "ä", &"a".repeat(65)] {
            assert!(AuthorityId::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn uuids_have_one_spelling() {
        let s = "0192f3a4-5b6c-7d8e-9f00-112233445566";
        assert!(s.parse::<RecordId>().is_ok());
        assert!(s.to_uppercase().parse::<RecordId>().is_err());
        assert!(s.replace('-', "").parse::<RecordId>().is_err());
    }

    #[test]
    fn media_types_are_lower_case_without_parameters() {
        assert!(MediaType::parse("application/pdf").is_ok());
        assert!(MediaType::parse("image/svg+xml").is_ok());
        for bad in [
            "pdf",
            "Application/pdf",
            "text/plain; charset=utf-8",
            "a/",
            "/b",
        ] {
            assert!(MediaType::parse(bad).is_err(), "{bad} accepted");
        }
    }
}

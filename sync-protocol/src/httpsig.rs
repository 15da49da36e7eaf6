//! HTTP Message Signatures (RFC 9421) with ed25519, and Content-Digest (RFC 9530): how a
//! kit authenticates every request it makes to the backend.
//!
//! The signature base is built here from plain values (method, target URI, header
//! lines), so the same code serves the kit's HTTP client, the backend's middleware and
//! the test vectors; structured-field parsing and serialization (RFC 8941) come from the
//! `sfv` crate. Replay protection needs state: this module checks the time window, and
//! the backend remembers nonces for that window.
//!
//! Fieldkit's profile: label `fk`; covered components exactly
//! `("@method" "@target-uri" "content-digest" "fieldkit-protocol")`; parameters
//! `created`, `nonce`, `keyid` (the kit id) and `alg="ed25519"`.

use ed25519_dalek::{Signature as EdSignature, Signer as _, SigningKey, VerifyingKey};
use sfv::{BareItem, InnerList, Item, ListEntry, Parameters, Parser, SerializeValue as _};
use sha2::{Digest, Sha256};

use crate::ids::KitId;
use crate::{b64, ProtocolError};

/// The signature label Fieldkit uses in `Signature-Input` and `Signature`.
pub const LABEL: &str = "fk";
/// The components every kit request signature must cover, in this order.
pub const COVERED: [&str; 4] = [
    "@method",
    "@target-uri",
    "content-digest",
    "fieldkit-protocol",
];
/// How far in the past `created` may lie, in seconds.
pub const MAX_AGE_SECS: i64 = 300;
/// How far in the future `created` may lie (clock skew allowance), in seconds.
pub const MAX_FUTURE_SECS: i64 = 60;
/// Nonce length in characters (16 random bytes as lower-case hex).
pub const NONCE_LEN: usize = 32;

/// The parts of an HTTP request a signature can cover.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The absolute target URI, e.g. `https://backend.example/v1/records?x=1`.
    pub target_uri: &'a str,
    /// Header field lines as (name, value); names match case-insensitively.
    pub headers: &'a [(String, String)],
}

/// The two header values that carry a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// Value of the `Signature-Input` header.
    pub signature_input: String,
    /// Value of the `Signature` header.
    pub signature: String,
}

/// What a verified kit request signature establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The kit that signed.
    pub kit_id: KitId,
    /// Its `created` parameter (UNIX seconds).
    pub created: i64,
    /// Its nonce, for the replay check.
    pub nonce: String,
}

/// The `Content-Digest` header value for a body: `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", b64::encode(Sha256::digest(body)))
}

/// Checks a `Content-Digest` header value against the body. Only `sha-256` counts;
/// other algorithms in the same header are ignored, and one `sha-256` entry is required.
///
/// # Errors
/// [`ProtocolError::Malformed`] for an unparsable header or no `sha-256` entry;
/// [`ProtocolError::DigestMismatch`] when it does not match.
pub fn verify_content_digest(header: &str, body: &[u8]) -> Result<(), ProtocolError> {
    if parse_content_digest(header)? == Sha256::digest(body).as_slice() {
        Ok(())
    } else {
        Err(ProtocolError::DigestMismatch)
    }
}

/// The `sha-256` member of a `Content-Digest` header value, for checking a body that is
/// hashed while it streams in.
///
/// # Errors
/// [`ProtocolError::Malformed`] for an unparsable header or no 32-byte `sha-256` entry.
pub fn parse_content_digest(header: &str) -> Result<[u8; 32], ProtocolError> {
    let dict = Parser::parse_dictionary(header.as_bytes())
        .map_err(|e| ProtocolError::malformed("content-digest", e))?;
    match dict.get("sha-256") {
        Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSeq(bytes),
            ..
        })) => <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| ProtocolError::malformed("content-digest", "sha-256 is 32 bytes")),
        _ => Err(ProtocolError::malformed(
            "content-digest",
            "a sha-256 byte sequence is required",
        )),
    }
}

struct TargetUri<'a> {
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

fn split_target_uri(uri: &str) -> Result<TargetUri<'_>, ProtocolError> {
    let bad = |why: &str| ProtocolError::malformed("@target-uri", why.to_owned());
    let uri = uri.split('#').next().unwrap_or(uri);
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| bad("not an absolute URI"))?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err(bad("invalid scheme"));
    }
    let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(path_start);
    if authority.is_empty() {
        return Err(bad("no authority"));
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    Ok(TargetUri {
        scheme,
        authority,
        path,
        query,
    })
}

fn derived_value(req: &RequestParts<'_>, name: &str) -> Result<String, ProtocolError> {
    let uri = || split_target_uri(req.target_uri);
    let path = |u: &TargetUri<'_>| {
        if u.path.is_empty() {
            "/".to_owned()
        } else {
            u.path.to_owned()
        }
    };
    Ok(match name {
        "@method" => req.method.to_owned(),
        "@target-uri" => req.target_uri.to_owned(),
        "@scheme" => uri()?.scheme.to_ascii_lowercase(),
        "@authority" => {
            let u = uri()?;
            let authority = u.authority.to_ascii_lowercase();
            let default_port = match u.scheme.to_ascii_lowercase().as_str() {
                "https" => Some(":443"),
                "http" => Some(":80"),
                _ => None,
            };
            match default_port {
                Some(port) if authority.ends_with(port) => {
                    authority[..authority.len() - port.len()].to_owned()
                }
                _ => authority,
            }
        }
        "@path" => path(&uri()?),
        "@query" => format!("?{}", uri()?.query.unwrap_or("")),
        "@request-target" => {
            let u = uri()?;
            match u.query {
                Some(q) => format!("{}?{q}", path(&u)),
                None => path(&u),
            }
        }
        _ => {
            return Err(ProtocolError::malformed(
                "signature-input",
                format!("unsupported derived component {name}"),
            ))
        }
    })
}

fn header_value(req: &RequestParts<'_>, name: &str) -> Result<String, ProtocolError> {
    let values: Vec<&str> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim_matches([' ', '\t']))
        .collect();
    if values.is_empty() {
        return Err(ProtocolError::malformed(
            "signature-input",
            format!("covered header {name} is missing"),
        ));
    }
    Ok(values.join(", "))
}

/// Builds the RFC 9421 signature base for a list of covered components and their
/// parameters. Returns the base and the serialized `@signature-params` value.
///
/// # Errors
/// [`ProtocolError::Malformed`] for a component that is missing, unsupported, has
/// parameters, or contains a line break.
pub fn signature_base(
    req: &RequestParts<'_>,
    inner: &InnerList,
) -> Result<(String, String), ProtocolError> {
    let mut base = String::new();
    for item in &inner.items {
        let name = match &item.bare_item {
            BareItem::String(s) if item.params.is_empty() => s.as_str(),
            _ => {
                return Err(ProtocolError::malformed(
                    "signature-input",
                    "components must be plain strings without parameters",
                ))
            }
        };
        if name != name.to_ascii_lowercase() {
            return Err(ProtocolError::malformed(
                "signature-input",
                "component names are lower case",
            ));
        }
        let value = if name.starts_with('@') {
            derived_value(req, name)?
        } else {
            header_value(req, name)?
        };
        if value.contains(['\r', '\n']) {
            return Err(ProtocolError::malformed(
                "signature-input",
                "line break in a covered value",
            ));
        }
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    let params = vec![ListEntry::InnerList(inner.clone())]
        .serialize_value()
        .map_err(|e| ProtocolError::malformed("signature-input", e))?;
    base.push_str(&format!("\"@signature-params\": {params}"));
    Ok((base, params))
}

/// Signs a kit request in Fieldkit's profile. The request's headers must already hold
/// `Content-Digest` (see [`content_digest`]) and `Fieldkit-Protocol`.
///
/// # Errors
/// As [`signature_base`].
pub fn sign_request(
    req: &RequestParts<'_>,
    kit_id: &KitId,
    key: &SigningKey,
    created: i64,
    nonce: &str,
) -> Result<SignatureHeaders, ProtocolError> {
    let mut params = Parameters::new();
    params.insert("created".into(), BareItem::Integer(created));
    params.insert("nonce".into(), BareItem::String(nonce.to_owned()));
    params.insert("keyid".into(), BareItem::String(kit_id.to_string()));
    params.insert("alg".into(), BareItem::String("ed25519".into()));
    let items = COVERED
        .iter()
        .map(|c| Item::new(BareItem::String((*c).to_owned())))
        .collect();
    let inner = InnerList::with_params(items, params);
    let (base, params) = signature_base(req, &inner)?;
    let sig = key.sign(base.as_bytes());
    Ok(SignatureHeaders {
        signature_input: format!("{LABEL}={params}"),
        signature: format!("{LABEL}=:{}:", b64::encode(sig.to_bytes())),
    })
}

/// Reads the labelled signature input and signature from their header values.
fn find_labelled(
    req: &RequestParts<'_>,
    label: &str,
) -> Result<(InnerList, [u8; 64]), ProtocolError> {
    let input = header_value(req, "signature-input")
        .map_err(|_| ProtocolError::malformed("signature-input", "header is missing"))?;
    let signature = header_value(req, "signature")
        .map_err(|_| ProtocolError::malformed("signature", "header is missing"))?;
    let inputs = Parser::parse_dictionary(input.as_bytes())
        .map_err(|e| ProtocolError::malformed("signature-input", e))?;
    let sigs = Parser::parse_dictionary(signature.as_bytes())
        .map_err(|e| ProtocolError::malformed("signature", e))?;
    let inner = match inputs.get(label) {
        Some(ListEntry::InnerList(inner)) => inner.clone(),
        _ => {
            return Err(ProtocolError::malformed(
                "signature-input",
                format!("no inner list labelled {label}"),
            ))
        }
    };
    let sig = match sigs.get(label) {
        Some(ListEntry::Item(Item {
            bare_item: BareItem::ByteSeq(bytes),
            ..
        })) => <[u8; 64]>::try_from(bytes.as_slice()).map_err(|_| {
            ProtocolError::malformed("signature", "an ed25519 signature is 64 bytes")
        })?,
        _ => {
            return Err(ProtocolError::malformed(
                "signature",
                format!("no byte sequence labelled {label}"),
            ))
        }
    };
    Ok((inner, sig))
}

/// Verifies any RFC 9421 ed25519 signature with the given label against one key,
/// without Fieldkit's profile rules (used for the RFC's own examples).
///
/// # Errors
/// Format errors, or [`ProtocolError::BadSignature`].
pub fn verify_with_key(
    req: &RequestParts<'_>,
    label: &str,
    key: &VerifyingKey,
) -> Result<InnerList, ProtocolError> {
    let (inner, sig) = find_labelled(req, label)?;
    let (base, _) = signature_base(req, &inner)?;
    key.verify_strict(base.as_bytes(), &EdSignature::from_bytes(&sig))
        .map_err(|_| ProtocolError::BadSignature)?;
    Ok(inner)
}

fn string_param<'a>(inner: &'a InnerList, name: &'static str) -> Result<&'a str, ProtocolError> {
    match inner.params.get(name) {
        Some(BareItem::String(s)) => Ok(s),
        _ => Err(ProtocolError::malformed(
            "signature-input",
            format!("string parameter {name} is required"),
        )),
    }
}

/// Verifies a kit request in Fieldkit's profile: the covered components, the window
/// around `now`, the body digest, and the signature by the key `lookup` returns for the
/// claimed kit. The caller then checks the nonce has not been seen within the window.
///
/// # Errors
/// Format errors; [`ProtocolError::Stale`]; [`ProtocolError::DigestMismatch`];
/// [`ProtocolError::WrongKeyId`] for an unknown kit; [`ProtocolError::BadSignature`].
pub fn verify_request(
    req: &RequestParts<'_>,
    body: &[u8],
    now: i64,
    lookup: impl FnOnce(&KitId) -> Option<VerifyingKey>,
) -> Result<VerifiedRequest, ProtocolError> {
    verify_signed_headers(req, Some(body), now, lookup).map(|(verified, _)| verified)
}

/// A request whose signature headers verified before its body was read: the body
/// still has to hash to `content_sha256` (PROTOCOL.md §7.4, "before the body").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHead {
    /// What the signature establishes.
    pub request: VerifiedRequest,
    /// The SHA-256 the signed `Content-Digest` promises for the body.
    pub content_sha256: [u8; 32],
}

/// As [`verify_request`] but without the body: every check of §7.4 except comparing
/// `Content-Digest` with the body, which the caller does while the body streams in
/// (compare the SHA-256 of the body with [`VerifiedHead::content_sha256`]). A server
/// uses it to refuse unauthenticated requests before reading a byte of their body.
///
/// # Errors
/// As [`verify_request`], except [`ProtocolError::DigestMismatch`].
pub fn verify_request_head(
    req: &RequestParts<'_>,
    now: i64,
    lookup: impl FnOnce(&KitId) -> Option<VerifyingKey>,
) -> Result<VerifiedHead, ProtocolError> {
    verify_signed_headers(req, None, now, lookup).map(|(request, content_sha256)| VerifiedHead {
        request,
        content_sha256,
    })
}

fn verify_signed_headers(
    req: &RequestParts<'_>,
    body: Option<&[u8]>,
    now: i64,
    lookup: impl FnOnce(&KitId) -> Option<VerifyingKey>,
) -> Result<(VerifiedRequest, [u8; 32]), ProtocolError> {
    let (inner, sig) = find_labelled(req, LABEL)?;
    let covered: Vec<&str> = inner
        .items
        .iter()
        .filter(|i| i.params.is_empty())
        .filter_map(|i| i.bare_item.as_str())
        .collect();
    if covered != COVERED || inner.items.len() != COVERED.len() {
        return Err(ProtocolError::malformed(
            "signature-input",
            format!("must cover exactly {COVERED:?}"),
        ));
    }
    let created = match inner.params.get("created") {
        Some(BareItem::Integer(c)) => *c,
        _ => {
            return Err(ProtocolError::malformed(
                "signature-input",
                "integer parameter created is required",
            ))
        }
    };
    if created < now - MAX_AGE_SECS || created > now + MAX_FUTURE_SECS {
        return Err(ProtocolError::Stale { created, now });
    }
    match inner.params.get("expires") {
        None => {}
        Some(BareItem::Integer(expires)) if *expires >= now => {}
        Some(_) => return Err(ProtocolError::Stale { created, now }),
    }
    if string_param(&inner, "alg")? != "ed25519" {
        return Err(ProtocolError::malformed(
            "signature-input",
            "alg must be ed25519",
        ));
    }
    let nonce = string_param(&inner, "nonce")?;
    if nonce.len() != NONCE_LEN
        || !nonce
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ProtocolError::malformed(
            "signature-input",
            "nonce must be 32 lower-case hex digits",
        ));
    }
    let kit_id: KitId = string_param(&inner, "keyid")?.parse()?;
    let content_sha256 = parse_content_digest(&header_value(req, "content-digest")?)?;
    if body.is_some_and(|body| Sha256::digest(body).as_slice() != content_sha256) {
        return Err(ProtocolError::DigestMismatch);
    }
    let key = lookup(&kit_id).ok_or_else(|| ProtocolError::WrongKeyId {
        expected: "an enrolled kit".to_owned(),
        found: kit_id.to_string(),
    })?;
    let (base, _) = signature_base(req, &inner)?;
    key.verify_strict(base.as_bytes(), &EdSignature::from_bytes(&sig))
        .map_err(|_| ProtocolError::BadSignature)?;
    Ok((
        VerifiedRequest {
            kit_id,
            created,
            nonce: nonce.to_owned(),
        },
        content_sha256,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_digest_matches_rfc_9530_example() {
        // RFC 9530 §2 example: the body {"hello": "world"} followed by a line feed.
        assert_eq!(
            content_digest(b"{\"hello\": \"world\"}\n"),
            "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"
        );
        assert!(verify_content_digest(&content_digest(b"x"), b"x").is_ok());
        assert_eq!(
            verify_content_digest(&content_digest(b"x"), b"y"),
            Err(ProtocolError::DigestMismatch)
        );
        assert!(verify_content_digest("md5=:AAAA:", b"x").is_err());
    }

    #[test]
    fn derived_components_follow_rfc_9421_section_2_2() {
        let headers = vec![];
        let req = RequestParts {
            method: "POST",
            target_uri: "https://WWW.Example.com:443/path?param=value&foo=bar",
            headers: &headers,
        };
        assert_eq!(
            derived_value(&req, "@authority").ok().as_deref(),
            Some("www.example.com")
        );
        assert_eq!(derived_value(&req, "@path").ok().as_deref(), Some("/path"));
        assert_eq!(
            derived_value(&req, "@query").ok().as_deref(),
            Some("?param=value&foo=bar")
        );
        assert_eq!(
            derived_value(&req, "@request-target").ok().as_deref(),
            Some("/path?param=value&foo=bar")
        );
        assert!(derived_value(&req, "@status").is_err());
    }

    #[test]
    fn the_head_verifies_before_the_body_and_promises_its_digest() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let kit_id: KitId = "0b5a3f4e-6c1d-4e2a-9b7f-3c8d2e1f4a6b".parse().expect("id");
        let body = b"{\"envelopes\":[]}";
        let mut headers = vec![
            ("content-digest".to_owned(), content_digest(body)),
            ("fieldkit-protocol".to_owned(), "1".to_owned()),
        ];
        let target_uri = "https://b.example/v1/records";
        let sig = sign_request(
            &RequestParts {
                method: "POST",
                target_uri,
                headers: &headers,
            },
            &kit_id,
            &key,
            1000,
            &"a".repeat(32),
        )
        .expect("signs");
        headers.push(("signature-input".to_owned(), sig.signature_input));
        headers.push(("signature".to_owned(), sig.signature));
        let req = RequestParts {
            method: "POST",
            target_uri,
            headers: &headers,
        };
        let head = verify_request_head(&req, 1000, |_| Some(key.verifying_key())).expect("head");
        assert_eq!(head.request.kit_id, kit_id);
        assert_eq!(
            head.content_sha256.as_slice(),
            Sha256::digest(body).as_slice()
        );
        // The same head with another body fails only in the full check.
        assert_eq!(
            verify_request(&req, b"other", 1000, |_| Some(key.verifying_key())),
            Err(ProtocolError::DigestMismatch)
        );
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert_eq!(
            verify_request_head(&req, 1000, |_| Some(other)),
            Err(ProtocolError::BadSignature)
        );
        assert!(matches!(
            verify_request_head(&req, 2000, |_| Some(key.verifying_key())),
            Err(ProtocolError::Stale { .. })
        ));
    }
}

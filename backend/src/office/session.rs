//! Sessions, cookies and CSRF tokens of the back office.
//!
//! - A session token is 32 random bytes (base64url) in a `__Host-` cookie with
//!   `HttpOnly; Secure; SameSite=Strict; Path=/`; the database keeps only its SHA-256,
//!   so a leaked database does not hand out sessions. Sessions end after
//!   [`SESSION_LIFETIME`] or [`SESSION_IDLE`] without use, and at logout.
//! - Every POST carries a synchronizer token in the hidden field `csrf`: the session's
//!   token once logged in; before login, a random token also set in a `__Host-` cookie
//!   (double submit), so a foreign site cannot log a victim into its own account.
//!   Tokens are compared in constant time.
//! - Failed logins are counted in the database per login name and client address
//!   before the password is checked; the rules are in [`crate::login_throttle`].

use axum::http::HeaderMap;
use base64::Engine as _;
use chrono::Duration;
use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::i18n::Lang;

/// The session cookie.
pub const SESSION_COOKIE: &str = "__Host-fieldkit-session";
/// The pre-login CSRF cookie.
pub const LOGIN_CSRF_COOKIE: &str = "__Host-fieldkit-login";
/// The language cookie.
pub const LANG_COOKIE: &str = "fieldkit-lang";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A session's absolute lifetime.
pub const SESSION_LIFETIME: Duration = Duration::hours(8);
/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::minutes(30);
/// A new random token (session or CSRF): 32 bytes, base64url without padding.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores for a session token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant-time equality of two tokens (an empty expected token never matches).
pub fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The value of cookie `name` in the request, if present once.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v);
    let first = found.next()?;
    // Two cookies of one name (e.g. one planted on a subdomain): trust neither.
    found.next().is_none().then_some(first)
}

/// `Set-Cookie` for a secure, script-inaccessible, same-site cookie valid for `max_age`
/// (`None`: until the browser closes; the server enforces the real expiry).
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>) -> String {
    let age = max_age.map_or(String::new(), |d| format!("; Max-Age={}", d.num_seconds()));
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict{age}")
}

/// `Set-Cookie` that deletes a cookie.
pub fn clear_cookie(name: &str) -> String {
    set_cookie(name, "", Some(Duration::zero()))
}

/// The language of a request: `?lang=` first, then the cookie, else German. Also
/// whether the query chose it (then the cookie is set).
pub fn language(headers: &HeaderMap, query: Option<&str>) -> (Lang, bool) {
    let from_query = query.and_then(|q| {
        q.split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::parse(v))
    });
    if let Some(lang) = from_query {
        return (lang, true);
    }
    (
        cookie(headers, LANG_COOKIE)
            .and_then(Lang::parse)
            .unwrap_or_default(),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly_and_never_match_empty() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert!(tokens_match(&t, &t.clone()));
        assert!(!tokens_match(&t, &t[..42]));
        assert!(!tokens_match("", ""));
        assert_ne!(token_hash(&t), token_hash(&new_token()));
    }

    #[test]
    fn a_duplicated_cookie_is_not_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "a=1; __Host-fieldkit-session=x".parse().expect("header"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("x"));
        headers.append(
            axum::http::header::COOKIE,
            "__Host-fieldkit-session=y".parse().expect("header"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), None);
    }
}

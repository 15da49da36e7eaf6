//! The back office's errors and the one place they become pages: each variant names
//! its status; internal errors are logged (without case data) and shown as a generic
//! message, never with their details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::i18n::Lang;
use super::views::{html, ErrorPage, Layout};
use crate::storage::{SessionRow, StoreError};

/// What can go wrong in a back-office request.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// 400: a query parameter or form field is malformed; one message per problem.
    #[error("bad request")]
    BadRequest(Vec<String>),
    /// 422: well-formed, but not allowed now (e.g. a transition the workflow forbids).
    #[error("unprocessable")]
    Unprocessable(Vec<String>),
    /// 401: not signed in (for requests that cannot be redirected to the login page).
    #[error("not signed in")]
    Unauthenticated,
    /// 403: the CSRF token is missing or wrong.
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// 403: the role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// 404: no such thing — or one of another authority, which looks the same.
    #[error("not found")]
    NotFound,
    /// 404 with a reason: the thing exists but is not available yet (an attachment not
    /// yet transferred).
    #[error("not available")]
    NotAvailable(Vec<String>),
    /// 409: the case changed since the page was loaded.
    #[error("conflict")]
    Conflict,
    /// 413: the form is larger than any form of ours.
    #[error("too large")]
    TooLarge,
    /// 503: this process has no master key, so no case can be opened.
    #[error("keys unavailable")]
    KeysUnavailable,
    /// 503: the attachment store does not answer (the cause is logged, not shown).
    #[error("attachment storage unavailable: {0}")]
    StorageUnavailable(String),
    /// 500: something failed inside (the text is logged, not shown).
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for OfficeError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl OfficeError {
    /// The status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Csrf | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NotAvailable(_) => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::KeysUnavailable | Self::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error as a page in `lang`.
    pub fn page(self, lang: Lang, session: Option<&SessionRow>) -> Response {
        let status = self.status();
        let messages = match self {
            Self::BadRequest(m) | Self::Unprocessable(m) | Self::NotAvailable(m) => m,
            Self::Unauthenticated => vec![lang
                .pick("Bitte melden Sie sich an.", "Please log in.")
                .to_owned()],
            Self::Csrf => vec![lang
                .pick(
                    "Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu.",
                    "The form has expired or is invalid. Please reload the page.",
                )
                .to_owned()],
            Self::Forbidden => vec![lang
                .pick(
                    "Ihre Rolle erlaubt diese Seite nicht.",
                    "Your role does not allow this page.",
                )
                .to_owned()],
            Self::NotFound => vec![lang
                .pick("Diese Seite gibt es nicht.", "This page does not exist.")
                .to_owned()],
            Self::Conflict => vec![lang
                .pick(
                    "Der Vorgang wurde inzwischen geändert. Bitte laden Sie ihn neu.",
                    "The case was changed meanwhile. Please reload it.",
                )
                .to_owned()],
            Self::TooLarge => vec![lang
                .pick("Die Eingabe ist zu groß.", "The input is too large.")
                .to_owned()],
            Self::KeysUnavailable => vec![lang
                .pick(
                    "Die Schlüssel zum Öffnen von Vorgängen sind nicht verfügbar.",
                    "The keys for opening cases are not available.",
                )
                .to_owned()],
            Self::StorageUnavailable(detail) => {
                tracing::warn!(error = %detail, "attachment storage failed in the back office");
                vec![lang
                    .pick(
                        "Der Anlagenspeicher ist gerade nicht erreichbar. Bitte versuchen Sie \
                         es in einigen Minuten erneut.",
                        "The attachment storage cannot be reached right now. Please try again \
                         in a few minutes.",
                    )
                    .to_owned()]
            }
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "back-office request failed");
                vec![lang
                    .pick(
                        "Ein interner Fehler ist aufgetreten.",
                        "An internal error occurred.",
                    )
                    .to_owned()]
            }
        };
        let page = ErrorPage {
            layout: Layout::new(lang, session),
            title: lang.texts().error_title.to_owned(),
            messages,
        };
        html(status, &page)
    }
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

//! The IT administration pages and the audit viewer under `/office/admin/…`.
//!
//! **Who may do what** (the role lists below are the routes'
//! [`super::OfficeAccess::Admin`]):
//!
//! | page | roles |
//! |---|---|
//! | kits: list, provision (code + QR + file), revoke with a reason | it-operator |
//! | users: list, add (initial password that only lets the user set their own), disable, change roles, confirm or withdraw changes under the four-eyes rule | authority-admin |
//! | authority: facts and key ids, rotate the HPKE key | it-operator |
//! | catalog: published versions, services of the current one (read-only) | it-operator, authority-admin |
//! | audit log: admin events, case status changes, decryptions | auditor, authority-admin |
//!
//! Decisions:
//! - **Every page and action is scoped to the signed-in user's own authority.** Users
//!   carry exactly one authority and no role is global in this model, so the
//!   authority always comes from the session, never from the URL or the form; a kit
//!   or user of another authority is answered exactly like an unknown one (404). A
//!   shared IT service provider serving several authorities has one account per
//!   authority. The authority page therefore shows the own authority only.
//! - **Users are the authority-admin's, not the it-operator's.** An it-operator may
//!   never open cases; if they could create accounts (with a password they see), they
//!   could create a reviewer and read cases through it. Separating the duties keeps
//!   that rule true.
//! - **The it-operator has no audit viewer**: the trail exists to check, among others,
//!   IT operations; auditors and the authority's admins read it (read-only — there
//!   is no route that changes it, and the tables refuse UPDATE and DELETE).
//! - **Catalog publication stays CLI-only** (`admin catalog publish PATH` reads a
//!   catalog folder on the server and signs it; a web upload of a folder is not
//!   trivial and not needed more often than a release).
//!
//! Every action reuses the admin functions of [`crate::admin`] (the CLI's), run as the
//! signed-in login ([`Admin::acting_as`]), so each is validated once and appended to
//! the `admin_events` trail with the acting person. One-time codes and initial
//! passwords are shown once in the answer to the POST and never stored or logged.

use std::sync::Arc;

use axum::routing::{on, MethodFilter, MethodRouter};

use super::error::OfficeError;
use super::i18n::Lang;
use crate::admin::{Admin, AdminError};
use crate::state::AppState;
use crate::storage::{Role, SessionRow, StoreError};

pub mod account_texts;
mod audit;
mod authority;
mod catalog;
mod kits;
pub mod qr;
pub mod texts;
pub mod user_changes;
mod users;
mod views;

pub use texts::AdminTexts;

/// Who manages kits.
pub const KITS: &[Role] = &[Role::ItOperator];
/// Who manages users.
pub const USERS: &[Role] = &[Role::AuthorityAdmin];
/// Who sees the authority's keys and rotates them.
pub const AUTHORITY: &[Role] = &[Role::ItOperator];
/// Who sees the catalog.
pub const CATALOG: &[Role] = &[Role::ItOperator, Role::AuthorityAdmin];
/// Who reads the audit log.
pub const AUDIT: &[Role] = &[Role::Auditor, Role::AuthorityAdmin];

/// The admin pages and actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminPage {
    /// `GET /office/admin/kits`: the kits and the provisioning form.
    Kits,
    /// `POST /office/admin/kits`: provision a kit; answers with code, QR and file.
    KitProvision,
    /// `GET /office/admin/kits/{kit_id}/revoke`: the confirmation with the reason.
    KitRevokeForm,
    /// `POST /office/admin/kits/{kit_id}/revoke`.
    KitRevoke,
    /// `GET /office/admin/users`: the users and the form to add one.
    Users,
    /// `POST /office/admin/users`: add a user; answers with the initial password.
    UserAdd,
    /// `GET /office/admin/users/{login}/disable`: the confirmation.
    UserDisableForm,
    /// `POST /office/admin/users/{login}/disable`.
    UserDisable,
    /// `GET /office/admin/users/{login}/role`: the role change form.
    UserRoleForm,
    /// `POST /office/admin/users/{login}/role`: change the role (or ask a second
    /// admin to, under the four-eyes rule).
    UserRole,
    /// `POST /office/admin/user-changes/{id}/confirm`: a second admin confirms.
    UserChangeConfirm,
    /// `POST /office/admin/user-changes/{id}/withdraw`.
    UserChangeWithdraw,
    /// `GET /office/admin/authority`: the own authority and its keys.
    Authority,
    /// `GET /office/admin/authority/rotate-key`: the confirmation.
    KeyRotateForm,
    /// `POST /office/admin/authority/rotate-key`.
    KeyRotate,
    /// `GET /office/admin/catalog`.
    Catalog,
    /// `GET /office/admin/audit`: the audit log viewer.
    Audit,
}

pub(super) fn method_router(page: AdminPage, filter: MethodFilter) -> MethodRouter<AppState> {
    match page {
        AdminPage::Kits => on(filter, kits::list),
        AdminPage::KitProvision => on(filter, kits::provision),
        AdminPage::KitRevokeForm => on(filter, kits::revoke_form),
        AdminPage::KitRevoke => on(filter, kits::revoke),
        AdminPage::Users => on(filter, users::list),
        AdminPage::UserAdd => on(filter, users::add),
        AdminPage::UserDisableForm => on(filter, users::disable_form),
        AdminPage::UserDisable => on(filter, users::disable),
        AdminPage::UserRoleForm => on(filter, user_changes::role_form),
        AdminPage::UserRole => on(filter, user_changes::set_role),
        AdminPage::UserChangeConfirm => on(filter, user_changes::confirm),
        AdminPage::UserChangeWithdraw => on(filter, user_changes::withdraw),
        AdminPage::Authority => on(filter, authority::show),
        AdminPage::KeyRotateForm => on(filter, authority::rotate_form),
        AdminPage::KeyRotate => on(filter, authority::rotate),
        AdminPage::Catalog => on(filter, catalog::show),
        AdminPage::Audit => on(filter, audit::show),
    }
}

/// A link of the main navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where.
    pub href: &'static str,
    /// The label in the page language.
    pub label: &'static str,
}

/// The admin pages `role` may open, for the main navigation.
pub fn nav_links(lang: Lang, role: Role) -> Vec<NavLink> {
    let a = AdminTexts::of(lang);
    [
        ("/office/admin/kits", a.nav_kits, KITS),
        ("/office/admin/users", a.nav_users, USERS),
        ("/office/admin/authority", a.nav_authority, AUTHORITY),
        ("/office/admin/catalog", a.nav_catalog, CATALOG),
        ("/office/admin/audit", a.nav_audit, AUDIT),
    ]
    .into_iter()
    .filter(|(_, _, roles)| roles.contains(&role))
    .map(|(href, label, _)| NavLink { href, label })
    .collect()
}

/// The admin functions as the signed-in user.
fn admin_for(app: &AppState, session: &SessionRow) -> Result<Admin, OfficeError> {
    let master = app
        .master_key
        .as_ref()
        .ok_or(OfficeError::KeysUnavailable)?;
    Ok(Admin::acting_as(
        Arc::clone(&app.store),
        master,
        &session.user.login,
    ))
}

/// An admin function's failure that the page did not foresee.
fn failed(e: AdminError) -> OfficeError {
    match e {
        AdminError::Store(StoreError::NotFound(_)) => OfficeError::NotFound,
        AdminError::Key(_) => OfficeError::KeysUnavailable,
        other => OfficeError::Internal(other.to_string()),
    }
}

/// The name of the user's authority.
async fn authority_name(app: &AppState, session: &SessionRow) -> Result<String, OfficeError> {
    let id = &session.user.authority_id;
    Ok(app
        .store
        .authorities()
        .await?
        .into_iter()
        .find(|a| &a.authority.id == id)
        .map_or_else(|| id.to_string(), |a| a.authority.name))
}

/// `value` or a dash.
fn or_dash(value: Option<String>, lang: Lang) -> String {
    value.unwrap_or_else(|| AdminTexts::of(lang).never.to_owned())
}

//! `admin demo`: a ready-to-try backend in a data folder — the catalog's authorities
//! (`catalog/authorities.json`) with key pairs, one user per role with a printed random
//! password, the catalog published, and a provisioned demo kit whose code and
//! provisioning file are printed. Re-running it adds what is missing and provisions
//! another kit.

use std::path::Path;

use serde::Serialize;
use sync_protocol::ids::AuthorityId;

use super::kit::{provision, Out, ProvisionArgs, Provisioned};
use super::{authority, catalog, user, Admin, AdminError};
use crate::storage::{NewAuthority, Role, StoreError};

/// The authority whose kit and users the demo creates.
pub const DEMO_AUTHORITY: &str = "gemeinde-musterstadt";

/// A demo user.
#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    /// Login.
    pub login: String,
    /// Role.
    pub role: Role,
    /// The password, when the user was created now (`None` if it existed).
    pub password: Option<String>,
}

/// What the demo set up.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// Authorities added now.
    pub authorities_added: Vec<String>,
    /// The demo users.
    pub users: Vec<DemoUser>,
    /// The published catalog.
    pub catalog: catalog::PublishReport,
    /// The provisioned kit.
    pub kit: Provisioned,
}

/// Sets up the demo.
///
/// # Errors
/// [`AdminError`].
pub async fn demo(
    admin: &Admin,
    catalog_dir: &Path,
    backend_url: &str,
    code_ttl: chrono::Duration,
) -> Result<DemoReport, AdminError> {
    let cat = fieldkit_catalog::Catalog::from_dir(catalog_dir)
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let existing: Vec<AuthorityId> = admin
        .store
        .authorities()
        .await?
        .into_iter()
        .map(|a| a.authority.id)
        .collect();
    let mut authorities_added = Vec::new();
    for a in &cat.authorities {
        if existing.contains(&a.id) {
            continue;
        }
        let new = NewAuthority {
            id: a.id.clone(),
            name: a.name.clone(),
            ars: a.ars.clone(),
            kind: a.kind,
        };
        authority::add(admin, &new).await?;
        authorities_added.push(a.id.to_string());
    }
    let mut users = Vec::new();
    for role in [
        Role::Reviewer,
        Role::AuthorityAdmin,
        Role::ItOperator,
        Role::Auditor,
    ] {
        let login = format!("demo-{}", role.as_str());
        let password = crate::password::generate();
        // Demo passwords are printed to try the set-up out, so they are kept.
        let first = user::FirstLogin::KeepPassword;
        match user::add(admin, DEMO_AUTHORITY, &login, role, &password, first).await {
            Ok(()) => users.push(DemoUser {
                login,
                role,
                password: Some(password.to_string()),
            }),
            Err(AdminError::Store(StoreError::AlreadyExists(_))) => users.push(DemoUser {
                login,
                role,
                password: None,
            }),
            Err(e) => return Err(e),
        }
    }
    let catalog = catalog::publish(admin, catalog_dir).await?;
    let kit = provision(
        admin,
        ProvisionArgs {
            authority: DEMO_AUTHORITY,
            name: "Demo-Bürgerkoffer",
            backend_url,
            tls_cert: None,
            insecure_allow_plain_http: false,
            code_ttl,
            out: Out::Folder(admin.data_dir.join("provisioning")),
        },
    )
    .await?;
    Ok(DemoReport {
        authorities_added,
        users,
        catalog,
        kit,
    })
}

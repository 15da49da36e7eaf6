//! Routing: which authorities receive, decide and handle an application, given the
//! service and the ARS of the citizen's residence.
//!
//! The default is the authority of the service's kind whose territory contains the
//! residence (the most specific one if several do); explicit rules in `routing.json`
//! override it where Land law or an agreement designates another office. A residence
//! that no authority of this backend covers is an error the clerk sees, never a guess.

use serde::Serialize;
use sync_protocol::ids::{Ars, AuthorityId};

use crate::model::{Authority, AuthorityKind, Handling, Service};
use crate::{Catalog, CatalogError};

/// Where an application goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Receives the application (where the citizen "appears").
    pub receiving: AuthorityId,
    /// Decides it.
    pub deciding: AuthorityId,
    /// Works the case in Fieldkit's back office; the case is sealed to its key and the
    /// record names it as `authority_id`.
    pub handling: AuthorityId,
}

fn most_specific<'c>(
    catalog: &'c Catalog,
    kind: AuthorityKind,
    ars: &Ars,
) -> Option<&'c Authority> {
    catalog
        .authorities
        .iter()
        .filter(|a| a.kind == kind && a.covers(ars))
        .max_by_key(|a| a.ars.as_ref().map_or(0, |x| x.as_str().len()))
}

fn pick(
    catalog: &Catalog,
    service: &Service,
    kind: AuthorityKind,
    ars: &Ars,
    overridden: Option<&AuthorityId>,
) -> Result<AuthorityId, CatalogError> {
    if let Some(id) = overridden {
        return Ok(id.clone());
    }
    most_specific(catalog, kind, ars)
        .map(|a| a.id.clone())
        .ok_or_else(|| CatalogError::NoAuthority {
            service: service.id.to_string(),
            kind: kind.name_de().to_owned(),
            ars: ars.to_string(),
        })
}

/// Routes `service` for a citizen living in `ars`.
///
/// # Errors
/// [`CatalogError::UnknownService`], [`CatalogError::NotAvailableOffline`] or
/// [`CatalogError::NoAuthority`].
pub fn route(catalog: &Catalog, service_id: &str, ars: &Ars) -> Result<Route, CatalogError> {
    let service = catalog.service(service_id)?;
    if !service.availability.offline {
        return Err(CatalogError::NotAvailableOffline {
            service: service.id.to_string(),
            reason: service
                .availability
                .reason
                .as_ref()
                .map_or_else(String::new, |r| r.de.clone()),
        });
    }
    // The most specific matching rule wins.
    let rule = catalog
        .routing
        .iter()
        .filter(|r| r.service == service.id && ars.as_str().starts_with(&r.ars_prefix))
        .max_by_key(|r| r.ars_prefix.len());
    let receiving = pick(
        catalog,
        service,
        service.receiving_authority_kind,
        ars,
        rule.and_then(|r| r.receiving.as_ref()),
    )?;
    let deciding = pick(
        catalog,
        service,
        service.deciding_authority_kind,
        ars,
        rule.and_then(|r| r.deciding.as_ref()),
    )?;
    let handling = match service.handled_by {
        Handling::Receiving => receiving.clone(),
        Handling::Deciding => deciding.clone(),
    };
    Ok(Route {
        receiving,
        deciding,
        handling,
    })
}

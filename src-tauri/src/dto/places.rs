//! The municipality picker's entries: the places a residence can be in, as the address
//! forms' `ars` field offers them (`commands::places`).

use serde::Serialize;
use ts_rs::TS;

/// A municipality one of the installed catalog's authorities serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct MunicipalityDto {
    /// Its Amtlicher Regionalschlüssel (12 digits): what the form stores and routing reads.
    pub ars: String,
    /// Its name, from the authority's address (`64390 Musterstadt`); the authority's name
    /// where the address has no postal code and place.
    pub name: String,
    /// The authority a residence here is routed to, as the catalog names it.
    pub authority_name: String,
    /// The postal code of the authority's address, if it has one (the town's may differ).
    pub postal_code: Option<String>,
}

//! The municipalities a residence can be in, for the address forms' picker: the
//! installed catalog's municipal authorities (kind `gemeinde`, a 12-digit ARS). The form
//! stores the ARS the clerk picks and routing looks it up among the same authorities, so
//! the picker offers exactly the residences the kit can route.

use kit_core::fieldkit_catalog::{Authority, AuthorityKind};

use super::{blocking, AppState};
use crate::dto::MunicipalityDto;
use crate::error::AppError;

/// Digits of a single municipality's (Gemeinde's) ARS; shorter ones name a county, a
/// region or a Land.
const MUNICIPALITY_ARS_DIGITS: usize = 12;

/// The municipalities the installed catalog's authorities serve, sorted by name.
#[tauri::command]
pub async fn municipalities(state: AppState<'_>) -> Result<Vec<MunicipalityDto>, AppError> {
    blocking(&state, |s| {
        s.with_session(|session| Ok(municipalities_of(&session.catalog()?.authorities)))
    })
    .await
}

/// The municipal authorities among `authorities` as picker entries, by name (lower case,
/// then ARS: a plain compare is enough for German place names in one catalog).
fn municipalities_of(authorities: &[Authority]) -> Vec<MunicipalityDto> {
    let mut list: Vec<MunicipalityDto> = authorities
        .iter()
        .filter(|a| a.kind == AuthorityKind::Gemeinde)
        .filter_map(|a| {
            let ars = a
                .ars
                .as_ref()
                .filter(|ars| ars.as_str().len() == MUNICIPALITY_ARS_DIGITS)?;
            let (postal_code, name) = match postal_code_and_place(&a.address) {
                Some((code, place)) => (Some(code.to_owned()), place.to_owned()),
                None => (None, a.name.clone()),
            };
            Some(MunicipalityDto {
                ars: ars.to_string(),
                name,
                authority_name: a.name.clone(),
                postal_code,
            })
        })
        .collect();
    list.sort_by_cached_key(|m| (m.name.to_lowercase(), m.ars.clone()));
    list
}

/// The postal code and place of a German postal address: the last comma-separated part
/// that is five digits, white space and a name (`Rathausplatz 1, 64390 Musterstadt` →
/// `("64390", "Musterstadt")`).
fn postal_code_and_place(address: &str) -> Option<(&str, &str)> {
    address.rsplit([',', '\n']).find_map(|part| {
        let part = part.trim();
        let (code, place) = part.split_once(char::is_whitespace)?;
        let place = place.trim();
        (code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) && !place.is_empty())
            .then_some((code, place))
    })
}

#[cfg(test)]
mod tests {
    use kit_core::fieldkit_catalog::{Catalog, CATALOG_DIR};
    use kit_core::protocol::ids::{Ars, AuthorityId};

    use super::*;

    fn check_place(address: &str, expected: Option<(&str, &str)>) {
        assert_eq!(postal_code_and_place(address), expected, "{address:?}");
    }

    #[test]
    fn the_place_is_the_name_after_the_postal_code() {
        check_place(
            "Rathausplatz 1, 64390 Musterstadt",
            Some(("64390", "Musterstadt")),
        );
        check_place(
            "Kreishaus, Am Markt 10, 64380 Musterstadt-Kreisstadt",
            Some(("64380", "Musterstadt-Kreisstadt")),
        );
        check_place("53094 Bonn", Some(("53094", "Bonn")));
        check_place(
            "Marktplatz 2\n64720  Michelstadt (Odenwald) ",
            Some(("64720", "Michelstadt (Odenwald)")),
        );
    }

    #[test]
    fn an_address_without_five_digits_and_a_place_has_none() {
        check_place("Rathausplatz 1", None);
        check_place("Rathausplatz 1, 64390", None);
        check_place("Postfach 1234, 6439 Musterstadt", None);
        check_place("Hauptstraße 123456 Musterstadt", None);
        check_place("", None);
    }

    fn authority(id: &str, kind: AuthorityKind, ars: Option<&str>, address: &str) -> Authority {
        Authority {
            id: AuthorityId::parse(id).expect("id"),
            name: format!("Behörde {id}"),
            kind,
            ars: ars.map(|a| Ars::parse(a).expect("ars")),
            address: address.into(),
            demo: true,
            hpke_public_key: None,
        }
    }

    #[test]
    fn only_municipal_authorities_are_listed_by_name_with_the_authority_as_fallback() {
        let list = municipalities_of(&[
            authority(
                "zell",
                AuthorityKind::Gemeinde,
                Some("064320003003"),
                "Am Rathaus 1, 64399 Zell",
            ),
            authority(
                "kreis",
                AuthorityKind::Kreis,
                Some("06432"),
                "Am Markt 10, 64380 Kreisstadt",
            ),
            authority("bund", AuthorityKind::Bund, None, "53094 Bonn"),
            authority(
                "verband",
                AuthorityKind::Gemeinde,
                Some("064320005"),
                "Schulweg 2, 64301 Verbandsdorf",
            ),
            authority(
                "ohne-ort",
                AuthorityKind::Gemeinde,
                Some("064320004004"),
                "Rathaus",
            ),
            authority(
                "au",
                AuthorityKind::Gemeinde,
                Some("064320002002"),
                "Hauptstraße 3, 64391 au",
            ),
        ]);
        assert_eq!(
            list,
            [
                ("064320002002", "au", "Behörde au", Some("64391")),
                ("064320004004", "Behörde ohne-ort", "Behörde ohne-ort", None),
                ("064320003003", "Zell", "Behörde zell", Some("64399")),
            ]
            .map(|(ars, name, authority, code)| MunicipalityDto {
                ars: ars.into(),
                name: name.into(),
                authority_name: authority.into(),
                postal_code: code.map(Into::into),
            })
        );
    }

    #[test]
    fn the_repository_catalog_offers_musterstadt_with_its_buergerbuero() {
        let catalog = Catalog::from_dir(CATALOG_DIR).expect("repository catalog");
        let list = municipalities_of(&catalog.authorities);
        let musterstadt = list
            .iter()
            .find(|m| m.name == "Musterstadt")
            .expect("Musterstadt listed");
        assert_eq!(musterstadt.ars, "064320001001");
        assert_eq!(musterstadt.postal_code.as_deref(), Some("64390"));
        assert_eq!(
            musterstadt.authority_name,
            "Gemeinde Musterstadt – Bürgerbüro"
        );
        assert!(list.iter().all(|m| m.ars.len() == MUNICIPALITY_ARS_DIGITS));
    }
}

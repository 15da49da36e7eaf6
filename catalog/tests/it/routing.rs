//! Routing over the repository catalog's demo authorities, and overrides.

use fieldkit_catalog::routing::route;
use fieldkit_catalog::{CatalogError, RoutingRule};
use sync_protocol::ids::{Ars, AuthorityId, FormId};

use crate::repo_catalog;

const MUSTERSTADT: &str = "064320001001";
const BEISPIELHEIM: &str = "064320002002";

fn ars(s: &str) -> Ars {
    Ars::parse(s).expect("valid ARS")
}

fn ids(r: &fieldkit_catalog::routing::Route) -> (&str, &str, &str) {
    (
        r.receiving.as_str(),
        r.deciding.as_str(),
        r.handling.as_str(),
    )
}

#[test]
fn a_registration_stays_with_the_municipality_of_the_residence() {
    let c = repo_catalog();
    let r = route(&c, "anmeldung", &ars(BEISPIELHEIM)).expect("routes");
    assert_eq!(
        ids(&r),
        (
            "gemeinde-beispielheim",
            "gemeinde-beispielheim",
            "gemeinde-beispielheim"
        )
    );
}

#[test]
fn a_driving_licence_taken_by_a_municipality_is_decided_and_handled_by_its_county() {
    let c = repo_catalog();
    let r = route(&c, "fahrerlaubnis-ersterteilung", &ars(MUSTERSTADT)).expect("routes");
    assert_eq!(
        ids(&r),
        (
            "gemeinde-musterstadt",
            "landkreis-musterkreis",
            "landkreis-musterkreis"
        )
    );
}

#[test]
fn a_certificate_of_conduct_is_received_and_handled_by_the_municipality_and_decided_federally() {
    let c = repo_catalog();
    let r = route(&c, "fuehrungszeugnis", &ars(BEISPIELHEIM)).expect("routes");
    assert_eq!(
        ids(&r),
        (
            "gemeinde-beispielheim",
            "bundesamt-fuer-justiz",
            "gemeinde-beispielheim"
        )
    );
}

#[test]
fn a_residence_outside_every_authority_is_an_error_not_a_guess() {
    let c = repo_catalog();
    let munich = ars("091620000000");
    assert!(matches!(
        route(&c, "anmeldung", &munich),
        Err(CatalogError::NoAuthority { .. })
    ));
    // A federal office covers everywhere, but the receiving municipality is still missing.
    assert!(matches!(
        route(&c, "fuehrungszeugnis", &munich),
        Err(CatalogError::NoAuthority { .. })
    ));
}

#[test]
fn passports_and_id_cards_are_refused_with_the_legal_reason() {
    let c = repo_catalog();
    for service in ["personalausweis", "reisepass"] {
        match route(&c, service, &ars(MUSTERSTADT)) {
            Err(CatalogError::NotAvailableOffline { reason, .. }) => {
                assert!(
                    reason.contains("PAuswV") || reason.contains("PassV"),
                    "{service}: {reason}"
                );
            }
            other => panic!("{service}: {other:?}"),
        }
    }
    assert!(matches!(
        route(&c, "no-such-service", &ars(MUSTERSTADT)),
        Err(CatalogError::UnknownService(_))
    ));
}

#[test]
fn an_override_rule_wins_for_residences_under_its_prefix_only() {
    let mut c = repo_catalog();
    c.routing.push(RoutingRule {
        service: FormId::parse("fahrerlaubnis-ersterteilung").expect("id"),
        ars_prefix: "0643200020".into(),
        receiving: Some(AuthorityId::parse("landkreis-musterkreis").expect("id")),
        deciding: None,
        note: "test: Land law designates the county as receiving office".into(),
    });
    let r = route(&c, "fahrerlaubnis-ersterteilung", &ars(BEISPIELHEIM)).expect("routes");
    assert_eq!(
        ids(&r),
        (
            "landkreis-musterkreis",
            "landkreis-musterkreis",
            "landkreis-musterkreis"
        )
    );
    let r = route(&c, "fahrerlaubnis-ersterteilung", &ars(MUSTERSTADT)).expect("routes");
    assert_eq!(r.receiving.as_str(), "gemeinde-musterstadt");
}

//! What a draft or a finalized record says on its printout, read from the store and the
//! installed catalog: [`Session::printout`]. A draft has its form data; a record's data
//! is sealed to the authority at finalize (the draft is deleted in the same
//! transaction), so its printout confirms the capture with case number and verification
//! code and says why the data is not on it.

use chrono::{Local, NaiveDate};
use rusqlite::OptionalExtension;
use serde_json::Value;

use super::content::{german_date, sections};
use super::{render, Printout, Signature, Table};
use crate::kit::Session;
use crate::KitError;

/// What the caller adds to a printout.
#[derive(Debug, Clone, Default)]
pub struct PrintoutOptions {
    /// Place of signature (default: the city of the form's new or current address).
    pub place: Option<String>,
    /// The citizen's signature as PNG (the app's signature pad), if captured.
    pub signature_png: Option<Vec<u8>>,
    /// Date of signature (default: today).
    pub date: Option<NaiveDate>,
}

const SIGNATURE_ALT: &str = "Unterschrift der antragstellenden Person";
const NOT_YET: &str = "wird beim Abschluss vergeben";

impl Session {
    /// The printout of a draft (by draft id) or of a finalized record (by record id or
    /// case number) as PDF/A-3a + PDF/UA-1 bytes. Nothing is stored.
    ///
    /// # Errors
    /// [`KitError::NotFound`] when no draft or record has that id; catalog errors;
    /// [`KitError::Printout`] when the document would not conform (a character outside
    /// DIN 91379 in a draft, an unreadable signature image).
    pub fn printout(&mut self, id: &str, options: &PrintoutOptions) -> Result<Vec<u8>, KitError> {
        let printout = self.printout_content(id, options)?;
        Ok(render(&printout)?)
    }

    /// What [`Session::printout`] renders.
    ///
    /// # Errors
    /// As [`Session::printout`], without the rendering errors.
    pub fn printout_content(
        &mut self,
        id: &str,
        options: &PrintoutOptions,
    ) -> Result<Printout, KitError> {
        let date = options.date.unwrap_or_else(|| Local::now().date_naive());
        let draft: Option<(String, String, String, String)> = self
            .conn
            .query_row(
                "SELECT service_id, kind, data, clerk_id FROM drafts WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        match draft {
            Some((service_id, kind, data, clerk_id)) => {
                let mut data: Value =
                    serde_json::from_str(&data).map_err(|e| KitError::Corrupted(e.to_string()))?;
                fieldkit_catalog::din91379::normalize_nfc_json(&mut data);
                self.draft_printout(&service_id, &kind, &data, &clerk_id, date, options)
            }
            None => {
                let record = self.record(id).map_err(|e| match e {
                    KitError::NotFound(_) => KitError::NotFound(format!("draft or record {id}")),
                    other => other,
                })?;
                self.record_printout(&record, date, options)
            }
        }
    }

    fn clerk_name(&self, clerk_id: &str) -> Result<String, KitError> {
        Ok(self
            .clerks()?
            .into_iter()
            .find(|c| c.id.as_str() == clerk_id)
            .map_or_else(|| clerk_id.to_owned(), |c| c.name))
    }

    fn draft_printout(
        &mut self,
        service_id: &str,
        kind: &str,
        data: &Value,
        clerk_id: &str,
        date: NaiveDate,
        options: &PrintoutOptions,
    ) -> Result<Printout, KitError> {
        let clerk = self.clerk_name(clerk_id)?;
        let service = self.catalog()?.service(service_id)?.clone();
        let form = service
            .current_form(date)
            .or_else(|| service.forms.last())
            .ok_or_else(|| KitError::Conflict(format!("{service_id} has no form")))?;
        let what = match kind {
            "correction" => "Berichtigung",
            "withdrawal" => "Rücknahme",
            "supplement" => "Nachreichung",
            _ => "Antrag",
        };
        let place = options
            .place
            .clone()
            .or_else(|| city(data))
            .unwrap_or_default();
        let mut notice = vec![
            "Die Angaben wurden mit dem mobilen Bürgerbüro erfasst. Mit meiner Unterschrift \
             bestätige ich, dass sie richtig und vollständig sind."
                .to_owned(),
        ];
        if !service.legal_basis.is_empty() {
            notice.push(format!(
                "Rechtsgrundlage: {}.",
                service.legal_basis.join(", ")
            ));
        }
        Ok(Printout {
            title: format!("{what}: {}", service.name.de),
            subtitle: "Ausdruck der erfassten Daten zur Unterschrift".to_owned(),
            facts_heading: "Vorgang".to_owned(),
            facts: Table {
                header: None,
                rows: vec![
                    row("Leistung", &service.name.de),
                    row("Vorgangsnummer", NOT_YET),
                    row("Prüfcode", NOT_YET),
                    row("Erfasst von", &clerk),
                    row("Ausdruck vom", &date.format("%d.%m.%Y").to_string()),
                ],
            },
            sections: sections(&form.ui, data, "Angaben"),
            notice_heading: "Hinweise".to_owned(),
            notice,
            place_date: place_date(&place, date),
            signature: signature(options),
            signature_line: SIGNATURE_ALT.to_owned(),
            attached_data: Some(
                serde_json::to_vec_pretty(data).map_err(|e| KitError::Corrupted(e.to_string()))?,
            ),
            created: Local::now().naive_local(),
        })
    }

    fn record_printout(
        &mut self,
        record: &crate::RecordSummary,
        date: NaiveDate,
        options: &PrintoutOptions,
    ) -> Result<Printout, KitError> {
        let clerk = self.clerk_name(&record.clerk_id)?;
        let catalog = self.catalog()?;
        let service = catalog.service(&record.service_id)?.name.de.clone();
        let authority = catalog.authority(&record.authority_id).map_or_else(
            || record.authority_id.clone(),
            |a| format!("{}, {}", a.name, a.address),
        );
        let finalized = record
            .finalized_at
            .get(..10)
            .map_or_else(|| record.finalized_at.clone(), german_date);
        Ok(Printout {
            title: format!("Erfassungsbestätigung: {service}"),
            subtitle: "Bestätigung über den im mobilen Bürgerbüro aufgenommenen Antrag".to_owned(),
            facts_heading: "Vorgang".to_owned(),
            facts: Table {
                header: None,
                rows: [
                    Some(row("Leistung", &service)),
                    record
                        .display_label
                        .as_deref()
                        .map(|l| row("Antrag für", l)),
                    Some(row("Vorgangsnummer", &record.case_number)),
                    Some(row("Prüfcode", &record.verification_code)),
                    Some(row("Zuständige Behörde", &authority)),
                    Some(row("Erfasst von", &clerk)),
                    Some(row("Tag des Besuchs", &german_date(&record.visit_date))),
                    Some(row("Abgeschlossen am", &finalized)),
                ]
                .into_iter()
                .flatten()
                .collect(),
            },
            sections: Vec::new(),
            notice_heading: "Hinweise".to_owned(),
            notice: vec![
                "Die erfassten Angaben wurden beim Abschluss verschlüsselt und können nur von der \
                 zuständigen Behörde gelesen werden; dieses Gerät kann sie nicht mehr anzeigen."
                    .to_owned(),
                "Mit Vorgangsnummer und Prüfcode findet die Behörde Ihren Antrag; der Prüfcode \
                 bestätigt, dass diese Bestätigung zu ihm gehört."
                    .to_owned(),
            ],
            place_date: place_date(&options.place.clone().unwrap_or_default(), date),
            signature: signature(options),
            signature_line: SIGNATURE_ALT.to_owned(),
            attached_data: None,
            created: Local::now().naive_local(),
        })
    }
}

fn row(label: &str, value: &str) -> Vec<String> {
    vec![label.to_owned(), value.to_owned()]
}

fn signature(options: &PrintoutOptions) -> Option<Signature> {
    options.signature_png.clone().map(|png| Signature {
        png,
        alt_text: SIGNATURE_ALT.to_owned(),
    })
}

fn place_date(place: &str, date: NaiveDate) -> String {
    let date = date.format("%d.%m.%Y");
    if place.trim().is_empty() {
        format!("Ort, Datum: ______________________, {date}")
    } else {
        format!("Ort, Datum: {}, {date}", place.trim())
    }
}

/// The place the app suggests: the city of the new address, else of the address.
fn city(data: &Value) -> Option<String> {
    ["/new_address/city", "/address/city"]
        .iter()
        .find_map(|p| data.pointer(p).and_then(Value::as_str))
        .map(str::to_owned)
}

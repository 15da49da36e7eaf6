//! The fixed texts of the case-work pages (assignment, attachments, clerk and
//! assignment filters, exports) in German and English; kept apart from
//! [`super::i18n::Texts`] so that each part of the back office owns its texts. Every
//! text is a field, so a missing translation does not compile.

use super::i18n::Lang;

/// Case-work texts.
#[derive(Debug)]
#[allow(missing_docs)] // the field names say what each text is for
pub struct CaseworkTexts {
    pub file: &'static str,
    pub download: &'static str,
    pub preview_of: &'static str,
    pub assignment: &'static str,
    pub assigned_to: &'static str,
    pub assign_to: &'static str,
    pub assign: &'static str,
    pub clerk: &'static str,
    pub clerk_hint: &'static str,
    pub assigned_filter: &'static str,
    pub assigned_any: &'static str,
    pub assigned_me: &'static str,
    pub assigned_nobody: &'static str,
    pub export_title: &'static str,
    pub export_filtered: &'static str,
    pub export_selected: &'static str,
    pub export_note: &'static str,
    pub select: &'static str,
    pub select_case: &'static str,
    pub csv: &'static str,
    pub json: &'static str,
    pub fitconnect: &'static str,
    pub find_legend: &'static str,
    pub code: &'static str,
    pub code_hint: &'static str,
    pub find: &'static str,
    pub code_invalid: &'static str,
    pub code_not_found: &'static str,
    pub case_number: &'static str,
    pub verification_code: &'static str,
}

const DE: CaseworkTexts = CaseworkTexts {
    file: "Datei",
    download: "Herunterladen",
    preview_of: "Vorschau von",
    assignment: "Zuweisung",
    assigned_to: "Zugewiesen an",
    assign_to: "Zuweisen an",
    assign: "Zuweisen",
    clerk: "Erfasst von (Kennung)",
    clerk_hint: "Kennung der Person am Koffer, z. B. c-mueller",
    assigned_filter: "Zuweisung",
    assigned_any: "alle",
    assigned_me: "mir zugewiesen",
    assigned_nobody: "nicht zugewiesen",
    export_title: "Export",
    export_filtered: "Alle Vorgänge dieses Filters exportieren",
    export_selected: "Ausgewählte exportieren",
    export_note:
        "Jeder exportierte Vorgang wird entschlüsselt und im Entschlüsselungsprotokoll vermerkt.",
    select: "Auswahl",
    select_case: "Vorgang auswählen",
    csv: "CSV",
    json: "JSON",
    fitconnect: "FIT-Connect-Metadaten (NDJSON)",
    find_legend: "Fall finden",
    code: "Vorgangsnummer oder Prüfcode",
    code_hint: "wie auf dem Koffer oder der Empfangsbestätigung, z. B. K7F3Q-000042 oder ABCD-EFGH",
    find: "Finden",
    code_invalid: "weder eine Vorgangsnummer (K7F3Q-000042) noch ein Prüfcode (ABCD-EFGH)",
    code_not_found: "Kein Fall Ihrer Behörde hat diese Nummer bzw. diesen Code",
    case_number: "Vorgangsnummer",
    verification_code: "Prüfcode",
};

const EN: CaseworkTexts = CaseworkTexts {
    file: "File",
    download: "Download",
    preview_of: "Preview of",
    assignment: "Assignment",
    assigned_to: "Assigned to",
    assign_to: "Assign to",
    assign: "Assign",
    clerk: "Captured by (clerk id)",
    clerk_hint: "The id of the person at the kit, e.g. c-mueller",
    assigned_filter: "Assignment",
    assigned_any: "all",
    assigned_me: "assigned to me",
    assigned_nobody: "unassigned",
    export_title: "Export",
    export_filtered: "Export all cases of this filter",
    export_selected: "Export selected",
    export_note: "Every exported case is decrypted and noted in the decryption log.",
    select: "Select",
    select_case: "Select case",
    csv: "CSV",
    json: "JSON",
    fitconnect: "FIT-Connect metadata (NDJSON)",
    find_legend: "Find a case",
    code: "Case number or verification code",
    code_hint: "as on the kit or the citizen's receipt, e.g. K7F3Q-000042 or ABCD-EFGH",
    find: "Find",
    code_invalid: "neither a case number (K7F3Q-000042) nor a verification code (ABCD-EFGH)",
    code_not_found: "No case of your authority has this number or code",
    case_number: "Case number",
    verification_code: "Verification code",
};

/// The case-work texts of `lang`.
pub fn texts(lang: Lang) -> &'static CaseworkTexts {
    match lang {
        Lang::De => &DE,
        Lang::En => &EN,
    }
}

//! The back office's two languages: German (the default) and English. A page's language
//! comes from `?lang=de|en` (which also sets a cookie), else the `fieldkit-lang`
//! cookie, else German. Every fixed text of the pages is a field of [`Texts`], so a
//! missing translation is a compile error, not a blank on screen.

use sync_protocol::api::CaseStatus;

use crate::storage::Role;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Deutsch.
    #[default]
    De,
    /// English.
    En,
}

impl Lang {
    /// `de` or `en` (the `lang` attribute and the parameter value).
    pub fn code(self) -> &'static str {
        match self {
            Self::De => "de",
            Self::En => "en",
        }
    }

    /// Parses `de` / `en`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "de" => Some(Self::De),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The texts of this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::De => &DE,
            Self::En => &EN,
        }
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Self {
        match self {
            Self::De => Self::En,
            Self::En => Self::De,
        }
    }

    /// A case status for people.
    pub fn status(self, s: CaseStatus) -> &'static str {
        let (de, en) = match s {
            CaseStatus::Received => ("Eingegangen", "Received"),
            CaseStatus::InReview => ("In Bearbeitung", "In review"),
            CaseStatus::NeedsInformation => ("Rückfrage", "Needs information"),
            CaseStatus::Approved => ("Genehmigt", "Approved"),
            CaseStatus::Rejected => ("Abgelehnt", "Rejected"),
            CaseStatus::Completed => ("Abgeschlossen", "Completed"),
        };
        self.pick(de, en)
    }

    /// A role for people.
    pub fn role(self, r: Role) -> &'static str {
        let (de, en) = match r {
            Role::Reviewer => ("Sachbearbeitung", "Reviewer"),
            Role::AuthorityAdmin => ("Behördenadministration", "Authority administrator"),
            Role::ItOperator => ("IT-Betrieb", "IT operator"),
            Role::Auditor => ("Revision", "Auditor"),
        };
        self.pick(de, en)
    }

    /// `de` in German, `en` in English.
    pub fn pick<'a>(self, de: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::De => de,
            Self::En => en,
        }
    }
}

/// Every fixed text of the back-office pages.
#[derive(Debug)]
#[allow(missing_docs)] // the field names say what each text is for
pub struct Texts {
    pub app_name: &'static str,
    pub skip_link: &'static str,
    pub other_language: &'static str,
    pub nav_label: &'static str,
    pub nav_home: &'static str,
    /// Navigation: the own password.
    pub nav_password: &'static str,
    pub nav_inbox: &'static str,
    pub logout: &'static str,
    pub login_title: &'static str,
    pub login_label: &'static str,
    pub password_label: &'static str,
    pub login_button: &'static str,
    pub login_failed: &'static str,
    pub login_locked: &'static str,
    /// Every password-check slot is busy (503).
    pub login_busy: &'static str,
    pub home_title: &'static str,
    pub signed_in_as: &'static str,
    pub role: &'static str,
    pub authority: &'static str,
    pub no_case_access: &'static str,
    pub inbox_title: &'static str,
    pub filter_legend: &'static str,
    pub service: &'static str,
    pub status: &'static str,
    pub kit: &'static str,
    pub kit_hint: &'static str,
    pub received_from: &'static str,
    pub received_to: &'static str,
    pub date_hint: &'static str,
    pub sort: &'static str,
    pub oldest_first: &'static str,
    pub newest_first: &'static str,
    pub all: &'static str,
    pub apply_filter: &'static str,
    pub counts_title: &'static str,
    pub cases_caption: &'static str,
    pub received_at: &'static str,
    pub case: &'static str,
    pub no_cases: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub case_title: &'static str,
    pub evidence: &'static str,
    pub signature: &'static str,
    pub signature_ok: &'static str,
    pub signature_bad: &'static str,
    pub signature_note: &'static str,
    pub receipt: &'static str,
    pub receipt_ok: &'static str,
    pub receipt_bad: &'static str,
    pub chain_position: &'static str,
    pub log_position: &'static str,
    pub device_time: &'static str,
    pub server_time: &'static str,
    pub clock_skew: &'static str,
    pub visit_date: &'static str,
    pub form_data: &'static str,
    pub form_unavailable: &'static str,
    pub attachments: &'static str,
    pub no_attachments: &'static str,
    pub attachment_download_later: &'static str,
    pub purpose: &'static str,
    pub media_type: &'static str,
    pub size: &'static str,
    pub history: &'static str,
    pub no_history: &'static str,
    pub actor: &'static str,
    pub time: &'static str,
    pub comment: &'static str,
    pub transition_legend: &'static str,
    pub new_status: &'static str,
    pub comment_hint: &'static str,
    pub save: &'static str,
    pub no_transition: &'static str,
    pub error_title: &'static str,
    pub back_home: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub entry: &'static str,
}

const DE: Texts = Texts {
    app_name: "Fieldkit Backoffice",
    skip_link: "Zum Inhalt springen",
    other_language: "English",
    nav_label: "Hauptnavigation",
    nav_home: "Start",
    nav_password: "Passwort ändern",
    nav_inbox: "Posteingang",
    logout: "Abmelden",
    login_title: "Anmeldung",
    login_label: "Kennung",
    password_label: "Passwort",
    login_button: "Anmelden",
    login_failed: "Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Kennung und Passwort.",
    login_locked: "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie, bevor Sie es erneut versuchen.",
    login_busy: "Gerade melden sich sehr viele gleichzeitig an. Bitte versuchen Sie es in einigen Sekunden erneut.",
    home_title: "Übersicht",
    signed_in_as: "Angemeldet als",
    role: "Rolle",
    authority: "Behörde",
    no_case_access: "Ihre Rolle hat keinen Zugriff auf Vorgänge. Die Seiten Ihrer Rolle finden Sie in der Navigation.",
    inbox_title: "Posteingang",
    filter_legend: "Vorgänge filtern",
    service: "Leistung",
    status: "Status",
    kit: "Koffer-ID",
    kit_hint: "Optional, z. B. 0190f5c2-9a7b-7cc1-8d11-3f0a6b2e4c55",
    received_from: "Eingang ab",
    received_to: "Eingang bis",
    date_hint: "Format TT.MM.JJJJ, Ortszeit Berlin",
    sort: "Sortierung",
    oldest_first: "Älteste zuerst",
    newest_first: "Neueste zuerst",
    all: "Alle",
    apply_filter: "Filter anwenden",
    counts_title: "Anzahl nach Status",
    cases_caption: "Vorgänge",
    received_at: "Eingang (Server)",
    case: "Vorgang",
    no_cases: "Keine Vorgänge für diesen Filter.",
    next_page: "Nächste Seite",
    first_page: "Erste Seite",
    case_title: "Vorgang",
    evidence: "Nachweise",
    signature: "Signatur des Koffers",
    signature_ok: "gültig",
    signature_bad: "UNGÜLTIG – Daten werden nicht angezeigt",
    signature_note: "Die Koffersignatur belegt Herkunft und Unversehrtheit; sie ist keine qualifizierte elektronische Signatur.",
    receipt: "Empfangsbestätigung",
    receipt_ok: "vom Server signiert, gültig",
    receipt_bad: "fehlt oder ungültig",
    chain_position: "Position in der Kette des Koffers",
    log_position: "Protokollposition",
    device_time: "Gerätezeit (Angabe des Koffers)",
    server_time: "Eingang beim Server (maßgeblich)",
    clock_skew: "Abweichung Gerät – Server",
    visit_date: "Besuchsdatum",
    form_data: "Angaben",
    form_unavailable: "Das Formular dieser Version ist im Katalog nicht verfügbar; die Angaben können nicht beschriftet werden.",
    attachments: "Anlagen",
    no_attachments: "Keine Anlagen.",
    attachment_download_later: "Das Herunterladen von Anlagen folgt in einer späteren Version.",
    purpose: "Zweck",
    media_type: "Dateityp",
    size: "Größe (Bytes)",
    history: "Verlauf",
    no_history: "Noch keine Statusänderungen.",
    actor: "Person",
    time: "Zeit",
    comment: "Kommentar",
    transition_legend: "Status ändern",
    new_status: "Neuer Status",
    comment_hint: "Höchstens 1000 Zeichen. Bei Rückfrage und Ablehnung erforderlich. Der Kommentar geht an den Koffer – keine personenbezogenen Daten.",
    save: "Speichern",
    no_transition: "Für diesen Status ist keine weitere Änderung vorgesehen.",
    error_title: "Fehler",
    back_home: "Zur Übersicht",
    yes: "ja",
    no: "nein",
    entry: "Eintrag",
};

const EN: Texts = Texts {
    app_name: "Fieldkit back office",
    skip_link: "Skip to content",
    other_language: "Deutsch",
    nav_label: "Main navigation",
    nav_home: "Home",
    nav_password: "Change password",
    nav_inbox: "Inbox",
    logout: "Log out",
    login_title: "Log in",
    login_label: "Login",
    password_label: "Password",
    login_button: "Log in",
    login_failed: "Login failed. Please check your login and password.",
    login_locked: "Too many failed login attempts. Please wait before trying again.",
    login_busy: "Very many logins are under way right now. Please try again in a few seconds.",
    home_title: "Overview",
    signed_in_as: "Signed in as",
    role: "Role",
    authority: "Authority",
    no_case_access: "Your role has no access to cases. The pages of your role are in the navigation.",
    inbox_title: "Inbox",
    filter_legend: "Filter cases",
    service: "Service",
    status: "Status",
    kit: "Kit id",
    kit_hint: "Optional, e.g. 0190f5c2-9a7b-7cc1-8d11-3f0a6b2e4c55",
    received_from: "Received from",
    received_to: "Received until",
    date_hint: "Format DD.MM.YYYY, Berlin time",
    sort: "Sort order",
    oldest_first: "Oldest first",
    newest_first: "Newest first",
    all: "All",
    apply_filter: "Apply filter",
    counts_title: "Cases per status",
    cases_caption: "Cases",
    received_at: "Received (server)",
    case: "Case",
    no_cases: "No cases match this filter.",
    next_page: "Next page",
    first_page: "First page",
    case_title: "Case",
    evidence: "Evidence",
    signature: "Kit signature",
    signature_ok: "valid",
    signature_bad: "INVALID – data is not shown",
    signature_note: "The kit signature proves origin and integrity; it is not a qualified electronic signature.",
    receipt: "Receipt",
    receipt_ok: "signed by the server, valid",
    receipt_bad: "missing or invalid",
    chain_position: "Position in the kit's chain",
    log_position: "Log position",
    device_time: "Device time (claimed by the kit)",
    server_time: "Received by the server (authoritative)",
    clock_skew: "Device – server difference",
    visit_date: "Visit date",
    form_data: "Application data",
    form_unavailable: "This form version is not in the catalog; the data cannot be labelled.",
    attachments: "Attachments",
    no_attachments: "No attachments.",
    attachment_download_later: "Downloading attachments follows in a later version.",
    purpose: "Purpose",
    media_type: "Media type",
    size: "Size (bytes)",
    history: "History",
    no_history: "No status changes yet.",
    actor: "Person",
    time: "Time",
    comment: "Comment",
    transition_legend: "Change status",
    new_status: "New status",
    comment_hint: "At most 1000 characters. Required for needs information and rejected. The comment goes to the kit – no personal data.",
    save: "Save",
    no_transition: "No further change is foreseen for this status.",
    error_title: "Error",
    back_home: "Back to the overview",
    yes: "yes",
    no: "no",
    entry: "Entry",
};

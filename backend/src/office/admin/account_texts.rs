//! The texts of role changes, the four-eyes queue and the notices about other admins'
//! user changes, German first, English second.

use crate::office::i18n::Lang;

/// Labels of the account pages (users page additions, role change, confirmations).
#[derive(Debug)]
pub struct AccountTexts {
    /// Link and heading: change a role.
    pub role_change: &'static str,
    /// Label of the role select.
    pub new_role: &'static str,
    /// Submit (applies at once).
    pub role_button: &'static str,
    /// Submit under the four-eyes rule.
    pub submit_for_confirmation: &'static str,
    /// One may not change one's own role.
    pub role_own: &'static str,
    /// The role is already the user's.
    pub role_same: &'static str,
    /// What the four-eyes rule does.
    pub four_eyes_on: &'static str,
    /// Heading of the pending changes.
    pub pending_caption: &'static str,
    /// Column.
    pub change: &'static str,
    /// Column.
    pub requested_by: &'static str,
    /// Column.
    pub requested_at: &'static str,
    /// Button.
    pub confirm: &'static str,
    /// Button.
    pub withdraw: &'static str,
    /// Instead of the confirm button on one's own request.
    pub own_request: &'static str,
    /// Heading of the notices.
    pub notices_caption: &'static str,
    /// The answer to an addition that waits for a second admin.
    pub created_pending: &'static str,
    /// What an initial password allows.
    pub first_login_only: &'static str,
    /// A change: add as …
    pub add_as: &'static str,
    /// A change: role becomes …
    pub role_to: &'static str,
    /// Confirming one's own request.
    pub confirm_own: &'static str,
    /// A change that cannot be applied any more.
    pub stale: &'static str,
    /// The start page's pointer to the notices.
    pub home_notice: &'static str,
    /// The start page's pointer to changes waiting for confirmation.
    pub home_pending: &'static str,
    /// Link to the users page.
    pub to_users: &'static str,
}

impl AccountTexts {
    /// The texts of `lang`.
    pub fn of(lang: Lang) -> &'static Self {
        match lang {
            Lang::De => &DE,
            Lang::En => &EN,
        }
    }
}

static DE: AccountTexts = AccountTexts {
    role_change: "Rolle ändern",
    new_role: "Neue Rolle",
    role_button: "Rolle ändern",
    submit_for_confirmation: "Zur Bestätigung vorlegen",
    role_own: "Sie können Ihre eigene Rolle nicht ändern.",
    role_same: "Der Benutzer hat diese Rolle bereits.",
    four_eyes_on: "Vier-Augen-Regel: Neue Sachbearbeiter und Administratoren sowie \
                   Rollenänderungen werden erst wirksam, wenn ein zweiter Administrator \
                   Ihrer Behörde sie bestätigt.",
    pending_caption: "Warten auf Bestätigung",
    change: "Änderung",
    requested_by: "Beantragt von",
    requested_at: "Beantragt am",
    confirm: "Bestätigen",
    withdraw: "Zurückziehen",
    own_request: "Ihr Antrag – ein anderer Administrator muss bestätigen",
    notices_caption: "Rechteänderungen durch andere (letzte 30 Tage)",
    created_pending: "Der Benutzer wird erst angelegt, wenn ein zweiter Administrator \
                      bestätigt. Geben Sie das Passwort erst danach weiter.",
    first_login_only: "Dieses Passwort erlaubt nur, bei der ersten Anmeldung ein eigenes \
                       festzulegen.",
    add_as: "Anlegen als",
    role_to: "Rolle wird",
    confirm_own: "Sie können Ihren eigenen Antrag nicht bestätigen.",
    stale: "Die Änderung lässt sich nicht mehr anwenden (Kennung inzwischen vergeben oder \
            Benutzer entfernt). Bitte ziehen Sie sie zurück.",
    home_notice: "Andere haben in den letzten 30 Tagen Benutzerrechte Ihrer Behörde geändert.",
    home_pending: "Änderungen an Benutzern warten auf die Bestätigung eines zweiten \
                   Administrators.",
    to_users: "Zur Benutzerverwaltung",
};

static EN: AccountTexts = AccountTexts {
    role_change: "Change role",
    new_role: "New role",
    role_button: "Change role",
    submit_for_confirmation: "Submit for confirmation",
    role_own: "You cannot change your own role.",
    role_same: "The user already has this role.",
    four_eyes_on: "Four-eyes rule: new reviewers and administrators and role changes take \
                   effect only when a second administrator of your authority confirms them.",
    pending_caption: "Waiting for confirmation",
    change: "Change",
    requested_by: "Requested by",
    requested_at: "Requested at",
    confirm: "Confirm",
    withdraw: "Withdraw",
    own_request: "Your request – another administrator must confirm",
    notices_caption: "Changes of rights by others (last 30 days)",
    created_pending: "The user is added only when a second administrator confirms. Hand \
                      the password on only then.",
    first_login_only: "This password only allows setting an own one at the first login.",
    add_as: "Add as",
    role_to: "Role becomes",
    confirm_own: "You cannot confirm your own request.",
    stale: "The change cannot be applied any more (the login was taken meanwhile or the \
            user is gone). Please withdraw it.",
    home_notice: "Others changed user rights of your authority in the last 30 days.",
    home_pending: "Changes of users are waiting for a second administrator's confirmation.",
    to_users: "To the user administration",
};

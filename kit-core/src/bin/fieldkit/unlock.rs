//! Getting at an unlocked session from the command line: which clerk, and their PIN
//! from `FIELDKIT_PIN` or a hidden prompt; IT's recovery secret from
//! `FIELDKIT_RECOVERY_SECRET` or a prompt.

use anyhow::{Context as _, Result};
use kit_core::{Kit, KitError, Session};
use zeroize::Zeroizing;

/// The kit folder and the clerk chosen on the command line.
pub struct Context {
    pub kit: Kit,
    pub clerk: Option<String>,
}

/// A usage problem found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn secret_from(env: &str, prompt: &str) -> Result<Zeroizing<String>> {
    if let Ok(value) = std::env::var(env) {
        return Ok(Zeroizing::new(value));
    }
    let value = rpassword::prompt_password(prompt)
        .with_context(|| format!("no {env} set and no terminal to ask for it"))?;
    Ok(Zeroizing::new(value))
}

impl Context {
    /// The clerk to unlock as: the one named, or the only one there is.
    pub fn clerk_id(&self) -> Result<String> {
        if let Some(c) = &self.clerk {
            return Ok(c.clone());
        }
        let ids = self.kit.clerk_ids()?;
        match ids.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(UsageError("this kit has no clerk yet: run `fieldkit clerk add --name NAME` with the recovery secret".into()).into()),
            _ => Err(UsageError(format!("several clerks ({}): choose one with --clerk", ids.join(", "))).into()),
        }
    }

    /// A clerk session.
    pub fn session(&self) -> Result<Session> {
        let clerk = self.clerk_id()?;
        let pin = secret_from("FIELDKIT_PIN", &format!("PIN für {clerk}: "))?;
        Ok(self.kit.unlock(&clerk, pin.as_bytes())?)
    }

    /// A session opened with the recovery secret.
    pub fn recovery_session(&self) -> Result<Session> {
        let secret = secret_from(
            "FIELDKIT_RECOVERY_SECRET",
            "Wiederherstellungsschlüssel (IT): ",
        )?;
        Ok(self.kit.unlock_recovery(&secret)?)
    }

    /// A clerk session if possible, otherwise (no clerk yet, or a recovery secret in the
    /// environment) a recovery session.
    pub fn any_session(&self) -> Result<Session> {
        let no_clerks = self.kit.clerk_ids().map(|c| c.is_empty()).unwrap_or(false);
        if no_clerks || std::env::var_os("FIELDKIT_RECOVERY_SECRET").is_some() {
            self.recovery_session()
        } else {
            self.session()
        }
    }
}

/// The PIN for a new clerk: `FIELDKIT_NEW_PIN`, or asked twice.
pub fn new_pin() -> Result<Zeroizing<String>> {
    if let Ok(pin) = std::env::var("FIELDKIT_NEW_PIN") {
        return Ok(Zeroizing::new(pin));
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("Neue PIN oder Passphrase: ")
            .context("no FIELDKIT_NEW_PIN and no terminal")?,
    );
    let second = Zeroizing::new(rpassword::prompt_password("Neue PIN wiederholen: ")?);
    if first != second {
        return Err(KitError::WeakPin("the two entries differ").into());
    }
    Ok(first)
}

/// `fieldkit fix-permissions`: folders 0700, files 0600; lists what it changed.
pub fn fix_permissions(ctx: &Context, out: &crate::output::Output) -> Result<u8> {
    if !ctx.kit.is_initialized() {
        return Err(KitError::NotInitialized(ctx.kit.home().root().display().to_string()).into());
    }
    let changed: Vec<String> = kit_core::home::make_private(ctx.kit.home().root())?
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    out.print(&serde_json::json!({ "changed": changed }), |v| {
        if changed.is_empty() {
            "Alle Rechte waren bereits nur für den Eigentümer gesetzt.".into()
        } else {
            format!(
                "Rechte auf den Eigentümer beschränkt ({} Einträge). Wer vorher Zugriff hatte, kann die Schlüsseldatei kopiert haben: PINs ändern lassen.\n{}",
                changed.len(),
                v["changed"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|p| p.as_str()).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default()
            )
        }
    });
    Ok(crate::exit::OK)
}

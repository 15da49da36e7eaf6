//! First run, enrolment, clerks, unlock and lock.

use kit_core::Provisioning;

use super::{blocking, AppState};
use crate::dto::{AppStatus, ClerkDto, EnrolInput, InitResult};
use crate::error::{AppError, ErrorKind};

/// What the UI needs to pick its screen.
#[tauri::command]
pub async fn app_status(state: AppState<'_>) -> Result<AppStatus, AppError> {
    blocking(&state, |s| s.status()).await
}

/// Creates the kit (first run) and opens IT's set-up session with the new recovery
/// secret, which is shown once.
#[tauri::command]
pub async fn init_kit(state: AppState<'_>) -> Result<InitResult, AppError> {
    blocking(&state, |s| {
        let done = s.kit().init(None)?;
        let session = s.kit().unlock_recovery(&done.recovery_secret)?;
        s.open(session)?;
        Ok(InitResult {
            recovery_secret: done.recovery_secret.to_string(),
            kit_public_key: done.kit_public_key.clone(),
        })
    })
    .await
}

/// Opens IT's set-up session with the recovery secret.
#[tauri::command]
pub async fn unlock_recovery(state: AppState<'_>, secret: String) -> Result<AppStatus, AppError> {
    if secret.trim().is_empty() {
        return Err(AppError::bad_input("no recovery secret given"));
    }
    blocking(&state, move |s| {
        let session = s.kit().unlock_recovery(&secret)?;
        s.open(session)
    })
    .await
}

/// Enrols with the backend from a provisioning file or a URL, and the one-time code.
#[tauri::command]
pub async fn enrol(state: AppState<'_>, input: EnrolInput) -> Result<AppStatus, AppError> {
    let code = input.code.trim().to_owned();
    if code.is_empty() {
        return Err(AppError::bad_input("no one-time code given"));
    }
    let provisioning = input
        .provisioning_json
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|text| {
            Provisioning::from_json(text.as_bytes()).map_err(|e| {
                AppError::new(ErrorKind::BadInput, format!("not a provisioning file: {e}"))
            })
        })
        .transpose()?;
    let url = match (&provisioning, input.backend_url.as_deref().map(str::trim)) {
        (Some(p), _) => p.backend_url.clone(),
        (None, Some(url)) if !url.is_empty() => url.to_owned(),
        _ => {
            return Err(AppError::bad_input(
                "give the provisioning file, or the backend address",
            ))
        }
    };
    let name = input
        .kit_name
        .filter(|n| !n.trim().is_empty())
        .or_else(|| provisioning.as_ref().map(|p| p.kit_name.clone()))
        .unwrap_or_else(|| "Fieldkit-Kit".to_owned());
    blocking(&state, move |s| {
        let backend = kit_core::net::Backend::new(
            &url,
            provisioning.as_ref().and_then(|p| p.tls_pin.as_ref()),
        )?;
        s.with_session(|session| {
            session.enrol(
                &backend,
                &url,
                &code,
                &name,
                provisioning.as_ref().map(|p| p.server_keys.as_slice()),
            )
        })?;
        s.status()
    })
    .await
}

/// Adds a clerk with a PIN (IT set-up session, or a clerk adding a colleague).
#[tauri::command]
pub async fn add_clerk(
    state: AppState<'_>,
    name: String,
    pin: String,
) -> Result<ClerkDto, AppError> {
    if name.trim().is_empty() {
        return Err(AppError::bad_input("no name given"));
    }
    blocking(&state, move |s| {
        let clerk = s.with_session(|session| session.add_clerk(name.trim(), pin.as_bytes()))?;
        Ok(ClerkDto {
            id: clerk.id.to_string(),
            name: clerk.name,
        })
    })
    .await
}

/// Unlocks as a clerk; starts auto-sync when the kit is enrolled.
#[tauri::command]
pub async fn unlock(
    state: AppState<'_>,
    clerk_id: String,
    pin: String,
) -> Result<AppStatus, AppError> {
    blocking(&state, move |s| {
        let session = s.kit().unlock(&clerk_id, pin.as_bytes())?;
        s.open(session)
    })
    .await
}

/// Locks: stops auto-sync, drops the session and its key.
#[tauri::command]
pub async fn lock(state: AppState<'_>) -> Result<AppStatus, AppError> {
    blocking(&state, |s| {
        s.lock();
        s.status()
    })
    .await
}

/// User activity: postpones the idle lock.
#[tauri::command]
pub fn touch(state: AppState<'_>) {
    state.touch();
}

/// The UI's first screen is up. With `FIELDKIT_READY_FILE` set (the start-up benchmark),
/// the file is written once so that a watcher outside sees the moment.
#[tauri::command]
pub fn ui_ready() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Some(path) = std::env::var_os("FIELDKIT_READY_FILE") {
            let _ = std::fs::write(path, b"ready\n");
        }
    });
}

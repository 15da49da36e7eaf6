//! The Tauri commands: each one argument-checks, calls `kit-core` through the shared
//! state on a blocking thread (Argon2 unlocks, fsyncs and network calls must not stall
//! the window), and converts the answer into a DTO. No business logic lives here.

use std::sync::Arc;

use crate::error::{AppError, ErrorKind};
use crate::state::Shared;

pub mod capture;
pub mod places;
pub mod queue;
pub mod setup;

/// The managed state as commands receive it.
pub type AppState<'a> = tauri::State<'a, Arc<Shared>>;

/// Runs `f` on Tauri's blocking pool.
async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&Arc<Shared>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let shared = Arc::clone(shared);
    tauri::async_runtime::spawn_blocking(move || f(&shared))
        .await
        .map_err(|e| AppError::new(ErrorKind::Internal, e.to_string()))?
}

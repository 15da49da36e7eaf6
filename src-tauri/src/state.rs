//! The app's state between commands: the kit folder, the open session (at most one),
//! the auto-sync loop that runs while a clerk is signed in, and the idle auto-lock.
//! Locking drops the session, which drops the database key from memory; drafts are
//! already saved, so a lock never loses work.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use kit_core::sync::auto::{AutoSync, AutoSyncOptions};
use kit_core::{Kit, KitError, Session};

use crate::dto::{AppStatus, ClerkDto, EnrolmentDto, UnlockedDto};
use crate::error::{AppError, ErrorKind};
use crate::events::{self, ConnectivityDto, Emit};

/// How the app behaves; from the environment in [`crate::run`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lock after this long without user activity.
    pub idle_lock: Duration,
    /// Auto-sync's pacing.
    pub auto_sync: AutoSyncOptions,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            idle_lock: Duration::from_secs(5 * 60),
            auto_sync: AutoSyncOptions::default(),
        }
    }
}

/// Everything the commands share.
pub struct Shared {
    kit: Kit,
    settings: Settings,
    session: Mutex<Option<Session>>,
    auto: Mutex<Option<AutoSync>>,
    last_activity: Mutex<Instant>,
    connectivity: Mutex<ConnectivityDto>,
    emit: Emit,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind, still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// State for the kit folder `kit`, sending events through `emit`.
    pub fn new(kit: Kit, settings: Settings, emit: Emit) -> Arc<Self> {
        Arc::new(Self {
            kit,
            settings,
            session: Mutex::new(None),
            auto: Mutex::new(None),
            last_activity: Mutex::new(Instant::now()),
            connectivity: Mutex::new(ConnectivityDto::default()),
            emit,
        })
    }

    /// The kit folder.
    pub fn kit(&self) -> &Kit {
        &self.kit
    }

    /// Records user activity (postpones the idle lock).
    pub fn touch(&self) {
        *guard(&self.last_activity) = Instant::now();
    }

    /// Runs `f` with the open session.
    ///
    /// # Errors
    /// [`ErrorKind::Locked`] without one; whatever `f` returns.
    pub fn with_session<T>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, KitError>,
    ) -> Result<T, AppError> {
        self.touch();
        let mut session = guard(&self.session);
        let session = session.as_mut().ok_or_else(AppError::locked)?;
        Ok(f(session)?)
    }

    /// Opens `session` (replacing any other) and, for an enrolled clerk, starts
    /// auto-sync with a session of its own.
    pub fn open(self: &Arc<Self>, session: Session) -> Result<AppStatus, AppError> {
        self.stop_auto_sync();
        let auto = if session.clerk().is_some() && session.enrolment()?.is_some() {
            Some(self.spawn_auto_sync(&session)?)
        } else {
            None
        };
        *guard(&self.session) = Some(session);
        *guard(&self.auto) = auto;
        self.touch();
        self.status()
    }

    fn spawn_auto_sync(self: &Arc<Self>, session: &Session) -> Result<AutoSync, AppError> {
        let backend = session.backend()?;
        let own = session.reopen()?;
        let weak: Weak<Self> = Arc::downgrade(self);
        Ok(AutoSync::spawn(
            own,
            backend,
            self.settings.auto_sync.clone(),
            move |event| {
                let Some(shared) = weak.upgrade() else { return };
                let (connectivity, forward) = {
                    let mut state = guard(&shared.connectivity);
                    let forward = events::fold(&mut state, event);
                    (state.clone(), forward)
                };
                if let Some(forward) = forward {
                    shared.send(events::SYNC_EVENT, &forward);
                }
                shared.send(events::CONNECTIVITY_EVENT, &connectivity);
                if matches!(event, kit_core::sync::auto::AutoSyncEvent::Wiped) {
                    // The keys are gone; the clerk's session is useless now. The loop
                    // ends by itself, so only the session is dropped here.
                    guard(&shared.session).take();
                    shared.send(events::LOCKED_EVENT, &serde_json::Value::Null);
                }
            },
        ))
    }

    fn send(&self, name: &'static str, payload: &impl serde::Serialize) {
        if let Ok(value) = serde_json::to_value(payload) {
            (self.emit)(name, value);
        }
    }

    /// Asks auto-sync to run now.
    ///
    /// # Errors
    /// [`ErrorKind::Locked`] without a session, [`ErrorKind::NotEnrolled`] when no
    /// auto-sync runs (IT set-up session, or not enrolled).
    pub fn sync_now(&self) -> Result<(), AppError> {
        self.touch();
        if guard(&self.session).is_none() {
            return Err(AppError::locked());
        }
        match guard(&self.auto).as_ref() {
            Some(auto) if !auto.is_finished() => {
                auto.sync_now();
                Ok(())
            }
            _ => Err(AppError::new(
                ErrorKind::NotEnrolled,
                "no sync for this session: enrol the kit and unlock as a clerk",
            )),
        }
    }

    /// The current connectivity.
    pub fn connectivity(&self) -> ConnectivityDto {
        guard(&self.connectivity).clone()
    }

    fn stop_auto_sync(&self) {
        // Taken out first: stopping joins the loop's thread, whose event callback
        // takes the other locks.
        let auto = guard(&self.auto).take();
        if let Some(auto) = auto {
            auto.stop();
        }
        *guard(&self.connectivity) = ConnectivityDto::default();
    }

    /// Locks: stops auto-sync and drops the session (and with it the key).
    pub fn lock(&self) {
        self.stop_auto_sync();
        guard(&self.session).take();
    }

    /// Locks if the session has been idle for the configured time; true if it did.
    pub fn lock_if_idle(&self) -> bool {
        let idle = guard(&self.last_activity).elapsed() >= self.settings.idle_lock;
        if idle && guard(&self.session).is_some() {
            self.lock();
            self.send(events::LOCKED_EVENT, &serde_json::Value::Null);
            return true;
        }
        false
    }

    /// What the UI needs to pick its screen.
    ///
    /// # Errors
    /// Key slot and store errors.
    pub fn status(&self) -> Result<AppStatus, AppError> {
        let initialized = self.kit.is_initialized();
        let clerks = if initialized {
            self.kit
                .clerk_names()?
                .into_iter()
                .map(|(id, name)| ClerkDto {
                    name: name.unwrap_or_else(|| display_name(&id)),
                    id,
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut status = AppStatus {
            initialized,
            enrolled: false,
            enrolment: None,
            clerks,
            unlocked: None,
            catalog_version: None,
            idle_lock_secs: u32::try_from(self.settings.idle_lock.as_secs()).unwrap_or(u32::MAX),
            tpm: self.kit.binds_to_tpm(),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let mut session = guard(&self.session);
        if let Some(session) = session.as_mut() {
            let names: Vec<(String, String)> = session
                .clerks()?
                .into_iter()
                .map(|c| (c.id.to_string(), c.name))
                .collect();
            for clerk in &mut status.clerks {
                if let Some((_, name)) = names.iter().find(|(id, _)| *id == clerk.id) {
                    clerk.name.clone_from(name);
                }
            }
            status.unlocked = Some(UnlockedDto {
                clerk: session.clerk().map(|id| ClerkDto {
                    id: id.to_string(),
                    name: names
                        .iter()
                        .find(|(i, _)| i == id.as_str())
                        .map_or_else(|| display_name(id.as_str()), |(_, n)| n.clone()),
                }),
            });
            status.catalog_version = session.installed_version()?;
            if let Some(e) = session.enrolment()? {
                let authority_name = session
                    .catalog()
                    .ok()
                    .and_then(|c| c.authority(e.authority_id.as_str()))
                    .map(|a| a.name.clone());
                status.enrolled = true;
                status.enrolment = Some(EnrolmentDto {
                    kit_id: e.kit_id.to_string(),
                    kit_name: e.kit_name,
                    authority_id: e.authority_id.to_string(),
                    authority_name,
                    backend_url: e.backend_url,
                });
            }
        }
        Ok(status)
    }
}

/// A readable name from a clerk id while the kit is locked (names live in the
/// encrypted store): `c-clara-mueller` → `Clara Mueller`.
pub fn display_name(id: &str) -> String {
    id.strip_prefix("c-")
        .unwrap_or(id)
        .split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Locks the session after the idle time; runs for the app's lifetime.
pub fn spawn_idle_watch(shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    let every =
        (shared.settings.idle_lock / 10).clamp(Duration::from_millis(200), Duration::from_secs(5));
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        let Some(shared) = weak.upgrade() else { return };
        shared.lock_if_idle();
    });
}

#[cfg(test)]
mod tests;

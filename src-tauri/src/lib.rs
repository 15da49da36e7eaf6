//! `fieldkit-app` is the kit's desktop app: a thin Tauri 2 layer of commands over
//! `kit-core`, and DTOs at that boundary with TypeScript types generated from Rust.
//!
//! # Boundaries
//!
//! - No business logic here: every command calls into `kit-core`.
//! - Only this crate knows Tauri; `kit-core` must stay usable without it.
//! - Never depends on `fieldkit-backend`.
//!
//! The Tauri app itself arrives with the "Kit desktop app" issue; until then this crate
//! compiles without Tauri so that the workspace builds quickly on any machine.

pub use kit_core;

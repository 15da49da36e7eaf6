//! `fieldkit-e2e` holds the workspace's end-to-end tests: a kit and a backend talking
//! over real HTTP on loopback, fault proxies, killed processes, real databases and
//! browsers. Helpers shared by those tests (and by the sync benchmarks) live in this
//! library; the tests themselves in `e2e/`. The independent Python check of the
//! protocol's test vectors lives in `python/`.
//!
//! # Helpers
//!
//! - [`fault_proxy`]: a bounded TCP proxy on loopback that injects network faults
//!   (bandwidth limit, latency, stalls, resets, truncated responses, refused connections)
//!   between a kit and the backend, with byte and reset counters.
//! - [`captive_portal`]: a fake hotel or train Wi-Fi portal that answers every HTTP
//!   request with `200 OK` and an HTML login page.
//! - [`harness`]: the backend and kit as real processes (killable, restartable), fast
//!   kit setup through the library, and the exactly-once end-state check.
//! - [`hostile`]: a bounded hostile load (unfinished bodies, header trickles, silent
//!   connections, login storms) with each connection's lifetime, and a process's peak
//!   RSS.
//!
//! # Boundaries
//!
//! Nothing in the product depends on this crate. It may depend on every product crate,
//! but drives them only through their public interfaces (CLI, HTTP, library API), never
//! through private state.

pub mod captive_portal;
pub mod fault_proxy;
pub mod harness;
pub mod hostile;

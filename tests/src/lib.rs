//! `fieldkit-e2e` holds the workspace's end-to-end tests: a kit and a backend talking
//! over real HTTP on loopback, fault proxies, killed processes, real databases and
//! browsers. Helpers shared by those tests live in this library; the tests themselves in
//! `tests/`. The independent Python check of the protocol's test vectors lives in
//! `python/`.
//!
//! # Boundaries
//!
//! Nothing in the product depends on this crate. It may depend on every product crate,
//! but drives them only through their public interfaces (CLI, HTTP, library API), never
//! through private state.

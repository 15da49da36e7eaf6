//! Integration tests of the catalog in this repository: it loads and is consistent, every
//! service's golden applications validate exactly as recorded, routing sends each
//! service to the right authority, signed bundles verify, the consistency check
//! catches the mistakes it exists for, and DIN 91379 answers the shared vectors.

mod consistency;
mod din91379;
mod golden;
mod routing;
mod signing;

use fieldkit_catalog::{Catalog, CATALOG_DIR};

/// The catalog of this repository, loaded as kit-core and the backend load it.
pub fn repo_catalog() -> Catalog {
    match Catalog::from_dir(CATALOG_DIR) {
        Ok(c) => c,
        Err(e) => panic!("the repository catalog must load: {e}"),
    }
}

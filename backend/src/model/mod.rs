//! The backend's values: what storage takes and returns and what the handlers, `ingest`,
//! `held_import` and the admin CLI pass around — authorities, users, kits, catalogs,
//! cases, the inbox, the audit trail, and a batch's view of a kit's chain. Plain data
//! and its text forms; no I/O. [`crate::storage`] depends on it, never the reverse.

pub mod audit;
pub mod authorities;
pub mod batch;
pub mod cases;
pub mod catalogs;
pub mod inbox;
pub mod kits;
pub mod users;

pub use audit::*;
pub use authorities::*;
pub use cases::*;
pub use catalogs::*;
pub use inbox::*;
pub use kits::*;
pub use users::*;

/// `as_str` (the stored and printed name strum derives), `parse` and `ALL` for the
/// plain enums stored as text (roles, kit states, flags, audit actions).
macro_rules! stored_names {
    ($($t:ty),*) => {$(
        impl $t {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

            /// The stored and printed name.
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// Parses the stored name.
            pub fn parse(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
    )*};
}
pub(crate) use stored_names;

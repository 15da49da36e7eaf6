//! The integration tests of `sync-protocol`, one binary: fixtures, the committed test
//! vectors (checked, and regenerated with `FIELDKIT_REGENERATE_VECTORS=1`), property
//! tests and a full record round trip.

mod properties;
mod round_trip;
mod support;
mod vectors;

//! The backend's integration tests, one binary (`cargo test -p fieldkit-backend --test
//! it`). Kits are built from `sync-protocol` alone (`support::kit`); backends run on a
//! temporary data folder with SQLite, and with PostgreSQL as well wherever a test says
//! so and `FIELDKIT_TEST_DATABASE_URL` is set.

mod support;

mod admin;
mod auth;
mod batch_rows;
mod blob_faults;
mod changes;
mod config;
mod conformance;
mod enrol;
mod held;
mod lifecycle;
mod limits;
mod office_accounts;
mod office_admin;
mod office_admin_audit;
mod office_admin_users;
mod office_attachment_types;
mod office_case_page;
mod office_cases;
mod office_casework;
mod office_export;
mod office_export_csv;
mod office_login;
mod office_login_throttle;
mod office_routes;
mod office_start_page;
mod ops;
mod props;
mod queue_report;
mod quotas;
mod records;
mod revocation;
mod schema;
mod server;
mod supplements;
mod uploads;
mod uploads_with_creation;

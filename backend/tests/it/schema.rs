//! The two dialects' migrations end in equivalent schemas (issue 15): the same tables
//! with the same columns, the same named indexes, and the same append-only tables.
//! What may differ is listed here, each with its reason. Needs PostgreSQL (CI provides
//! it; without `FIELDKIT_TEST_DATABASE_URL` the comparison cannot run and the test
//! says so and fails under CI).

use std::collections::{BTreeMap, BTreeSet};

use fieldkit_backend::storage::Store;

use crate::support::pg;

/// Tables only one dialect has. SQLite hands out log positions and feed cursors from a
/// `counters` row; PostgreSQL from sequences (no row lock under parallel batches).
const ONLY_SQLITE: &[&str] = &["counters"];

#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    /// Table → its column names.
    tables: BTreeMap<String, BTreeSet<String>>,
    /// Indexes created by name (not those behind primary keys and unique constraints).
    indexes: BTreeSet<String>,
    /// Tables whose rows a trigger keeps from being changed or deleted.
    append_only: BTreeSet<String>,
}

fn sqlite_shape(path: &std::path::Path) -> Shape {
    let c = rusqlite::Connection::open(path).expect("open");
    let mut shape = Shape::default();
    let objects: Vec<(String, String, String)> = c
        .prepare("SELECT type, name, tbl_name FROM sqlite_master")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (kind, name, table) in objects {
        match kind.as_str() {
            "table" if !name.starts_with("sqlite_") && !ONLY_SQLITE.contains(&name.as_str()) => {
                let columns: BTreeSet<String> = c
                    .prepare(&format!("SELECT name FROM pragma_table_info('{name}')"))
                    .expect("prepare")
                    .query_map([], |r| r.get(0))
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows");
                shape.tables.insert(name, columns);
            }
            "index" if !name.starts_with("sqlite_autoindex_") => {
                shape.indexes.insert(name);
            }
            "trigger" => {
                shape.append_only.insert(table);
            }
            _ => {}
        }
    }
    shape
}

async fn postgres_shape(url: &str, schema: &str) -> Shape {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let mut shape = Shape::default();
    for r in client
        .query(
            "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns
             WHERE table_schema = $1",
            &[&schema],
        )
        .await
        .expect("columns")
    {
        let (table, column): (String, String) = (r.get(0), r.get(1));
        shape.tables.entry(table).or_default().insert(column);
    }
    for r in client
        .query(
            "SELECT i.indexname::TEXT FROM pg_indexes i
             WHERE i.schemaname = $1 AND NOT EXISTS (
                 SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                 WHERE n.nspname = $1 AND c.conname = i.indexname)",
            &[&schema],
        )
        .await
        .expect("indexes")
    {
        shape.indexes.insert(r.get(0));
    }
    for r in client
        .query(
            "SELECT DISTINCT event_object_table::TEXT FROM information_schema.triggers
             WHERE trigger_schema = $1",
            &[&schema],
        )
        .await
        .expect("triggers")
    {
        shape.append_only.insert(r.get(0));
    }
    shape
}

#[tokio::test]
async fn both_dialects_migrate_to_the_same_tables_columns_indexes_and_append_only_tables() {
    let Ok(base) = std::env::var("FIELDKIT_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide FIELDKIT_TEST_DATABASE_URL"
        );
        eprintln!("schema comparison needs FIELDKIT_TEST_DATABASE_URL; not compared");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("schema.sqlite3");
    drop(Store::open_sqlite(&file).await.expect("sqlite migrates"));
    let schema = pg::Schema::create(&base).await;
    drop(
        Store::open_postgres(&schema.url, 1)
            .await
            .expect("postgres migrates"),
    );

    let sqlite = sqlite_shape(&file);
    let postgres = postgres_shape(&base, schema.name()).await;
    assert!(
        sqlite.tables.len() > 20,
        "the comparison sees the schema: {:?}",
        sqlite.tables.keys()
    );
    assert_eq!(sqlite.tables, postgres.tables, "tables and columns");
    assert_eq!(sqlite.indexes, postgres.indexes, "named indexes");
    assert_eq!(
        sqlite.append_only, postgres.append_only,
        "append-only tables"
    );
}

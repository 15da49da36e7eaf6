//! The whole database as rows, for backup and restore: every table that holds a fact
//! (not a derived count, a session or a throttle) is read in one snapshot transaction
//! and written as one JSON-lines file, and loaded back the same way — once for both
//! databases, so a backup of the embedded SQLite file restores into PostgreSQL too.
//!
//! A table file's first line names its columns and their kinds
//! (`{"table": "cases", "columns": [["record_id", "text"], …]}`); every other line is one
//! row, a JSON array in column order: text as a string, integers as numbers, booleans,
//! bytes as standard base64, `null`. What the file holds is checked against the target
//! schema before a row is written.

use std::io::{BufRead, Write};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use futures_util::TryStreamExt as _;
use serde_json::Value;
use sqlx::any::AnyRow;

use super::migrations::{latest, migrate, migrate_up_to};
use super::sql::{col, insert_rows, AnyQuery, Db, Target, ROWS_PER_INSERT};
use super::{Store, StoreError};
use crate::config::DatabaseUrl;

/// The tables a backup holds, parents before children (the order a restore loads them).
pub const DUMPED_TABLES: &[&str] = &[
    "authorities",
    "authority_keys",
    "server_keys",
    "users",
    "pending_user_changes",
    "kits",
    "nonces",
    "records",
    "cases",
    "case_events",
    "case_flags",
    "decryption_log",
    "fork_evidence",
    "chain_bridges",
    "attachments",
    "record_attachments",
    "catalogs",
    "changes",
    "admin_events",
];

/// The tables a backup leaves out, each for a reason: `case_counts` is rebuilt by the
/// triggers as cases load; `counters` and the sequences are set past everything loaded;
/// `schema_migrations` is the manifest's `schema_version`; sessions are credentials and
/// a restore signs everyone out; login throttles are minutes-long and start afresh.
pub const UNDUMPED_TABLES: &[&str] = &[
    "case_counts",
    "counters",
    "schema_migrations",
    "sessions",
    "login_failures",
];

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// `TEXT`.
    Text,
    /// `BIGINT` / `INTEGER`.
    Int,
    /// `BOOLEAN`.
    Bool,
    /// `BLOB` / `BYTEA`.
    Bytes,
}

/// The first line of a table file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableHeader {
    /// The table.
    pub table: String,
    /// Its columns, in row order.
    pub columns: Vec<(String, ColumnKind)>,
}

/// What was written of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpedTable {
    /// The table.
    pub table: &'static str,
    /// Its rows.
    pub rows: u64,
}

fn target(url: &DatabaseUrl) -> Target<'_> {
    match url {
        DatabaseUrl::Sqlite(path) => Target::Sqlite(path),
        DatabaseUrl::Postgres(url) => Target::Postgres(url),
    }
}

/// How many tables the open database holds.
async fn table_count(db: &Db) -> Result<i64, StoreError> {
    let row = sqlx::query(db.dialect.count_tables())
        .fetch_one(&db.pool)
        .await?;
    col(&row, 0)
}

/// Why a table file cannot be loaded.
fn bad(table: &str, line: usize, what: impl std::fmt::Display) -> StoreError {
    StoreError::Conflict(format!("{table}.jsonl line {line}: {what}"))
}

fn io(table: &str, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{table}.jsonl: {e}"))
}

/// The columns of `table` in the open database, in table order.
async fn columns(db: &Db, table: &str) -> Result<Vec<(String, ColumnKind)>, StoreError> {
    let rows = sqlx::query(db.dialect.columns_of())
        .bind(table.to_owned())
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            let (name, kind): (String, String) = (col(r, 0)?, col(r, 1)?);
            if !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(StoreError::Corrupt(format!("column name {name:?}")));
            }
            let kind = match kind.to_ascii_lowercase().as_str() {
                "text" => ColumnKind::Text,
                "bigint" | "integer" => ColumnKind::Int,
                "boolean" => ColumnKind::Bool,
                "blob" | "bytea" => ColumnKind::Bytes,
                other => return Err(StoreError::Corrupt(format!("{table}.{name}: {other}"))),
            };
            Ok((name, kind))
        })
        .collect()
}

/// One value of `row` as JSON.
fn value(row: &AnyRow, i: usize, kind: ColumnKind) -> Result<Value, StoreError> {
    Ok(match kind {
        ColumnKind::Text => col::<Option<String>>(row, i)?.map_or(Value::Null, Value::String),
        ColumnKind::Int => col::<Option<i64>>(row, i)?.map_or(Value::Null, Value::from),
        ColumnKind::Bool => col::<Option<i64>>(row, i)?.map_or(Value::Null, |v| (v != 0).into()),
        ColumnKind::Bytes => {
            col::<Option<Vec<u8>>>(row, i)?.map_or(Value::Null, |b| BASE64.encode(b).into())
        }
    })
}

/// Whether a row's values fit the columns: one per column, each of its kind or null.
fn check_row(row: &[Value], cols: &[(String, ColumnKind)]) -> Result<(), String> {
    if row.len() != cols.len() {
        return Err(format!("{} values for {} columns", row.len(), cols.len()));
    }
    for (v, (name, kind)) in row.iter().zip(cols) {
        let fits = match (kind, v) {
            (_, Value::Null) | (ColumnKind::Text, Value::String(_)) => true,
            (ColumnKind::Int, Value::Number(n)) => n.is_i64(),
            (ColumnKind::Bool, Value::Bool(_)) => true,
            (ColumnKind::Bytes, Value::String(s)) => BASE64.decode(s).is_ok(),
            _ => false,
        };
        if !fits {
            return Err(format!("{name}: not {kind:?}"));
        }
    }
    Ok(())
}

/// Binds a row [`check_row`] accepted.
fn bind_row(mut q: AnyQuery<'static>, row: &[Value], kinds: &[ColumnKind]) -> AnyQuery<'static> {
    for (v, kind) in row.iter().zip(kinds) {
        q = match (kind, v) {
            (ColumnKind::Text, Value::String(s)) => q.bind(s.clone()),
            (ColumnKind::Int, Value::Number(n)) => q.bind(n.as_i64()),
            (ColumnKind::Bool, Value::Bool(b)) => q.bind(*b),
            (ColumnKind::Bytes, Value::String(s)) => q.bind(BASE64.decode(s).ok()),
            (ColumnKind::Text, _) => q.bind(None::<String>),
            (ColumnKind::Int, _) => q.bind(None::<i64>),
            (ColumnKind::Bool, _) => q.bind(None::<bool>),
            (ColumnKind::Bytes, _) => q.bind(None::<Vec<u8>>),
        };
    }
    q
}

impl Store {
    /// Whether the database `url` holds no table (a restore's target).
    pub async fn is_empty(url: &DatabaseUrl) -> Result<bool, StoreError> {
        let db = Db::open(target(url), 1).await?;
        let tables = table_count(&db).await?;
        db.pool.close().await;
        Ok(tables == 0)
    }

    /// Writes every table of [`DUMPED_TABLES`] from one snapshot (PostgreSQL: a
    /// repeatable-read, read-only transaction; SQLite: one read transaction) through
    /// `open_file(table)`; returns the schema version and the rows per table.
    /// [`StoreError::Unavailable`] when a file cannot be written.
    pub async fn dump<W: Write>(
        &self,
        mut open_file: impl FnMut(&'static str) -> std::io::Result<W>,
    ) -> Result<(i64, Vec<DumpedTable>), StoreError> {
        let snapshot = self.db.dialect.begin_snapshot();
        let mut tx = self.db.pool.begin_with(snapshot).await?;
        let version: i64 = col(
            &sqlx::query("SELECT CAST(MAX(version) AS BIGINT) FROM schema_migrations")
                .fetch_one(&mut *tx)
                .await?,
            0,
        )?;
        let mut dumped = Vec::new();
        for &table in DUMPED_TABLES {
            let cols = columns(&self.db, table).await?;
            let select: Vec<String> = cols
                .iter()
                .map(|(name, kind)| match kind {
                    ColumnKind::Bool => format!("CAST({name} AS INTEGER)"),
                    _ => name.clone(),
                })
                .collect();
            let mut out = open_file(table).map_err(|e| io(table, e))?;
            let header = TableHeader {
                table: table.to_owned(),
                columns: cols.clone(),
            };
            let line = serde_json::to_string(&header).map_err(|e| bad(table, 1, e))?;
            writeln!(out, "{line}").map_err(|e| io(table, e))?;
            // A constant table name and column names checked by `columns`.
            let sql = format!("SELECT {} FROM {table}", select.join(", "));
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
            let mut count = 0;
            while let Some(row) = rows.try_next().await? {
                let values = cols
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| value(&row, i, *kind))
                    .collect::<Result<Vec<_>, _>>()?;
                let line = Value::Array(values).to_string();
                writeln!(out, "{line}").map_err(|e| io(table, e))?;
                count += 1;
            }
            out.flush().map_err(|e| io(table, e))?;
            dumped.push(DumpedTable { table, rows: count });
        }
        tx.commit().await?;
        Ok((version, dumped))
    }

    /// Loads a backup into the empty database `url`: migrates it to the backup's
    /// `schema_version`, loads every table of [`DUMPED_TABLES`] from `read_file(table)`
    /// in one transaction, sets the counters and sequences past what was loaded and past
    /// `now_ms` (so that nothing handed out after the backup — a change-feed cursor a kit
    /// already holds, a log position in a receipt — is handed out again), restarts
    /// uploads that were in progress from offset 0 (their parts are not in a backup),
    /// and migrates on to this build's schema. [`StoreError::Conflict`] when the database
    /// holds any table, or naming the file and line that does not fit the schema;
    /// [`StoreError::Migration`] for a backup newer than this build.
    pub async fn load<R: BufRead>(
        url: &DatabaseUrl,
        schema_version: i64,
        now_ms: i64,
        read_file: impl FnMut(&'static str) -> std::io::Result<R>,
    ) -> Result<Self, StoreError> {
        if schema_version > latest() || schema_version < 1 {
            return Err(StoreError::Migration(format!(
                "the backup has schema version {schema_version}; this build knows 1 to {}",
                latest()
            )));
        }
        let db = Db::open(target(url), 1).await?;
        match Self::load_into(&db, url, schema_version, now_ms, read_file).await {
            Ok(()) => Ok(Self { db }),
            Err(e) => {
                // Closed before the caller deletes what was half written.
                db.pool.close().await;
                Err(e)
            }
        }
    }

    /// [`Store::load`]'s work on the opened database.
    async fn load_into<R: BufRead>(
        db: &Db,
        url: &DatabaseUrl,
        schema_version: i64,
        now_ms: i64,
        mut read_file: impl FnMut(&'static str) -> std::io::Result<R>,
    ) -> Result<(), StoreError> {
        let tables = table_count(db).await?;
        if tables > 0 {
            return Err(StoreError::Conflict(format!(
                "the database {url} holds {tables} tables; a restore needs an empty one"
            )));
        }
        migrate_up_to(db, schema_version).await?;
        let mut schema = Vec::new();
        for &table in DUMPED_TABLES {
            schema.push((table, columns(db, table).await?));
        }
        let mut tx = db.begin().await?;
        for (table, cols) in schema {
            let mut lines = read_file(table).map_err(|e| io(table, e))?.lines();
            let header = lines
                .next()
                .ok_or_else(|| bad(table, 1, "empty file"))?
                .map_err(|e| io(table, e))?;
            let header: TableHeader =
                serde_json::from_str(&header).map_err(|e| bad(table, 1, e))?;
            if header.table != table || header.columns != cols {
                return Err(bad(table, 1, "its columns are not this schema's"));
            }
            let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
            let head = format!("INSERT INTO {table} ({}) VALUES", names.join(", "));
            let kinds: Vec<ColumnKind> = cols.iter().map(|(_, k)| *k).collect();
            let bind = |q, row: Vec<Value>| bind_row(q, &row, &kinds);
            let mut chunk = Vec::new();
            for (n, line) in lines.enumerate() {
                let line = line.map_err(|e| io(table, e))?;
                let row: Vec<Value> =
                    serde_json::from_str(&line).map_err(|e| bad(table, n + 2, e))?;
                check_row(&row, &cols).map_err(|what| bad(table, n + 2, what))?;
                chunk.push(row);
                if chunk.len() == ROWS_PER_INSERT {
                    let rows = std::mem::take(&mut chunk);
                    insert_rows(&mut tx, &head, "", cols.len(), rows, bind).await?;
                }
            }
            insert_rows(&mut tx, &head, "", cols.len(), chunk, bind).await?;
        }
        for &statement in db.dialect.after_load() {
            let q = sqlx::query(statement);
            // Those that set a counter past the restore's time take it as `$1`.
            let q = if statement.contains("$1") {
                q.bind(now_ms)
            } else {
                q
            };
            q.execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE attachments SET upload_offset = 0 WHERE complete = FALSE")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        migrate(db).await
    }
}

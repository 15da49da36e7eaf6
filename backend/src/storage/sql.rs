//! The one way storage talks to a database: sqlx's `Any` driver over a pool of SQLite
//! or PostgreSQL connections, with every statement written once in PostgreSQL's `$N`
//! form (sqlx binds SQLite's `$N` parameters by their number, not by the order they
//! appear). Values cross as the types both dialects share: `i64`, text, bytes and their
//! `Option`s; booleans are bound as `bool` and read as `CAST(column AS INTEGER)`
//! ([`col_bool`]); timestamps are milliseconds, hashes raw bytes.
//!
//! The remaining differences between the dialects are in [`Dialect`]'s methods, each with
//! the reason it exists — the list a reviewer checks when a query behaves differently on
//! one database.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor as _, Row as _, Transaction};

use super::StoreError;

/// Which database a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded store: one file, one writer at a time.
    Sqlite,
    /// The production database, shared by several backend processes.
    Postgres,
}

/// An open transaction.
pub type Tx<'c> = Transaction<'c, Any>;

/// A pool and its dialect.
#[derive(Debug, Clone)]
pub struct Db {
    /// The connections.
    pub pool: AnyPool,
    /// Which database.
    pub dialect: Dialect,
}

impl Dialect {
    /// `BEGIN` of a transaction that writes. SQLite: `IMMEDIATE` takes the write lock up
    /// front, so a transaction that reads before it writes cannot fail at its first
    /// write when another connection committed meanwhile (a busy snapshot no timeout
    /// cures). PostgreSQL: rows are locked where a statement says so (`FOR UPDATE`).
    pub fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// Appended to a `SELECT` of the row a transaction is about to change. PostgreSQL
    /// locks the row, so batches of one kit run one after another across processes;
    /// SQLite has no row locks and needs none — `BEGIN IMMEDIATE` already holds the only
    /// write lock.
    pub fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// [`Dialect::for_update`] for a join: PostgreSQL locks only the rows of the table
    /// named by `alias` (the case, not the record it joins).
    pub fn for_update_of(self, alias: &'static str) -> String {
        match self {
            Self::Sqlite => String::new(),
            Self::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// What publishing a catalog runs first, so that two publications cannot both make
    /// their version current. PostgreSQL: a table lock; SQLite: nothing — `BEGIN
    /// IMMEDIATE` already holds the only write lock.
    pub fn lock_catalogs(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("LOCK TABLE catalogs IN EXCLUSIVE MODE"),
        }
    }

    /// What a migration runs first, so that two processes starting together apply it
    /// once. PostgreSQL: an advisory lock for the transaction (the key spells
    /// "fieldkit"); SQLite: nothing — `BEGIN IMMEDIATE` already holds the write lock.
    pub fn lock_migrations(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("SELECT pg_advisory_xact_lock(7379540980638902644)"),
        }
    }

    /// The statement that takes the next `$1` values of `counter`, and how its answer
    /// becomes them. PostgreSQL: a sequence (no row lock, so parallel batches of
    /// different kits do not queue on one counter row), one row per value — not
    /// necessarily consecutive while other batches draw too. SQLite: a row of
    /// `counters`, safe under its single writer, answering the last of `$1` consecutive
    /// values.
    pub fn reserve_counter(self, counter: Counter) -> &'static str {
        match (self, counter) {
            (Self::Sqlite, Counter::LogPosition) => {
                "UPDATE counters SET value = value + $1 WHERE name = 'log_position' RETURNING value"
            }
            (Self::Sqlite, Counter::ChangeCursor) => {
                "UPDATE counters SET value = value + $1 WHERE name = 'change_cursor' RETURNING value"
            }
            (Self::Postgres, Counter::LogPosition) => {
                "SELECT nextval('log_position_seq') FROM generate_series(1, $1)"
            }
            (Self::Postgres, Counter::ChangeCursor) => {
                "SELECT nextval('change_cursor_seq') FROM generate_series(1, $1)"
            }
        }
    }

    /// A shared migration script in this dialect: byte strings are `BLOB` in SQLite and
    /// `BYTEA` in PostgreSQL; an auto-numbered id is SQLite's `AUTOINCREMENT` rowid (never
    /// reused after a delete) or PostgreSQL's `BIGSERIAL`.
    pub fn spell_types(self, shared: &str) -> String {
        let (bytes, serial_key) = match self {
            Self::Sqlite => ("BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            Self::Postgres => ("BYTEA", "BIGSERIAL PRIMARY KEY"),
        };
        shared
            .replace("{bytes}", bytes)
            .replace("{serial_key}", serial_key)
    }

    /// The columns of table `$1` as `(name, declared type)`, in table order.
    pub fn columns_of(self) -> &'static str {
        match self {
            Self::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            Self::Postgres => {
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT)
                 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position"
            }
        }
    }

    /// How many tables the database holds (a restore needs none).
    pub fn count_tables(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            Self::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        }
    }

    /// `BEGIN` of a backup's read: one snapshot for every table. PostgreSQL needs
    /// repeatable read for that (its default reads each statement's own snapshot);
    /// SQLite's read transaction is one snapshot of the WAL already.
    pub fn begin_snapshot(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN",
            Self::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        }
    }

    /// What a restore runs after loading the rows: log positions and feed cursors go on
    /// past the restore's time in milliseconds (`$1`) and past every loaded value, so
    /// that none handed out since the backup is handed out again; PostgreSQL's serial
    /// ids go on after the loaded ones (SQLite's `AUTOINCREMENT` keeps track itself).
    pub fn after_load(self) -> &'static [&'static str] {
        match self {
            Self::Sqlite => &[
                "UPDATE counters SET value = MAX($1, (SELECT COALESCE(MAX(log_position), 0)
                 FROM records)) WHERE name = 'log_position'",
                "UPDATE counters SET value = MAX($1, (SELECT COALESCE(MAX(cursor), 0)
                 FROM changes)) WHERE name = 'change_cursor'",
            ],
            Self::Postgres => &[
                "SELECT setval('log_position_seq',
                 GREATEST($1, (SELECT COALESCE(MAX(log_position), 0) FROM records)))",
                "SELECT setval('change_cursor_seq',
                 GREATEST($1, (SELECT COALESCE(MAX(cursor), 0) FROM changes)))",
                "SELECT setval(pg_get_serial_sequence('case_events', 'id'),
                 COALESCE(MAX(id), 0) + 1, false) FROM case_events",
                "SELECT setval(pg_get_serial_sequence('decryption_log', 'id'),
                 COALESCE(MAX(id), 0) + 1, false) FROM decryption_log",
                "SELECT setval(pg_get_serial_sequence('admin_events', 'id'),
                 COALESCE(MAX(id), 0) + 1, false) FROM admin_events",
                "SELECT setval(pg_get_serial_sequence('pending_user_changes', 'id'),
                 COALESCE(MAX(id), 0) + 1, false) FROM pending_user_changes",
            ],
        }
    }

    /// How a query plan is asked for: one step per row. (The benchmark's only use.)
    pub fn explain(self) -> &'static str {
        match self {
            Self::Sqlite => "EXPLAIN QUERY PLAN",
            Self::Postgres => "EXPLAIN",
        }
    }

    /// The column of [`Dialect::explain`]'s rows that describes the step.
    pub fn explain_column(self) -> usize {
        match self {
            Self::Sqlite => 3,
            Self::Postgres => 0,
        }
    }

    /// The values [`Dialect::reserve_counter`] answered, `n` of them in increasing order.
    fn reserved_values(self, answered: Vec<u64>, n: u64) -> Vec<u64> {
        match self {
            Self::Sqlite => answered
                .first()
                .map(|last| (last + 1 - n..=*last).collect())
                .unwrap_or_default(),
            Self::Postgres => {
                let mut values = answered;
                values.sort_unstable();
                values
            }
        }
    }
}

/// The numbers the backend hands out in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Positions of the append-only log (receipts).
    LogPosition,
    /// Cursors of the changes feed.
    ChangeCursor,
}

impl Db {
    /// Opens a pool: SQLite at `path` (created if missing; WAL, `synchronous=FULL` so a
    /// committed batch survives power loss, foreign keys on, a busy timeout so the admin
    /// CLI can write while the server runs), or PostgreSQL at `url`.
    /// [`StoreError::Unavailable`] when the database cannot be reached.
    pub async fn open(target: Target<'_>, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, dialect) = match target {
            Target::Sqlite(path) => (
                format!("sqlite://{}?mode=rwc", path.display()),
                Dialect::Sqlite,
            ),
            Target::Postgres(url) => (url.to_owned(), Dialect::Postgres),
        };
        let options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10));
        let options = match dialect {
            Dialect::Sqlite => options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                    )
                    .await
                    .map(drop)
                })
            }),
            Dialect::Postgres => options,
        };
        let pool = options.connect(&url).await.map_err(unavailable)?;
        Ok(Self { pool, dialect })
    }

    /// A transaction that writes ([`Dialect::begin_write`]).
    /// [`StoreError::Unavailable`] when no connection can be had.
    pub async fn begin(&self) -> Result<Tx<'static>, StoreError> {
        self.pool
            .begin_with(self.dialect.begin_write())
            .await
            .map_err(db_err)
    }
}

/// Runs a body in a transaction that writes ([`Db::begin`]) and ends it with [`finish`]:
/// committed when the body answers `Ok`, rolled back otherwise. Written as
/// `write_tx!(db, async |tx| { … })`, `tx` being `&mut Tx` inside; the value is the
/// body's `Result`. (A macro, not a function taking an async closure: the future of such
/// a function is not provably `Send`, which the HTTP handlers need.)
macro_rules! write_tx {
    ($db:expr, async |$tx:ident| $body:block) => {{
        let mut open = $db.begin().await?;
        let result: Result<_, $crate::storage::StoreError> = async {
            let $tx = &mut open;
            $body
        }
        .await;
        $crate::storage::sql::finish(open, result).await
    }};
}
pub(crate) use write_tx;

/// Where a pool connects.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The embedded store's file.
    Sqlite(&'a Path),
    /// A PostgreSQL URL.
    Postgres(&'a str),
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A database error as the store reports it: connection trouble and SQLite's busy and
/// locked states are retryable ([`StoreError::Unavailable`]); a unique key's refusal is
/// [`StoreError::AlreadyExists`].
pub fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(d)
            if d.message().contains("database is locked") || d.message().contains("busy") =>
        {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::AlreadyExists(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// Names what a unique key refused ([`StoreError::AlreadyExists`] with `what` instead of
/// the database's words); other errors pass: `.map_err(exists(format!("kit {id}")))`.
pub fn exists<E: Into<StoreError>>(what: String) -> impl FnOnce(E) -> StoreError {
    move |e| match e.into() {
        StoreError::AlreadyExists(_) => StoreError::AlreadyExists(what),
        e => e,
    }
}

/// `?` on a sqlx result in a store operation reports it as [`db_err`] does.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        db_err(e)
    }
}

/// The row `select` (one `$1` parameter, no locking clause) finds for `key`, locked for
/// the rest of `tx`: PostgreSQL appends `FOR UPDATE`; SQLite's write transaction already
/// keeps every other writer out. The read-then-decide step of a compare-and-set.
pub async fn lock_row(
    tx: &mut Tx<'_>,
    dialect: Dialect,
    select: &'static str,
    key: String,
) -> Result<Option<AnyRow>, StoreError> {
    let sql = format!("{select}{}", dialect.for_update());
    // A constant of the caller and the dialect's constant clause.
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Column `i` of `row`, as `T`.
/// [`StoreError::Corrupt`] naming the column when it does not decode.
pub fn col<T>(row: &AnyRow, i: usize) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

/// A bind parameter of a built statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqlArg {
    Text(String),
    Int(i64),
}

/// A statement assembled from constant fragments and its parameters (`$1`, `$2`, …).
pub(crate) struct Built {
    pub sql: String,
    pub args: Vec<SqlArg>,
}

/// The `n`-th (1-based) placeholder, in the one spelling both databases read.
pub(crate) fn placeholder(n: usize) -> String {
    format!("${n}")
}

/// Binds the arguments of a statement built at run time (filters, keyset pages) in
/// order; the statement numbers them `$1…$n`.
pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    args: &[SqlArg],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for a in args {
        q = match a {
            SqlArg::Text(t) => q.bind(t.clone()),
            SqlArg::Int(i) => q.bind(*i),
        };
    }
    q
}

/// A boolean column, selected as `CAST(column AS INTEGER)`: sqlx's `Any` driver refuses
/// SQLite columns declared `BOOLEAN` (it maps no SQLite `Bool` type), while the cast
/// reads as an integer from both databases.
/// [`StoreError::Corrupt`] when the column is not an integer.
pub fn col_bool(row: &AnyRow, i: usize) -> Result<bool, StoreError> {
    col::<i64>(row, i).map(|v| v != 0)
}

/// The next value of `counter`, inside `tx`.
pub async fn next_counter(
    tx: &mut Tx<'_>,
    dialect: Dialect,
    counter: Counter,
) -> Result<u64, StoreError> {
    reserve_counter(tx, dialect, counter, 1)
        .await?
        .first()
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("counter {counter:?} gave no value")))
}

/// The next `n` (at least 1) values of `counter`, inside `tx`, in increasing order.
pub async fn reserve_counter(
    tx: &mut Tx<'_>,
    dialect: Dialect,
    counter: Counter,
    n: usize,
) -> Result<Vec<u64>, StoreError> {
    let n = u64::try_from(n.max(1)).unwrap_or(1);
    let answered = sqlx::query(dialect.reserve_counter(counter))
        .bind(super::to_i64(n)?)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| super::to_u64(col(r, 0)?))
        .collect::<Result<Vec<_>, _>>()?;
    let values = dialect.reserved_values(answered, n);
    if values.len() as u64 == n {
        Ok(values)
    } else {
        Err(StoreError::Corrupt(format!(
            "counter {counter:?}: {} values for {n}",
            values.len()
        )))
    }
}

/// Ends `tx`: commits when `result` is `Ok` (also for answers that wrote nothing), rolls
/// back otherwise. Every write transaction ends here, never in its drop: sqlx only queues
/// a dropped transaction's rollback, and until the connection is used again its row locks
/// would hold up everyone else.
/// `result`'s error, or the commit's.
pub async fn finish<T>(tx: Tx<'_>, result: Result<T, StoreError>) -> Result<T, StoreError> {
    match result {
        Ok(value) => {
            tx.commit().await.map_err(db_err)?;
            Ok(value)
        }
        Err(e) => {
            // The error that ended the work is the one to report; a failed rollback
            // closes the connection, which ends the transaction too.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Rows per `INSERT`: 100 records of 15 columns are 1,500 parameters, far below
/// SQLite's 32,766 and PostgreSQL's 65,535, also for a held-records import of 5,000.
pub const ROWS_PER_INSERT: usize = 100;

pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments>;

/// Inserts `rows` with statements of up to [`ROWS_PER_INSERT`] rows: `head`, then
/// `($1, …, $columns), (…)` numbered through, then `tail`.
pub(crate) async fn insert_rows<R>(
    tx: &mut Tx<'static>,
    head: &str,
    tail: &str,
    columns: usize,
    mut rows: Vec<R>,
    bind: impl Fn(AnyQuery<'static>, R) -> AnyQuery<'static>,
) -> Result<(), StoreError> {
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        let chunk = std::mem::replace(&mut rows, rest);
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let marks: Vec<String> = (1..=columns)
                    .map(|c| format!("${}", row * columns + c))
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!("{head} {}{tail}", values.join(", "));
        // Built from the caller's constant texts (or checked identifiers) and numbered
        // placeholders only.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            q = bind(q, row);
        }
        q.execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

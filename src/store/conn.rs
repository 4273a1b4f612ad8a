//! One connection, either engine: the store's SQL runs through [`Conn`], which speaks to
//! SQLite (rusqlite) or PostgreSQL (tokio-postgres, driven from the store's blocking threads).
//!
//! The SQL is written once, with SQLite's `?N` placeholders; PostgreSQL gets them as `$N`.
//! Values cross as [`Value`] (NULL, integer, real, text), the four kinds the schema uses, and
//! rows come back whole as [`Row`]s. A transaction is a [`Tx`] guard: committed explicitly,
//! rolled back when dropped. On PostgreSQL every transaction is SERIALIZABLE, so the code
//! keeps SQLite's single-writer reasoning (`MAX(seq) + 1`, read-then-write); a transaction
//! that loses a race fails with a serialization error and the job is run again
//! (`worker.rs`).

use super::error::StoreError;
use std::error::Error as StdError;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// A value bound to a placeholder or read from a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// Turns a Rust value into a [`Value`] (the `args!` macro calls it).
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u16, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// The placeholders' values, in order: `args![a, b]` binds `?1 = a`, `?2 = b`.
macro_rules! args {
    ($($x:expr),* $(,)?) => {
        &[$($crate::store::conn::ToValue::to_value(&$x)),*][..]
    };
}
pub(crate) use args;

/// Reads a Rust value out of a [`Value`].
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Option<Self> {
                i64::from_value(v).and_then(|i| <$t>::try_from(i).ok())
            }
        }
    )*};
}
int_from_value!(i32, u32, u16, u64);

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(r) => Some(*r),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One result row, read whole.
#[derive(Clone, Debug)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i` as `T`; a NULL or a value of another kind is a `BadColumn` error.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        let v = self.0.get(i).unwrap_or(&Value::Null);
        T::from_value(v).ok_or_else(|| StoreError::BadColumn {
            column: "result column",
            value: format!("#{i}: {v:?}"),
        })
    }
}

/// Which engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection of either engine.
pub enum Conn {
    Lite(rusqlite::Connection),
    Pg(super::pg::PgConn),
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Lite(_) => Backend::Sqlite,
            Conn::Pg(_) => Backend::Postgres,
        }
    }

    /// SQL for the database's clock in milliseconds since the epoch (leases expire on it,
    /// so replicas' clocks need not agree).
    pub fn now_ms(&self) -> &'static str {
        match self {
            Conn::Lite(_) => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Conn::Pg(_) => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// Tells the other replicas `payload` once the transaction commits (PostgreSQL's
    /// NOTIFY); nothing to tell on SQLite (one process).
    pub fn notify(&self, payload: &str) -> Result<(), StoreError> {
        if let Conn::Pg(_) = self {
            self.query("SELECT pg_notify('hotline', ?1)", args![payload])?;
        }
        Ok(())
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<usize, StoreError> {
        match self {
            Conn::Lite(c) => Ok(c.execute(sql, rusqlite::params_from_iter(args.iter()))?),
            Conn::Pg(c) => c.execute(&dollar(sql), args),
        }
    }

    /// All rows of a query.
    pub fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Conn::Lite(c) => lite_query(c, sql, args),
            Conn::Pg(c) => Ok(c.query(&dollar(sql), args)?.into_iter().map(Row).collect()),
        }
    }

    /// The first row of a query, if there is one.
    pub fn query_opt(&self, sql: &str, args: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The first row of a query, which must exist.
    pub fn query_one(&self, sql: &str, args: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, args)?.ok_or(StoreError::NoRow)
    }

    /// Several statements without placeholders (migrations).
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => c.batch(sql),
        }
    }

    /// Starts a write transaction: SQLite takes the write lock now (IMMEDIATE), so a
    /// read-then-write inside sees what it writes over; PostgreSQL runs it SERIALIZABLE.
    /// Inside the worker's group commit (SQLite already in a transaction, `worker.rs`) it
    /// is a savepoint: all or nothing within the batch, durable with the batch's commit.
    pub fn begin(&self) -> Result<Tx<'_>, StoreError> {
        self.start("BEGIN IMMEDIATE", "BEGIN ISOLATION LEVEL SERIALIZABLE")
    }

    /// Whether this is a SQLite connection inside a transaction already (a batch).
    fn in_batch(&self) -> bool {
        matches!(self, Conn::Lite(c) if !c.is_autocommit())
    }

    fn start(&self, lite: &str, pg: &str) -> Result<Tx<'_>, StoreError> {
        let nested = self.in_batch();
        self.batch(match self {
            Conn::Lite(_) if nested => "SAVEPOINT tx",
            Conn::Lite(_) => lite,
            Conn::Pg(_) => pg,
        })?;
        Ok(Tx {
            conn: self,
            open: true,
            nested,
            unlock: None,
        })
    }

    /// [`Conn::begin`], holding the lock named `key` for the whole transaction: PostgreSQL
    /// takes a session advisory lock *before* BEGIN, so the transaction's snapshot already
    /// sees what the previous holder committed (the chain's head, the schema version). SQLite
    /// has one writer at a time already: `begin` is the lock there.
    pub fn begin_locked(&self, key: i64) -> Result<Tx<'_>, StoreError> {
        if let Conn::Pg(_) = self {
            self.query("SELECT pg_advisory_lock(?1)", args![key])?;
            return match self.begin() {
                Ok(mut tx) => {
                    tx.unlock = Some(key);
                    Ok(tx)
                }
                Err(e) => {
                    let _ = self.query("SELECT pg_advisory_unlock(?1)", args![key]);
                    Err(e)
                }
            };
        }
        self.begin()
    }

    /// Starts a read transaction: its reads agree with each other.
    pub fn begin_read(&self) -> Result<Tx<'_>, StoreError> {
        self.start("BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }
}

/// An open transaction; derefs to its connection. Dropped without [`Tx::commit`], it rolls
/// back.
pub struct Tx<'c> {
    conn: &'c Conn,
    open: bool,
    /// A savepoint inside the worker's batch rather than a transaction of its own.
    nested: bool,
    /// The advisory lock to release once the transaction ended (PostgreSQL).
    unlock: Option<i64>,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.conn
            .batch(if self.nested { "RELEASE tx" } else { "COMMIT" })
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Failing here means the connection is gone; the transaction went with it.
            let _ = self.conn.batch(if self.nested {
                "ROLLBACK TO tx; RELEASE tx"
            } else {
                "ROLLBACK"
            });
        }
        if let Some(key) = self.unlock {
            // Failing here means the session is gone, and its locks with it.
            let _ = self.conn.query("SELECT pg_advisory_unlock(?1)", args![key]);
        }
    }
}

fn lite_query(c: &rusqlite::Connection, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
    use rusqlite::types::ValueRef;
    let mut stmt = c.prepare_cached(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
            });
        }
        out.push(Row(row));
    }
    Ok(out)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// `?N` placeholders (outside quoted text) as PostgreSQL's `$N`.
pub fn dollar(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

type BoxError = Box<dyn StdError + Sync + Send>;

/// A value goes over as whatever the server inferred for its placeholder.
impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let text = |s: &str, out: &mut bytes::BytesMut| s.to_sql(ty, out);
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => text(&i.to_string(), out),
            },
            Value::Real(r) => match *ty {
                Type::FLOAT8 => r.to_sql(ty, out),
                Type::FLOAT4 => (*r as f32).to_sql(ty, out),
                _ => text(&r.to_string(), out),
            },
            Value::Text(s) => match *ty {
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                Type::INT4 => s.parse::<i32>()?.to_sql(ty, out),
                _ => text(s, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column comes back as the kind of its type; booleans as 0/1 (as SQLite gives them).
impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            _ => Value::Text(String::from_utf8(raw.to_vec())?),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            dollar("SELECT ?1, '?2' FROM t WHERE a = ?12 AND b LIKE '%?%'"),
            "SELECT $1, '?2' FROM t WHERE a = $12 AND b LIKE '%?%'"
        );
    }

    #[test]
    fn values_read_back_as_their_kind() {
        let row = Row(vec![
            Value::Int(3),
            Value::Null,
            Value::Text("x".into()),
            Value::Int(1),
        ]);
        assert_eq!(row.get::<u32>(0).ok(), Some(3));
        assert_eq!(row.get::<Option<String>>(1).ok(), Some(None));
        assert_eq!(row.get::<String>(2).ok().as_deref(), Some("x"));
        assert_eq!(row.get::<bool>(3).ok(), Some(true));
        assert!(row.get::<String>(0).is_err());
        assert!(row.get::<i64>(1).is_err());
    }
}

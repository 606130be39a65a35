//! One query, written once, run on either backend. The SQL text is the same for both (`$n`
//! parameters work in SQLite and PostgreSQL alike); values are bound when the backend is known,
//! and a row reads a column through the backend that produced it.

use super::{Pool, Tx};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Encode, Postgres, Row as _, Sqlite, Type};
use std::borrow::Cow;

/// A statement and the values bound to its parameters, in order.
#[must_use]
pub struct Query {
    sql: Cow<'static, str>,
    values: Vec<Value>,
}

/// Starts a statement; `bind` its parameters, then run it on a pool or a transaction.
pub fn query(sql: &'static str) -> Query {
    Query {
        sql: Cow::Borrowed(sql),
        values: Vec::new(),
    }
}

/// Starts a statement with a list of `count` parameters, `$first` on, between two literal
/// parts (`... IN (` and `) ...`): one statement for a whole batch of keys.
pub fn query_with_list(before: &str, first: usize, count: usize, after: &str) -> Query {
    let list: Vec<String> = (first..first + count).map(|n| format!("${n}")).collect();
    Query {
        sql: Cow::Owned(format!("{before}{}{after}", list.join(", "))),
        values: Vec::new(),
    }
}

/// A parameter's value: the column types Patio stores.
pub enum Value {
    BigInt(Option<i64>),
    Int(Option<i32>),
    Text(Option<String>),
    Bool(Option<bool>),
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::BigInt(Some(value))
    }
}
impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Value {
        Value::BigInt(value)
    }
}
impl From<i32> for Value {
    fn from(value: i32) -> Value {
        Value::Int(Some(value))
    }
}
impl From<Option<i32>> for Value {
    fn from(value: Option<i32>) -> Value {
        Value::Int(value)
    }
}
impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(Some(value))
    }
}
impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::Text(Some(value))
    }
}
impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Value {
        Value::Text(value)
    }
}
impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Text(Some(value.to_owned()))
    }
}
impl From<&String> for Value {
    fn from(value: &String) -> Value {
        Value::Text(Some(value.clone()))
    }
}
impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Value {
        Value::Text(value.map(str::to_owned))
    }
}

/// Where a statement runs: on any pooled connection, or inside a transaction.
pub enum Target<'c> {
    Pool(&'c Pool),
    Tx(&'c mut Tx),
}

impl<'c> From<&'c Pool> for Target<'c> {
    fn from(pool: &'c Pool) -> Target<'c> {
        Target::Pool(pool)
    }
}

impl<'c> From<&'c mut Tx> for Target<'c> {
    fn from(tx: &'c mut Tx) -> Target<'c> {
        Target::Tx(tx)
    }
}

/// What a statement changed.
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

impl Query {
    pub fn bind(mut self, value: impl Into<Value>) -> Query {
        self.values.push(value.into());
        self
    }

    /// The sqlx statement for backend `DB` over `sql`, `values` bound in order.
    fn bound<'q, DB>(
        sql: &'q str,
        values: Vec<Value>,
    ) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
    where
        DB: sqlx::Database,
        Option<i64>: Encode<'q, DB> + Type<DB>,
        Option<i32>: Encode<'q, DB> + Type<DB>,
        Option<String>: Encode<'q, DB> + Type<DB>,
        Option<bool>: Encode<'q, DB> + Type<DB>,
    {
        let mut query = sqlx::query(sql);
        for value in values {
            query = match value {
                Value::BigInt(value) => query.bind(value),
                Value::Int(value) => query.bind(value),
                Value::Text(value) => query.bind(value),
                Value::Bool(value) => query.bind(value),
            };
        }
        query
    }

    pub async fn execute<'c>(self, target: impl Into<Target<'c>>) -> sqlx::Result<Done> {
        let Query { sql, values } = self;
        let sqlite = |values| Query::bound::<Sqlite>(&sql, values);
        let postgres = |values| Query::bound::<Postgres>(&sql, values);
        let rows_affected = match target.into() {
            Target::Pool(Pool::Sqlite(pool)) => sqlite(values).execute(pool).await?.rows_affected(),
            Target::Pool(Pool::Postgres(pool)) => {
                postgres(values).execute(pool).await?.rows_affected()
            }
            Target::Tx(Tx::Sqlite(tx)) => sqlite(values).execute(&mut **tx).await?.rows_affected(),
            Target::Tx(Tx::Postgres(tx)) => {
                postgres(values).execute(&mut **tx).await?.rows_affected()
            }
        };
        Ok(Done { rows_affected })
    }

    pub async fn fetch_all<'c>(self, target: impl Into<Target<'c>>) -> sqlx::Result<Vec<Row>> {
        let Query { sql, values } = self;
        let sqlite = |values| Query::bound::<Sqlite>(&sql, values);
        let postgres = |values| Query::bound::<Postgres>(&sql, values);
        Ok(match target.into() {
            Target::Pool(Pool::Sqlite(pool)) => rows(sqlite(values).fetch_all(pool).await?),
            Target::Pool(Pool::Postgres(pool)) => rows(postgres(values).fetch_all(pool).await?),
            Target::Tx(Tx::Sqlite(tx)) => rows(sqlite(values).fetch_all(&mut **tx).await?),
            Target::Tx(Tx::Postgres(tx)) => rows(postgres(values).fetch_all(&mut **tx).await?),
        })
    }

    pub async fn fetch_optional<'c>(
        self,
        target: impl Into<Target<'c>>,
    ) -> sqlx::Result<Option<Row>> {
        let Query { sql, values } = self;
        let sqlite = |values| Query::bound::<Sqlite>(&sql, values);
        let postgres = |values| Query::bound::<Postgres>(&sql, values);
        Ok(match target.into() {
            Target::Pool(Pool::Sqlite(pool)) => {
                sqlite(values).fetch_optional(pool).await?.map(Row::from)
            }
            Target::Pool(Pool::Postgres(pool)) => {
                postgres(values).fetch_optional(pool).await?.map(Row::from)
            }
            Target::Tx(Tx::Sqlite(tx)) => sqlite(values)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::from),
            Target::Tx(Tx::Postgres(tx)) => postgres(values)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::from),
        })
    }

    pub async fn fetch_one<'c>(self, target: impl Into<Target<'c>>) -> sqlx::Result<Row> {
        self.fetch_optional(target)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

fn rows<R: Into<Row>>(rows: Vec<R>) -> Vec<Row> {
    rows.into_iter().map(Into::into).collect()
}

/// A result row of either backend.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl From<SqliteRow> for Row {
    fn from(row: SqliteRow) -> Row {
        Row::Sqlite(row)
    }
}

impl From<PgRow> for Row {
    fn from(row: PgRow) -> Row {
        Row::Postgres(row)
    }
}

/// A Rust type that both backends decode a column into.
pub trait Column<'r>:
    Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}

impl<'r, T> Column<'r> for T where
    T: Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}

impl Row {
    pub fn try_get<'r, T: Column<'r>>(&'r self, column: &str) -> sqlx::Result<T> {
        match self {
            Row::Sqlite(row) => row.try_get(column),
            Row::Postgres(row) => row.try_get(column),
        }
    }
}

/// Whether a statement failed on a unique index (a name or username already taken).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

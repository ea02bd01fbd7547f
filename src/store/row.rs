//! Rows read by column name: into a small serde struct (`from_row`), or one named column
//! (`column`). A column whose value is not what the Rust type says (a NULL or text where a
//! number is required) is a [`ColumnError`] naming it, never a silent 0: schema drift shows
//! as an error. Where NULL is allowed, the type says `Option`.
//!
//! libsql's own `de::from_row` does the same but for the name of the column that failed,
//! which its error leaves out; this keeps it.

use libsql::{Row, Value};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use std::fmt;

/// A column that does not hold what the row's type says, or is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {}: {what}", .column.as_deref().unwrap_or("?"))]
pub struct ColumnError {
    /// `None` when serde failed before any column (not a struct).
    pub column: Option<String>,
    pub what: String,
}

impl de::Error for ColumnError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ColumnError {
            column: None,
            what: msg.to_string(),
        }
    }

    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        let found = match unexp {
            de::Unexpected::Option => "NULL".to_owned(),
            other => other.to_string(),
        };
        Self::custom(format_args!("holds {found}, where {exp} is required"))
    }

    fn missing_field(field: &'static str) -> Self {
        ColumnError {
            column: Some(field.to_owned()),
            what: "missing from the query".to_owned(),
        }
    }
}

/// A row as `T`, by column name.
pub fn from_row<T: DeserializeOwned>(row: &Row) -> Result<T, ColumnError> {
    T::deserialize(RowDeserializer { row })
}

/// The column `name` of a row as `T`.
pub fn column<T: DeserializeOwned>(row: &Row, name: &str) -> Result<T, ColumnError> {
    let named = |e: ColumnError| ColumnError {
        column: Some(name.to_owned()),
        ..e
    };
    let i = (0..row.column_count())
        .find(|&i| row.column_name(i) == Some(name))
        .ok_or_else(|| named(de::Error::custom("missing from the query")))?;
    let value = row.get_value(i).map_err(|e| named(de::Error::custom(e)))?;
    T::deserialize(value.into_deserializer()).map_err(named)
}

struct RowDeserializer<'r> {
    row: &'r Row,
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'_> {
    type Error = ColumnError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ColumnError> {
        visitor.visit_map(Columns {
            row: self.row,
            next: 0,
            value: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The columns of a row as a map from name to value, remembering which is being read.
struct Columns<'r> {
    row: &'r Row,
    next: i32,
    value: Option<(String, Value)>,
}

impl<'de> MapAccess<'de> for Columns<'_> {
    type Error = ColumnError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ColumnError> {
        if self.next >= self.row.column_count() {
            return Ok(None);
        }
        let i = self.next;
        self.next += 1;
        let name = self.row.column_name(i).unwrap_or_default().to_owned();
        let value = self.row.get_value(i).map_err(|e| ColumnError {
            column: Some(name.clone()),
            what: e.to_string(),
        })?;
        let key = seed.deserialize(name.as_str().into_deserializer())?;
        self.value = Some((name, value));
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ColumnError> {
        let (name, value) = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without its column"))?;
        seed.deserialize(value.into_deserializer())
            .map_err(|e: ColumnError| ColumnError {
                column: Some(name),
                ..e
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Counted {
        n: i64,
        label: Option<String>,
    }

    async fn one(sql: &str) -> Row {
        let db = libsql::Builder::new_local(":memory:")
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        let mut rows = conn.query(sql, ()).await.unwrap();
        rows.next().await.unwrap().unwrap()
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn columns_are_read_by_name_in_any_order() {
        run(async {
            let row = one("SELECT NULL AS label, 7 AS n, 'x' AS other").await;
            assert_eq!(from_row::<Counted>(&row), Ok(Counted { n: 7, label: None }));
            assert_eq!(column::<String>(&row, "other"), Ok("x".to_owned()));
        });
    }

    #[test]
    fn a_null_or_text_where_a_number_is_required_names_the_column() {
        run(async {
            for (sql, found) in [
                ("SELECT NULL AS n, 'a' AS label", "NULL"),
                ("SELECT '12' AS n, 'a' AS label", "string \"12\""),
                ("SELECT 1.5 AS n, 'a' AS label", "floating point `1.5`"),
            ] {
                let row = one(sql).await;
                let e = from_row::<Counted>(&row).unwrap_err();
                assert_eq!(e.column.as_deref(), Some("n"), "{sql}: {e}");
                assert_eq!(e.what, format!("holds {found}, where i64 is required"));
                let e = column::<i64>(&row, "n").unwrap_err();
                assert_eq!(e.column.as_deref(), Some("n"), "{sql}: {e}");
            }
        });
    }

    #[test]
    fn a_column_missing_from_the_query_is_named() {
        run(async {
            let row = one("SELECT 1 AS count").await;
            let e = from_row::<Counted>(&row).unwrap_err();
            assert_eq!(e.to_string(), "column n: missing from the query");
            let e = column::<i64>(&row, "n").unwrap_err();
            assert_eq!(e.to_string(), "column n: missing from the query");
        });
    }
}

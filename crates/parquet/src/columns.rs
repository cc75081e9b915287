//! What the three tables share: the row-builder interface and column helpers.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};

use arrow_array::ArrayRef;

/// Rows of one table gathered in Arrow builders.
pub(crate) trait Rows: Default {
    fn schema() -> SchemaRef;
    fn len(&self) -> usize;
    /// The gathered columns, in schema order; the builders start empty again.
    fn take(&mut self) -> Vec<ArrayRef>;
}

/// Instants are microseconds since the epoch, in UTC: the one timestamp type that Spark,
/// DuckDB and Trino all read without options (Spark refuses nanosecond timestamps).
pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

pub(crate) fn timestamps() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

/// Seconds since the epoch, as the summaries keep them, to microseconds; saturates (and a
/// NaN, which no capture produces, becomes 0) rather than wrapping.
pub(crate) fn micros(seconds: f64) -> i64 {
    (seconds * 1e6).round() as i64
}

pub(crate) fn nanos_to_micros(ns: i64) -> i64 {
    ns.div_euclid(1000)
}

/// A list column's type as `ListBuilder` makes it: elements named "item", nullable.
pub(crate) fn list_of(element: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", element, true)))
}

pub(crate) fn string_list() -> ListBuilder<StringBuilder> {
    ListBuilder::new(StringBuilder::new())
}

pub(crate) fn int_list() -> ListBuilder<Int64Builder> {
    ListBuilder::new(Int64Builder::new())
}

/// Counters are u64 in the analysis; Parquet's signed INT64 is what every engine reads as a
/// plain integer, and no capture comes near 2^63 of anything.
pub(crate) fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Declares a table once: the builders' struct, its schema (column names are the field names)
/// and the hand-over of the gathered columns, so the three cannot disagree.
macro_rules! table {
    ($(#[$doc:meta])* $name:ident {
        $($column:ident : $builder:ty = $init:expr, $type:expr, $nullable:expr;)*
    }) => {
        $(#[$doc])*
        pub(crate) struct $name {
            $($column: $builder,)*
            gathered: usize,
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($column: $init,)* gathered: 0 }
            }
        }

        impl $crate::columns::Rows for $name {
            fn schema() -> arrow_schema::SchemaRef {
                std::sync::Arc::new(arrow_schema::Schema::new(vec![
                    $(arrow_schema::Field::new(stringify!($column), $type, $nullable),)*
                ]))
            }

            fn len(&self) -> usize {
                self.gathered
            }

            fn take(&mut self) -> Vec<arrow_array::ArrayRef> {
                self.gathered = 0;
                vec![$(std::sync::Arc::new(self.$column.finish()) as arrow_array::ArrayRef,)*]
            }
        }
    };
}
pub(crate) use table;

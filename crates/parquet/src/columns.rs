//! What the three tables share: the row-builder interface and column helpers.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, ListArray, StructArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, SchemaRef, TimeUnit};

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

/// Where each row's list ends in a list-of-structs column whose children are gathered in typed
/// builders. Arrow's `StructBuilder` hands out its children only through a checked downcast;
/// keeping them typed in the table's own builder needs none, and this does the rest.
#[derive(Default)]
pub(crate) struct ListEnds(Vec<i32>);

impl ListEnds {
    /// Closes one row's list, the children now holding `children_len` elements in all.
    pub(crate) fn close(&mut self, children_len: usize) {
        if self.0.is_empty() {
            self.0.push(0);
        }
        // A row's list is short (timeline steps, evidence frames) and a batch is 8192 rows:
        // far below 2^31 elements.
        self.0.push(i32::try_from(children_len).unwrap_or(i32::MAX));
    }

    /// The column, from the gathered children in `fields` order; the ends start over.
    pub(crate) fn finish(&mut self, fields: Fields, children: Vec<ArrayRef>) -> ListArray {
        let mut ends = std::mem::take(&mut self.0);
        if ends.is_empty() {
            ends.push(0);
        }
        let element = Arc::new(Field::new("item", DataType::Struct(fields.clone()), true));
        let structs = StructArray::new(fields, children, None);
        ListArray::new(
            element,
            OffsetBuffer::new(ends.into()),
            Arc::new(structs),
            None,
        )
    }
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

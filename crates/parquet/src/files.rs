//! The `files` table: which frames of a capture are in which of its files, so that a global
//! frame number (the one the other tables give) maps to the file to open in Wireshark.

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_schema::DataType::{Int64, Utf8};

use crate::columns::{count, table};
use crate::FileRow;

table! {
    /// Column by column as `docs/parquet.md` documents them.
    FileRows {
        capture: StringBuilder = StringBuilder::new(), Utf8, false;
        path: StringBuilder = StringBuilder::new(), Utf8, false;
        first_frame: Int64Builder = Int64Builder::new(), Int64, false;
        frames: Int64Builder = Int64Builder::new(), Int64, false;
    }
}

impl FileRows {
    pub(crate) fn push(&mut self, f: &FileRow<'_>) {
        self.gathered += 1;
        self.capture.append_value(f.capture);
        self.path.append_value(f.path);
        self.first_frame.append_value(count(f.first_frame));
        self.frames.append_value(count(f.frames));
    }
}

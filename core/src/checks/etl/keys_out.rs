//! Every differing key, streamed to a JSON Lines file as the comparison finds it (the run
//! document lists only the first keys of each kind). One line per row:
//!
//! ```json
//! {"kind":"missing","key":{"id":17}}
//! {"kind":"extra","key":{"id":90001}}
//! {"kind":"changed","key":{"id":42},"columns":{"amount":{"source":"10.5","target":"10.0"}}}
//! ```
//!
//! Values are masked like every sample. Lines are written as each batch is settled, so memory
//! stays bounded by one batch whatever the count. The file appears under its name only when
//! the comparison finished: it is written beside it under a temporary name and renamed, and
//! removed if the comparison fails.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::bisect::ChangedRow;
use super::plan::{KeyValues, Plan};
use crate::error::{Error, Result};
use crate::masking::Masker;

/// Key values as an object `{column: value}`, masked like any sample.
pub(super) fn key_object(plan: &Plan, key: &KeyValues, masker: &Masker) -> Value {
    let row: Map<String, Value> = plan.keys.iter().zip(key).map(|(p, v)| (p.source.name.clone(), v.clone())).collect();
    Value::Object(masker.mask_row(row))
}

/// A changed row: its key and, per differing column, the masked source and target values.
pub(super) fn changed_object(plan: &Plan, row: &ChangedRow, masker: &Masker) -> Value {
    // One masked row per side: (column, source value, target value) → column → value.
    let side = |source: bool| -> Map<String, Value> {
        let raw: Map<String, Value> = row
            .columns
            .iter()
            .map(|(name, s, t)| (name.clone(), if source { s } else { t }.clone().map(Value::String).unwrap_or(Value::Null)))
            .collect();
        masker.mask_row(raw)
    };
    let (s, t) = (side(true), side(false));
    let columns: Map<String, Value> =
        row.columns.iter().map(|c| (c.0.clone(), json!({"source": s.get(&c.0), "target": t.get(&c.0)}))).collect();
    json!({"key": key_object(plan, &row.key, masker), "columns": columns})
}

/// The open JSON Lines file.
pub struct KeySink<'a> {
    plan: &'a Plan,
    masker: &'a Masker,
    path: PathBuf,
    partial: PathBuf,
    state: Mutex<SinkState>,
}

struct SinkState {
    writer: Option<BufWriter<File>>,
    lines: u64,
}

impl<'a> KeySink<'a> {
    /// Open `<path>` for writing (under a temporary name until [`KeySink::finish`]).
    pub fn create(path: &Path, plan: &'a Plan, masker: &'a Masker) -> Result<Self> {
        let name = path.file_name().ok_or_else(|| Error::invalid(format!("keys_out '{}' is not a file path", path.display())))?;
        let partial = path.with_file_name(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        let file = File::create(&partial).map_err(|e| Error::invalid(format!("cannot write keys_out '{}': {e}", path.display())))?;
        Ok(KeySink {
            plan,
            masker,
            path: path.to_path_buf(),
            partial,
            state: Mutex::new(SinkState { writer: Some(BufWriter::with_capacity(256 * 1024, file)), lines: 0 }),
        })
    }

    pub fn missing(&self, keys: &[KeyValues]) -> Result<()> {
        self.write(keys.iter().map(|k| json!({"kind": "missing", "key": key_object(self.plan, k, self.masker)})))
    }

    pub fn extra(&self, keys: &[KeyValues]) -> Result<()> {
        self.write(keys.iter().map(|k| json!({"kind": "extra", "key": key_object(self.plan, k, self.masker)})))
    }

    pub fn changed(&self, row: &ChangedRow) -> Result<()> {
        let mut line = changed_object(self.plan, row, self.masker);
        if let Value::Object(o) = &mut line {
            // `kind` first, like the other lines.
            let mut ordered = Map::new();
            ordered.insert("kind".into(), Value::String("changed".into()));
            ordered.extend(std::mem::take(o));
            *o = ordered;
        }
        self.write(std::iter::once(line))
    }

    fn write(&self, lines: impl Iterator<Item = Value>) -> Result<()> {
        let mut state = self.state.lock().map_err(|_| Error::Internal("keys_out writer poisoned".into()))?;
        let SinkState { writer, lines: count } = &mut *state;
        let writer = writer.as_mut().ok_or_else(|| Error::Internal("keys_out already finished".into()))?;
        for line in lines {
            serde_json::to_writer(&mut *writer, &line).map_err(|e| self.io_error(e.into()))?;
            writer.write_all(b"\n").map_err(|e| self.io_error(e))?;
            *count += 1;
        }
        Ok(())
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        Error::invalid(format!("cannot write keys_out '{}': {e}", self.path.display()))
    }

    /// Flush, and put the file in place under its name; the number of lines written.
    pub fn finish(self) -> Result<u64> {
        let mut state = self.state.lock().map_err(|_| Error::Internal("keys_out writer poisoned".into()))?;
        let writer = state.writer.take().ok_or_else(|| Error::Internal("keys_out already finished".into()))?;
        let file = writer.into_inner().map_err(|e| self.io_error(e.into_error()))?;
        file.sync_all().map_err(|e| self.io_error(e))?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| self.io_error(e))?;
        Ok(state.lines)
    }
}

impl Drop for KeySink<'_> {
    /// Not finished (the comparison failed or was interrupted): leave nothing behind.
    fn drop(&mut self) {
        if self.state.get_mut().map(|s| s.writer.is_some()).unwrap_or(true) {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

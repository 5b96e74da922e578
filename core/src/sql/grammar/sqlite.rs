//! SQLite's own grammar: a statement is prepared — compiled — in a private in-memory database
//! that holds the schema so far. A syntax error (`near "X": syntax error`, `incomplete input`,
//! `unrecognized token`) is SQLite refusing the statement; any other error (`no such column`)
//! is about a schema the linter does not have: the grammar accepted the statement.
//!
//! SQLite runs some actions while it parses: `ALTER TABLE t ADD` looks `t` up before it reads
//! the column, so a missing table would hide a syntax error after it. So the script's own
//! `CREATE`/`ALTER`/`DROP` statements are run in the private database (schema only, no data),
//! and a table the script did not create is stood in for by an empty placeholder table
//! before the statement is prepared again. Nothing else is ever run there (no `ATTACH`, no
//! `VACUUM INTO`: they would touch files).

use std::ffi::{c_char, c_int, CStr, CString};

use libsqlite3_sys as ffi;

use super::{position, Grammar};
use crate::sql::ParseFailure;

/// A private in-memory SQLite database to prepare statements in.
pub struct SqliteGrammar {
    db: *mut ffi::sqlite3,
}

// The handle is used by one thread at a time (SQLite's serialized mode allows more).
unsafe impl Send for SqliteGrammar {}

impl SqliteGrammar {
    pub fn open() -> Option<SqliteGrammar> {
        let mut db = std::ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_MEMORY | ffi::SQLITE_OPEN_PRIVATECACHE;
        // SAFETY: a static NUL-terminated name; the handle is closed in Drop.
        let rc = unsafe { ffi::sqlite3_open_v2(c":memory:".as_ptr(), &mut db, flags, std::ptr::null()) };
        if rc != ffi::SQLITE_OK {
            unsafe { ffi::sqlite3_close(db) };
            return None;
        }
        Some(SqliteGrammar { db })
    }

    /// Compile one statement; report whether SQLite's grammar takes it.
    pub fn check(&self, statement: &str) -> Grammar {
        let Ok(input) = CString::new(statement) else {
            return Grammar::Rejected(ParseFailure { message: "the statement contains a NUL byte".into(), line: 1, column: 1 });
        };
        // Each retry stands in one more missing table; a statement names only so many.
        for _ in 0..16 {
            let (rc, message, offset) = self.prepare(&input, is_schema_change(statement));
            if rc == ffi::SQLITE_OK {
                return Grammar::Accepted;
            }
            if is_syntax_error(&message) {
                let (line, column) = position(statement, usize::try_from(offset).unwrap_or(0));
                return Grammar::Rejected(ParseFailure { message, line, column });
            }
            match message.strip_prefix("no such table: ") {
                Some(table) if self.stand_in(table) => continue,
                _ => return Grammar::Accepted,
            }
        }
        Grammar::Accepted
    }

    /// Prepare the statement and, for a schema change, run it (the database is private and
    /// holds no data). Returns SQLite's result code, message and error offset.
    fn prepare(&self, input: &CString, run: bool) -> (c_int, String, c_int) {
        let mut stmt = std::ptr::null_mut();
        let mut tail: *const c_char = std::ptr::null();
        // SAFETY: the input outlives the calls; the prepared statement is finalized here.
        unsafe {
            let rc = ffi::sqlite3_prepare_v2(self.db, input.as_ptr(), -1, &mut stmt, &mut tail);
            let message = CStr::from_ptr(ffi::sqlite3_errmsg(self.db)).to_string_lossy().into_owned();
            let offset: c_int = ffi::sqlite3_error_offset(self.db);
            if rc == ffi::SQLITE_OK && run && !stmt.is_null() {
                // The schema so far; a failure here (a duplicate name) says nothing of syntax.
                ffi::sqlite3_step(stmt);
            }
            ffi::sqlite3_finalize(stmt);
            (rc, message, offset)
        }
    }

    /// Create an empty placeholder for a table the script did not create.
    fn stand_in(&self, table: &str) -> bool {
        if table.contains('.') {
            return false; // another schema (an attached database): nothing to stand in
        }
        let sql = format!("CREATE TABLE \"{}\" (dbconsultant_placeholder)", table.replace('"', "\"\""));
        let Ok(sql) = CString::new(sql) else { return false };
        // SAFETY: a NUL-terminated statement on our private handle.
        unsafe { ffi::sqlite3_exec(self.db, sql.as_ptr(), None, std::ptr::null_mut(), std::ptr::null_mut()) == ffi::SQLITE_OK }
    }
}

/// CREATE, ALTER and DROP change only the private schema; everything else is compiled only.
fn is_schema_change(statement: &str) -> bool {
    let start = super::significant_start(statement);
    let head = statement[start..].split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    matches!(head.as_str(), "CREATE" | "ALTER" | "DROP")
}

fn is_syntax_error(message: &str) -> bool {
    message.contains("syntax error") || message.contains("incomplete input") || message.contains("unrecognized token")
}

impl Drop for SqliteGrammar {
    fn drop(&mut self) {
        // SAFETY: opened in `open`, closed once.
        unsafe { ffi::sqlite3_close(self.db) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_decides_syntax_not_the_schema() {
        let g = SqliteGrammar::open().unwrap();
        assert_eq!(g.check("CREATE INDEX ix ON missing_table (a)"), Grammar::Accepted, "a schema error is not a syntax error");
        assert_eq!(g.check("REINDEX"), Grammar::Accepted);
        assert_eq!(g.check("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END"), Grammar::Accepted);
        let Grammar::Rejected(f) = g.check("CREATE TABLE t (\n  a int,,\n  b int)") else { panic!("accepted") };
        assert!(f.message.contains("syntax error"), "{f:?}");
        assert_eq!(f.line, 2);
    }

    #[test]
    fn a_missing_table_does_not_hide_a_syntax_error() {
        let g = SqliteGrammar::open().unwrap();
        // SQLite looks the table up before it reads the column definition.
        let Grammar::Rejected(f) = g.check("ALTER TABLE orders ADD COLUMN") else { panic!("accepted") };
        assert!(f.message.contains("incomplete input"), "{f:?}");
        assert_eq!(g.check("ALTER TABLE orders ADD COLUMN note TEXT"), Grammar::Accepted);
    }

    #[test]
    fn the_schema_so_far_is_kept_and_files_are_never_touched() {
        let g = SqliteGrammar::open().unwrap();
        assert_eq!(g.check("CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT)"), Grammar::Accepted);
        assert_eq!(g.check("ALTER TABLE a RENAME COLUMN b TO c"), Grammar::Accepted);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("copy.db");
        assert_eq!(g.check(&format!("VACUUM INTO '{}'", file.display())), Grammar::Accepted);
        assert_eq!(g.check(&format!("ATTACH DATABASE '{}' AS x", dir.path().join("x.db").display())), Grammar::Accepted);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing but schema changes runs");
    }
}

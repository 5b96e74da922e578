//! SQL functions registered on every SQLite connection, so ETL checksums can be computed by
//! SQLite itself (invariant 2) with the same definition PostgreSQL and MySQL use:
//!
//! - `dbc_md5(text)`: lowercase hex MD5 of the UTF-8 bytes (PostgreSQL's and MySQL's `md5`);
//! - `dbc_json(text)`: JSON in PostgreSQL's `jsonb` text form (keys by length then bytes);
//! - `dbc_sum60(md5)`: aggregate, the exact sum of each MD5's first 60 bits.

use std::ffi::c_int;

use libsqlite3_sys as ffi;

/// Register the functions on one connection; returns SQLite's result code.
///
/// # Safety
/// `db` must be a valid, open connection handle that is not used concurrently.
pub unsafe fn register(db: *mut ffi::sqlite3) -> c_int {
    let flags = ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS;
    let rc = ffi::sqlite3_create_function_v2(db, c"dbc_md5".as_ptr(), 1, flags, std::ptr::null_mut(), Some(md5_hex), None, None, None);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    let rc =
        ffi::sqlite3_create_function_v2(db, c"dbc_json".as_ptr(), 1, flags, std::ptr::null_mut(), Some(json_canonical), None, None, None);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    ffi::sqlite3_create_function_v2(
        db,
        c"dbc_sum60".as_ptr(),
        1,
        flags,
        std::ptr::null_mut(),
        None,
        Some(sum60_step),
        Some(sum60_final),
        None,
    )
}

/// `dbc_sum60(md5_hex)`: the exact sum, as decimal text, of the first 15 hex digits of each
/// row's MD5 — one MD5 per row and no 64-bit overflow, which two SUM()s of parts would not give.
unsafe extern "C" fn sum60_step(ctx: *mut ffi::sqlite3_context, _n: c_int, args: *mut *mut ffi::sqlite3_value) {
    let total = ffi::sqlite3_aggregate_context(ctx, std::mem::size_of::<u128>() as c_int) as *mut u128;
    if total.is_null() {
        ffi::sqlite3_result_error_nomem(ctx);
        return;
    }
    if let Some(v) = text_arg(args).and_then(|hex| hex_value(hex.get(..15)?)) {
        // SQLite zeroes the context on first use; unaligned access keeps clear of its allocator.
        total.write_unaligned(total.read_unaligned() + v as u128);
    }
}

unsafe extern "C" fn sum60_final(ctx: *mut ffi::sqlite3_context) {
    let total = ffi::sqlite3_aggregate_context(ctx, 0) as *mut u128;
    let value = if total.is_null() { 0 } else { total.read_unaligned() };
    let text = value.to_string();
    ffi::sqlite3_result_text(ctx, text.as_ptr().cast(), text.len() as c_int, ffi::SQLITE_TRANSIENT());
}

/// The argument's text (UTF-8 bytes), or `None` for SQL NULL.
unsafe fn text_arg<'a>(args: *mut *mut ffi::sqlite3_value) -> Option<&'a [u8]> {
    let value = *args;
    if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
        return None;
    }
    let ptr = ffi::sqlite3_value_text(value);
    let len = ffi::sqlite3_value_bytes(value);
    if ptr.is_null() || len <= 0 {
        return Some(&[]);
    }
    Some(std::slice::from_raw_parts(ptr, len as usize))
}

unsafe extern "C" fn md5_hex(ctx: *mut ffi::sqlite3_context, _n: c_int, args: *mut *mut ffi::sqlite3_value) {
    let Some(bytes) = text_arg(args) else {
        ffi::sqlite3_result_null(ctx);
        return;
    };
    let hex = hex_digest(bytes);
    // SQLITE_TRANSIENT: SQLite copies the 32 bytes before we return.
    ffi::sqlite3_result_text(ctx, hex.as_ptr().cast(), hex.len() as c_int, ffi::SQLITE_TRANSIENT());
}

pub(crate) fn hex_digest(bytes: &[u8]) -> String {
    crate::driver::md5_hex(bytes)
}

/// Up to 15 hex digits (60 bits) as a non-negative integer.
pub(crate) fn hex_value(hex: &[u8]) -> Option<i64> {
    if hex.is_empty() || hex.len() > 15 {
        return None;
    }
    i64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_reference_digest() {
        assert_eq!(hex_digest(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex_digest(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn hex_value_reads_up_to_15_digits() {
        assert_eq!(hex_value(b"ffffffff"), Some(0xffff_ffff));
        assert_eq!(hex_value(b"fffffffffffffff"), Some(0x0fff_ffff_ffff_ffff));
        assert_eq!(hex_value(b"ffffffffffffffff"), None);
        assert_eq!(hex_value(b"xyz"), None);
    }
}

/// JSON in PostgreSQL's `jsonb` text form (also MySQL's): object keys ordered by length, then
/// bytes; the last of duplicate keys kept; `", "` and `": "` separators; strings re-escaped;
/// numbers as written. `None` when the text is not JSON.
pub(crate) fn canonical_json(text: &str) -> Option<String> {
    let mut parser = JsonParser { bytes: text.as_bytes(), pos: 0 };
    let value = parser.value()?;
    parser.skip_ws();
    (parser.pos == parser.bytes.len()).then(|| {
        let mut out = String::with_capacity(text.len());
        value.write(&mut out);
        out
    })
}

enum Json {
    Raw(String),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Raw(t) => out.push_str(t),
            Json::Str(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(k, out);
                    out.push_str(": ");
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // serde_json escapes exactly what jsonb's output escapes.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && matches!(self.bytes[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Option<Json> {
        self.skip_ws();
        match *self.bytes.get(self.pos)? {
            b'{' => {
                self.pos += 1;
                let mut members: Vec<(String, Json)> = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        let key = self.string()?;
                        self.skip_ws();
                        (self.bytes.get(self.pos) == Some(&b':')).then_some(())?;
                        self.pos += 1;
                        let value = self.value()?;
                        members.retain(|(k, _)| *k != key);
                        members.push((key, value));
                        self.skip_ws();
                        match self.bytes.get(self.pos)? {
                            b',' => self.pos += 1,
                            b'}' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                members.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
                Some(Json::Object(members))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.skip_ws();
                        match self.bytes.get(self.pos)? {
                            b',' => self.pos += 1,
                            b']' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Some(Json::Array(items))
            }
            b'"' => self.string().map(Json::Str),
            _ => {
                let start = self.pos;
                while self.pos < self.bytes.len() && !matches!(self.bytes[self.pos], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    self.pos += 1;
                }
                let token = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
                let valid = matches!(token, "true" | "false" | "null") || serde_json::from_str::<serde_json::Number>(token).is_ok();
                valid.then(|| Json::Raw(token.to_string()))
            }
        }
    }

    /// A string token, unescaped.
    fn string(&mut self) -> Option<String> {
        (self.bytes.get(self.pos) == Some(&b'"')).then_some(())?;
        let start = self.pos;
        self.pos += 1;
        while *self.bytes.get(self.pos)? != b'"' {
            self.pos += if self.bytes[self.pos] == b'\\' { 2 } else { 1 };
        }
        self.pos += 1;
        serde_json::from_slice(&self.bytes[start..self.pos]).ok()
    }
}

unsafe extern "C" fn json_canonical(ctx: *mut ffi::sqlite3_context, _n: c_int, args: *mut *mut ffi::sqlite3_value) {
    let Some(bytes) = text_arg(args) else {
        ffi::sqlite3_result_null(ctx);
        return;
    };
    // Not JSON: the text itself, so it still compares (and differs) as text.
    let text = String::from_utf8_lossy(bytes);
    let out = canonical_json(&text).unwrap_or_else(|| text.into_owned());
    ffi::sqlite3_result_text(ctx, out.as_ptr().cast(), out.len() as c_int, ffi::SQLITE_TRANSIENT());
}

#[cfg(test)]
mod json_tests {
    use super::canonical_json;

    #[test]
    fn json_takes_jsonb_text_form() {
        assert_eq!(canonical_json(r#"{"tags":["a","b"],"n":1, "aa": {}}"#).unwrap(), r#"{"n": 1, "aa": {}, "tags": ["a", "b"]}"#);
        assert_eq!(canonical_json(r#"{"a":1,"a":2.50}"#).unwrap(), r#"{"a": 2.50}"#);
        assert_eq!(canonical_json(r#" ["x\u0041\n", null, true] "#).unwrap(), r#"["xA\n", null, true]"#);
        assert_eq!(canonical_json("{\"a\":}"), None);
        assert_eq!(canonical_json("not json"), None);
    }
}

//! SQL functions registered on every SQLite connection, so ETL checksums can be computed by
//! SQLite itself (invariant 2) with the same definition PostgreSQL and MySQL use:
//!
//! - `dbc_md5(text)`: lowercase hex MD5 of the UTF-8 bytes (PostgreSQL's and MySQL's `md5`);
//! - `dbc_hex31(text)`: the first 8 hex digits as an integer, shifted right by one (31 bits),
//!   the same number PostgreSQL's `('x' || h)::bit(31)::int` and MySQL's
//!   `conv(h, 16, 10) >> 1` give.

use std::ffi::c_int;

use libsqlite3_sys as ffi;
use md5::{Digest, Md5};

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
    ffi::sqlite3_create_function_v2(db, c"dbc_hex31".as_ptr(), 1, flags, std::ptr::null_mut(), Some(hex31), None, None, None)
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

unsafe extern "C" fn hex31(ctx: *mut ffi::sqlite3_context, _n: c_int, args: *mut *mut ffi::sqlite3_value) {
    match text_arg(args).and_then(hex31_value) {
        Some(v) => ffi::sqlite3_result_int64(ctx, v),
        None => ffi::sqlite3_result_null(ctx),
    }
}

pub(crate) fn hex_digest(bytes: &[u8]) -> String {
    let digest = Md5::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// First 8 hex digits as an unsigned number, shifted right by one.
pub(crate) fn hex31_value(hex: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(hex.get(..8)?).ok()?;
    u32::from_str_radix(text, 16).ok().map(|v| i64::from(v >> 1))
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
    fn hex31_takes_the_top_31_bits_of_8_digits() {
        assert_eq!(hex31_value(b"ffffffff00"), Some(0x7fff_ffff));
        assert_eq!(hex31_value(b"00000003"), Some(1));
        assert_eq!(hex31_value(b"abc"), None);
    }
}

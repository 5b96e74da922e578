//! TLS to PostgreSQL and MySQL/MariaDB servers: one set of `sslmode` names for both, and
//! connection errors that say which part of the TLS set-up failed.
//!
//! The handshake itself is sqlx's, on rustls with the ring provider (no OpenSSL, so the
//! wheels, the npm addon and the JNI library need no system library). PostgreSQL URLs and the
//! libpq environment (`PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`) are read by sqlx
//! as libpq reads them; MySQL URLs also take the PostgreSQL names, translated here.

/// MySQL URLs accept both naming schemes: `ssl-mode=VERIFY_IDENTITY` (MySQL's) and
/// `sslmode=verify-full` (libpq's), `ssl-ca` and `sslrootcert`. Returns the URL in MySQL's
/// names; anything else is left as it was.
pub(crate) fn mysql_url(raw: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(raw) else { return raw.to_string() };
    if parsed.query().is_none() {
        return raw.to_string();
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let key = match k.as_ref() {
                "sslmode" => "ssl-mode".to_string(),
                "sslrootcert" | "ssl-root-cert" | "sslca" => "ssl-ca".to_string(),
                other => other.to_string(),
            };
            let value = if key == "ssl-mode" { mysql_ssl_mode(&v).to_string() } else { v.into_owned() };
            (key, value)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// libpq's `sslmode` values in MySQL's words; MySQL's own (any case) pass through.
fn mysql_ssl_mode(value: &str) -> &str {
    match value.to_ascii_lowercase().as_str() {
        "disable" | "allow" => "DISABLED",
        "prefer" => "PREFERRED",
        "require" => "REQUIRED",
        "verify-ca" => "VERIFY_CA",
        "verify-full" => "VERIFY_IDENTITY",
        _ => value,
    }
}

/// What a TLS failure means and what to do about it, from the driver's message; `None` when
/// the error is not about TLS.
pub(crate) fn explain(reason: &str) -> Option<&'static str> {
    let lower = reason.to_ascii_lowercase();
    let hint = if lower.contains("unknownissuer") || lower.contains("unknown issuer") || lower.contains("badsignature") {
        "TLS: the server's certificate is not signed by a trusted CA; give the CA that signed it with sslrootcert=PATH \
         (PostgreSQL; PGSSLROOTCERT) or ssl-ca=PATH (MySQL)"
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        "TLS: the server's certificate is not valid for the host name in the URL (verify-full / VERIFY_IDENTITY check it); \
         connect with a name the certificate lists, or use verify-ca to check the CA only"
    } else if lower.contains("expired") && lower.contains("certificate") {
        "TLS: the server's certificate has expired"
    } else if lower.contains("server does not support tls") || lower.contains("server does not support ssl") {
        "TLS: the server does not accept TLS connections but the URL requires them (sslmode=require or stricter)"
    } else if lower.contains("no encryption") || lower.contains("insecure transport") {
        "TLS: the server accepts this login only over TLS; use sslmode=require, or verify-full with sslrootcert for production"
    } else if lower.contains("client certificate") || lower.contains("certificate authentication failed") {
        "TLS: the server wants a client certificate it trusts; give sslcert=PATH and sslkey=PATH"
    } else if lower.contains("no keys found") || lower.contains("invalid certificate") {
        "TLS: a certificate or key file could not be read (PEM expected)"
    } else {
        return None;
    };
    Some(hint)
}

/// MariaDB and MySQL refuse a login that `REQUIRE`s SSL with a plain "Access denied" when the
/// connection is not encrypted; say so when the URL (as [`mysql_url`] returns it) turned TLS off.
pub(crate) fn mysql_refusal(url: &str, reason: String) -> String {
    if reason.contains("Access denied") && url.to_ascii_lowercase().contains("ssl-mode=disabled") {
        format!("{reason} (TLS is off in this URL: a login that requires SSL or X509 is refused this way; try sslmode=require)")
    } else {
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_urls_take_libpq_names() {
        assert_eq!(
            mysql_url("mysql://u:p@h:3306/db?sslmode=verify-full&sslrootcert=/etc/ca.pem&charset=utf8mb4"),
            "mysql://u:p@h:3306/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=%2Fetc%2Fca.pem&charset=utf8mb4"
        );
        assert_eq!(mysql_url("mysql://h/db?ssl-mode=required"), "mysql://h/db?ssl-mode=required");
        assert_eq!(mysql_url("mysql://h/db?sslmode=disable"), "mysql://h/db?ssl-mode=DISABLED");
        assert_eq!(mysql_url("mysql://h/db"), "mysql://h/db");
    }

    #[test]
    fn tls_failures_are_explained_and_others_are_not() {
        assert!(explain("error with TLS configuration: invalid peer certificate: UnknownIssuer").unwrap().contains("sslrootcert"));
        assert!(explain("invalid peer certificate: NotValidForName").unwrap().contains("host name"));
        assert!(explain("no pg_hba.conf entry for host \"127.0.0.1\", user \"x\", database \"y\", no encryption")
            .unwrap()
            .contains("only over TLS"));
        assert!(explain("password authentication failed for user \"x\"").is_none());
        assert!(explain("Connection refused (os error 111)").is_none());
    }
}

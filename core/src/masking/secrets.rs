//! Credentials recognised by their value, whatever the column is called or however the query
//! renamed, concatenated or aggregated it: password hashes (PostgreSQL SCRAM and md5, MySQL
//! native and caching_sha2, crypt-style bcrypt/scrypt/argon2/sha-crypt, PBKDF2 as Django and
//! passlib write it), JWTs, PEM private keys, cloud and service access keys by their documented
//! prefixes, and passwords inside URLs and connection strings. A whole value that is one is
//! replaced; one inside free text is replaced where it stands.

/// The kind of credential a whole value is, if it is one.
pub(super) fn secret_kind(value: &str) -> Option<&'static str> {
    let t = value.trim();
    if t.contains("-----BEGIN") && t.contains("PRIVATE KEY-----") {
        return Some("private_key");
    }
    // MySQL caching_sha2_password: `$A$005$` then a binary salt that may hold any byte.
    if t.starts_with("$A$") && t.as_bytes().get(3).is_some_and(u8::is_ascii_digit) {
        return Some("password_hash");
    }
    token_kind(t)
}

/// A value with every credential inside it replaced; none when there is none.
pub(super) fn scrub(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    // PEM blocks span lines: replace each whole block first.
    while let Some(begin) = rest.find("-----BEGIN") {
        let Some(end_marker) = rest[begin..].find("-----END") else { break };
        let after_end = begin + end_marker + "-----END".len();
        let end = rest[after_end..].find("-----").map(|i| after_end + i + "-----".len()).unwrap_or(rest.len());
        if !rest[begin..end].contains("PRIVATE KEY") {
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        out.push_str(&scrub_tokens(&rest[..begin], &mut changed));
        out.push_str("<masked:private_key>");
        changed = true;
        rest = &rest[end..];
    }
    out.push_str(&scrub_tokens(rest, &mut changed));
    changed.then_some(out)
}

/// Replace each whitespace-separated token that is (or holds) a credential.
fn scrub_tokens(text: &str, changed: &mut bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = None;
    let mut flush = |out: &mut String, token: &str| {
        let core = token.trim_matches(|c: char| matches!(c, '"' | '\'' | '(' | ')' | ',' | ';' | '<' | '>' | '[' | ']' | '{' | '}' | '`'));
        // Aggregates and concatenations join values with `,`, `;` or `|`: each piece on its own.
        let mut masked = String::with_capacity(core.len());
        for piece in core.split_inclusive([',', ';', '|']) {
            let (body, separator) = match piece.char_indices().last() {
                Some((i, ',' | ';' | '|')) => (&piece[..i], &piece[i..]),
                _ => (piece, ""),
            };
            // `["a","b"]` as text (a JSON array a database returns as a string): quotes and
            // brackets around each piece stay, the piece inside is checked.
            let inner = body.trim_matches(|c: char| matches!(c, '"' | '\'' | '(' | ')' | '[' | ']' | '{' | '}' | '`' | '\\'));
            match mask_piece(inner) {
                Some(m) if !inner.is_empty() => {
                    masked.push_str(&body.replacen(inner, &m, 1));
                    *changed = true;
                }
                _ => masked.push_str(body),
            }
            masked.push_str(separator);
        }
        if masked == core {
            out.push_str(token);
        } else {
            out.push_str(&token.replacen(core, &masked, 1));
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                flush(&mut out, &text[s..i]);
            }
            out.push(c);
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        flush(&mut out, &text[s..]);
    }
    out
}

/// One piece of a token: a credential, a URL or key=value with a password, or `name:credential`
/// / `name=credential` as `CONCAT(user, ':', hash)` makes it.
fn mask_piece(piece: &str) -> Option<String> {
    if piece.is_empty() {
        return None;
    }
    if let Some(kind) = token_kind(piece) {
        return Some(format!("<masked:{kind}>"));
    }
    if let Some(masked) = url_password(piece).or_else(|| keyword_password(piece)) {
        return Some(masked);
    }
    piece.match_indices([':', '=']).find_map(|(i, _)| token_kind(&piece[i + 1..]).map(|kind| format!("{}<masked:{kind}>", &piece[..=i])))
}

const CRYPT_PREFIXES: &[&str] = &[
    "$2a$",
    "$2b$",
    "$2x$",
    "$2y$",
    "$argon2i$",
    "$argon2d$",
    "$argon2id$",
    "$scrypt$",
    "$7$",
    "$pbkdf2",
    "$1$",
    "$5$",
    "$6$",
    "$y$",
    "$gy$",
];
const PBKDF2_PREFIXES: &[&str] = &["pbkdf2_sha256$", "pbkdf2_sha1$", "argon2$argon2", "bcrypt_sha256$", "bcrypt$", "scrypt$"];
/// Access keys by their documented prefixes, with the least length after the prefix.
const KEY_PREFIXES: &[(&str, usize)] = &[
    ("ghp_", 30),
    ("gho_", 30),
    ("ghu_", 30),
    ("ghs_", 30),
    ("ghr_", 30),
    ("github_pat_", 40),
    ("glpat-", 20),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("xoxa-", 20),
    ("xoxr-", 20),
    ("xoxs-", 20),
    ("sk_live_", 20),
    ("rk_live_", 20),
    ("sk_test_", 20),
    ("AIza", 35),
    ("sk-ant-", 40),
    ("sk-proj-", 40),
    ("npm_", 36),
    ("pypi-", 50),
];

/// The kind of credential one token is.
fn token_kind(t: &str) -> Option<&'static str> {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if t.starts_with("SCRAM-SHA-256$") || (t.len() == 35 && t.starts_with("md5") && hex(&t[3..])) {
        return Some("password_hash");
    }
    if t.len() == 41 && t.starts_with('*') && hex(&t[1..]) {
        return Some("password_hash");
    }
    if t.len() >= 20 && (CRYPT_PREFIXES.iter().any(|p| t.starts_with(p)) || PBKDF2_PREFIXES.iter().any(|p| t.starts_with(p))) {
        return Some("password_hash");
    }
    if is_jwt(t) {
        return Some("jwt");
    }
    if is_aws_access_key(t) {
        return Some("access_key");
    }
    let key_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    if KEY_PREFIXES.iter().any(|(p, n)| t.starts_with(p) && t.len() >= p.len() + n && t.bytes().all(key_char)) {
        return Some("access_key");
    }
    None
}

fn is_jwt(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    let base64url = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=');
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && t.len() >= 30
        && parts[..2].iter().all(|p| base64url(p))
        && (parts[2].is_empty() || base64url(parts[2]))
}

/// AWS access key ids: a documented four-letter prefix and 16 more upper-case letters/digits.
fn is_aws_access_key(t: &str) -> bool {
    const PREFIXES: &[&str] = &["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA"];
    t.len() == 20 && PREFIXES.iter().any(|p| t.starts_with(p)) && t.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `scheme://user:password@host...` with the password replaced.
fn url_password(t: &str) -> Option<String> {
    let scheme_end = t.find("://")?;
    let authority_start = scheme_end + 3;
    let authority_end = t[authority_start..].find(['/', '?', '#']).map(|i| authority_start + i).unwrap_or(t.len());
    let at = t[authority_start..authority_end].rfind('@')? + authority_start;
    let colon = t[authority_start..at].find(':')? + authority_start;
    (colon + 1 < at).then(|| format!("{}<masked:password>{}", &t[..colon + 1], &t[at..]))
}

/// `password=...` / `pwd=...` in a key=value connection string, value replaced.
fn keyword_password(t: &str) -> Option<String> {
    let lower = t.to_ascii_lowercase();
    for key in ["password=", "passwd=", "pwd=", "sslpassword="] {
        if let Some(at) = lower.find(key) {
            let starts_a_key = at == 0 || matches!(lower.as_bytes()[at - 1], b';' | b'&' | b'?' | b' ');
            let value_start = at + key.len();
            let value_end = t[value_start..].find([';', '&']).map(|i| value_start + i).unwrap_or(t.len());
            if starts_a_key && value_end > value_start {
                return Some(format!("{}<masked:password>{}", &t[..value_start], &t[value_end..]));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_of_every_common_format() {
        for hash in [
            "SCRAM-SHA-256$4096:ZyS2nJ9X0m5Gg+IjPwl7Vw==$bK8cH9k1t6yOq0r0vnr3iA0z1Q9+M9QnDyq1ZkYt8ls=:m0ps3P5Jg2e5k0b9hR2bH4E1zYH7k3l2s1A0B9C8D7E=",
            "md5a3556571e93b0d20722ba62be61e8c2d",
            "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9",
            "$2b$12$KIXQJZ0N6a5Qv8p6aQ0ZEeF1YgV7o8sEwqR9m1qZ3P2u4hYcJtO1e",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "pbkdf2_sha256$600000$Qy7JrVtGk2Rr$4n1k2GqWm6nPbQf1Y0rV3bE3aX8JvW9kq5s7T2yU1cE=",
            "$6$rounds=5000$saltsalt$7w3nQ4C8p0sQvQe9oE2G0aJZ1l",
            "$A$005$\u{1}X\u{7f}n2 salt with a space y8zq0r",
        ] {
            assert_eq!(secret_kind(hash), Some("password_hash"), "{hash}");
        }
    }

    #[test]
    fn tokens_and_keys() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(secret_kind(jwt), Some("jwt"));
        assert_eq!(secret_kind("AKIAIOSFODNN7EXAMPLE"), Some("access_key"));
        assert_eq!(secret_kind("ghp_1234567890abcdefghijABCDEFGHIJ123456"), Some("access_key"));
        assert_eq!(secret_kind("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"), Some("private_key"));
    }

    #[test]
    fn credentials_inside_text_are_replaced_where_they_stand() {
        assert_eq!(
            scrub("connect with postgres://app:s3cr3t@db.internal:5432/shop please").as_deref(),
            Some("connect with postgres://app:<masked:password>@db.internal:5432/shop please")
        );
        assert_eq!(
            scrub("host=db user=app password=s3cr3t dbname=shop").as_deref(),
            Some("host=db user=app password=<masked:password> dbname=shop")
        );
        // CONCAT(user, ':', hash) joined by string_agg(..., ','):
        assert_eq!(
            scrub("postgres:*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9,root:md5a3556571e93b0d20722ba62be61e8c2d").as_deref(),
            Some("postgres:<masked:password_hash>,root:<masked:password_hash>")
        );
        assert_eq!(scrub("key AKIAIOSFODNN7EXAMPLE, then more").as_deref(), Some("key <masked:access_key>, then more"));
        assert_eq!(scrub("aws_key=AKIAIOSFODNN7EXAMPLE").as_deref(), Some("aws_key=<masked:access_key>"));
        // A JSON array returned as text (MySQL JSON_ARRAYAGG):
        assert_eq!(scrub(r#"["*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9","x"]"#).as_deref(), Some(r#"["<masked:password_hash>","x"]"#));
        let pem = "cfg: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY----- end";
        assert_eq!(scrub(pem).as_deref(), Some("cfg: <masked:private_key> end"));
    }

    #[test]
    fn ordinary_values_are_left_alone() {
        for value in
            ["Paris", "order 42 shipped", "https://example.com/a?b=c", "md5 is a hash function", "$19.99", "SKU-1234-XL", "*", "2024-01-01"]
        {
            assert_eq!(secret_kind(value), None, "{value}");
            assert_eq!(scrub(value), None, "{value}");
        }
    }
}

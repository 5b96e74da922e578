//! `identifier-too-long`: PostgreSQL silently truncates identifiers to 63 bytes; MySQL and
//! MariaDB refuse names over 64 characters.

use pg_query::protobuf::Token;
use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct IdentifierTooLong;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(&[Dialect::Postgres, Dialect::Mysql]),
    policy: None,
    summary: "PostgreSQL silently truncates identifiers to 63 bytes; MySQL and MariaDB refuse names over 64 characters.",
    details: "PostgreSQL truncates names longer than 63 bytes (NAMEDATALEN - 1) with only a NOTICE: two long index or constraint names that share their first 63 bytes collide, and a later migration that names the object in full does not find it (or drops a different one). MySQL and MariaDB refuse a table, column, index or constraint name over 64 characters ('Identifier name ... is too long'): the migration fails at that statement (high).",
    bad: "CREATE INDEX index_subscription_payments_on_customer_id_and_created_at_and_status ON subscription_payments (customer_id, created_at, status);",
    good: "CREATE INDEX subscription_payments_customer_created_status ON subscription_payments (customer_id, created_at, status);",
};

impl Rule for IdentifierTooLong {
    fn id(&self) -> FindingId {
        FindingId::IdentifierTooLong
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        // PostgreSQL: check_postgres, which reads PostgreSQL's own tokens.
        mysql_names_over_64(ctx, stmt)
    }
    fn check_unparsed(&self, ctx: &RuleContext, stmt: &ParsedStatement) -> Vec<Violation> {
        mysql_names_over_64(ctx, stmt)
    }
    fn check_postgres(&self, _: &RuleContext, stmt: &ParsedStatement, _: &Tree) -> Vec<Violation> {
        // PostgreSQL's parser truncates names itself, so the tree holds them cut: read the tokens,
        // for the rare statement that has a long enough word or a quoted name at all.
        // A run of more than 63 bytes that could be a name (any non-ASCII byte may be part of one).
        let mut run = 0;
        let long_word = stmt.sql.bytes().any(|b| {
            run = if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 { run + 1 } else { 0 };
            run > 63
        });
        if !long_word && !stmt.sql.contains('"') {
            return Vec::new();
        }
        let Ok(scan) = pg_query::scan(&stmt.sql) else { return Vec::new() };
        let mut out: Vec<Violation> = Vec::new();
        for t in scan.tokens.iter().filter(|t| t.token == Token::Ident as i32) {
            let Some(text) = stmt.sql.get(t.start as usize..t.end as usize) else { continue };
            let name = text.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(text);
            if name.len() > 63 && !out.iter().any(|v| v.message.contains(name)) {
                out.push(Violation::new(
                    format!(
                        "identifier '{name}' is {} bytes: PostgreSQL truncates it to 63, so another name may collide with it",
                        name.len()
                    ),
                    "Use a name of at most 63 bytes.",
                ));
            }
        }
        out
    }
}

/// MySQL names (quoted or not) over 64 characters, read from MySQL's tokens: string literals
/// and comments are not names.
fn mysql_names_over_64(ctx: &RuleContext, stmt: &ParsedStatement) -> Vec<Violation> {
    use sqlparser::tokenizer::{Token as SqlToken, Tokenizer};
    if ctx.dialect != Dialect::Mysql || !stmt.sql.contains(|c: char| c.is_alphanumeric()) {
        return Vec::new();
    }
    let dialect = sqlparser::dialect::MySqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, &stmt.sql).tokenize() else { return Vec::new() };
    let mut out: Vec<Violation> = Vec::new();
    for token in tokens {
        let SqlToken::Word(word) = token else { continue };
        let length = word.value.chars().count();
        if length > 64 && !out.iter().any(|v| v.message.contains(&word.value)) {
            out.push(
                Violation::new(
                    format!(
                        "identifier '{}' is {length} characters: MySQL and MariaDB refuse names over 64, so the statement fails",
                        word.value
                    ),
                    "Use a name of at most 64 characters.",
                )
                .with_severity(Severity::High),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(
            FindingId::IdentifierTooLong,
            Dialect::Postgres,
            "CREATE INDEX index_subscription_payments_on_customer_id_and_created_at_and_status ON t (a);",
        );
        assert_flags(
            FindingId::IdentifierTooLong,
            Dialect::Postgres,
            "ALTER TABLE t ADD CONSTRAINT \"a quoted constraint name that goes on and on and on for more than 63 bytes\" CHECK (a > 0);",
        );
        assert_ok(FindingId::IdentifierTooLong, Dialect::Postgres, "CREATE INDEX short_name ON t (a);");
    }

    #[test]
    fn mysql_refuses_names_over_64_characters() {
        let long = "index_subscription_payments_on_customer_id_and_created_at_and_status_x";
        let f = assert_flags(FindingId::IdentifierTooLong, Dialect::Mysql, &format!("CREATE INDEX `{long}` ON t (a);"));
        assert_eq!(f[0].severity, crate::model::Severity::High);
        // 64 characters is allowed; a long string literal is not a name.
        let exactly_64 = "a".repeat(64);
        assert_ok(FindingId::IdentifierTooLong, Dialect::Mysql, &format!("CREATE INDEX {exactly_64} ON t (a);"));
        assert_ok(FindingId::IdentifierTooLong, Dialect::Mysql, &format!("UPDATE t SET note = '{long}' WHERE id = 1;"));
    }
}

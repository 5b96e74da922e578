//! `identifier-too-long` (PostgreSQL): postgreSQL silently truncates identifiers to 63 bytes.

use pg_query::protobuf::Token;
use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct IdentifierTooLong;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "PostgreSQL silently truncates identifiers to 63 bytes.",
    details: "Names longer than 63 bytes (NAMEDATALEN - 1) are truncated with only a NOTICE: two long index or constraint names that share their first 63 bytes collide, and a later migration that names the object in full does not find it (or drops a different one).",
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
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
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
}

//! Small AST helpers shared by rules.

use sqlparser::ast::{AlterTableOperation, ColumnDef, ColumnOption, DataType, Expr, ObjectName, ObjectNamePart, Statement};

/// The unqualified, unquoted name (`public."Users"` → `Users`).
pub fn base_name(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => ident.value.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// `ALTER TABLE` name and operations.
pub fn alter_table(ast: &Statement) -> Option<(&ObjectName, &[AlterTableOperation])> {
    match ast {
        Statement::AlterTable(alter) => Some((&alter.name, &alter.operations)),
        _ => None,
    }
}

pub fn has_not_null(col: &ColumnDef) -> bool {
    col.options.iter().any(|o| matches!(o.option, ColumnOption::NotNull)) || is_primary_key(col)
}

pub fn default_of(col: &ColumnDef) -> Option<&Expr> {
    col.options.iter().find_map(|o| match &o.option {
        ColumnOption::Default(e) => Some(e),
        _ => None,
    })
}

pub fn is_primary_key(col: &ColumnDef) -> bool {
    col.options.iter().any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)))
}

pub fn is_unique(col: &ColumnDef) -> bool {
    col.options.iter().any(|o| matches!(o.option, ColumnOption::Unique(_) | ColumnOption::PrimaryKey(_)))
}

pub fn is_generated(col: &ColumnDef) -> bool {
    col.options.iter().any(|o| {
        matches!(o.option, ColumnOption::Generated { .. })
            || matches!(&o.option, ColumnOption::DialectSpecific(tokens)
                if tokens.iter().any(|t| t.to_string().eq_ignore_ascii_case("AUTOINCREMENT")))
    })
}

/// Functions whose value differs per row, so a default using them forces a table rewrite on
/// PostgreSQL 11+ (constant and stable defaults are stored in the catalog instead).
pub fn is_volatile(expr: &Expr) -> bool {
    const VOLATILE: &[&str] = &[
        "random",
        "gen_random_uuid",
        "uuid_generate_v4",
        "uuid_generate_v1",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "uuid",
    ];
    let text = expr.to_string().to_ascii_lowercase();
    VOLATILE.iter().any(|f| {
        text.match_indices(f).any(|(i, _)| {
            let before_ok = i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric() && text.as_bytes()[i - 1] != b'_';
            let after = text[i + f.len()..].trim_start();
            before_ok && after.starts_with('(')
        })
    })
}

/// Integer types of 32 bits or fewer (the ones an auto-increment key outgrows).
pub fn is_small_int(dt: &DataType) -> bool {
    let text = dt.to_string().to_ascii_uppercase();
    let base = text.split('(').next().unwrap_or("").trim();
    matches!(base, "INT" | "INTEGER" | "INT4" | "SMALLINT" | "INT2" | "MEDIUMINT" | "SERIAL" | "SERIAL4" | "SMALLSERIAL" | "TINYINT")
        || base.starts_with("INT UNSIGNED")
}

pub fn type_name(dt: &DataType) -> String {
    dt.to_string().to_ascii_uppercase()
}

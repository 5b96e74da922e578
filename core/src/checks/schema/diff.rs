//! Dialect-neutral schema diff: every table, column, index and constraint added, removed or
//! modified, with its compatibility for code written against the old schema.

use std::collections::BTreeSet;

use crate::model::{ChangeType, Column, Compatibility, ObjectType, SchemaChange, SchemaSnapshot, Table};
use crate::sqltypes::is_narrowing;

pub fn diff(before: &SchemaSnapshot, after: &SchemaSnapshot) -> Vec<SchemaChange> {
    let mut changes = Vec::new();
    let removed: Vec<&Table> = before.tables.values().filter(|t| !after.tables.contains_key(&t.name)).collect();
    let added: Vec<&Table> = after.tables.values().filter(|t| !before.tables.contains_key(&t.name)).collect();
    let mut renamed_to: BTreeSet<&str> = BTreeSet::new();
    for old in &removed {
        // A removed table whose exact column list reappears under a new name was renamed.
        let twin = added.iter().find(|new| !renamed_to.contains(new.name.as_str()) && same_columns(old, new));
        match twin {
            Some(new) => {
                renamed_to.insert(&new.name);
                changes.push(change(
                    ObjectType::Table,
                    &old.name,
                    &old.name,
                    ChangeType::Modified,
                    Compatibility::Breaking,
                    format!("table renamed to {}; queries using the old name fail", new.name),
                ));
            }
            None => changes.push(change(
                ObjectType::Table,
                &old.name,
                &old.name,
                ChangeType::Removed,
                Compatibility::Destructive,
                format!("table dropped with its {} columns and all rows", old.columns.len()),
            )),
        }
    }
    for new in added.iter().filter(|t| !renamed_to.contains(t.name.as_str())) {
        changes.push(change(
            ObjectType::Table,
            &new.name,
            &new.name,
            ChangeType::Added,
            Compatibility::Compatible,
            format!("new table with {} columns", new.columns.len()),
        ));
    }
    for (name, old) in &before.tables {
        if let Some(new) = after.tables.get(name) {
            diff_table(old, new, &mut changes);
        }
    }
    for view in &before.views {
        if !after.views.contains(view) {
            changes.push(change(ObjectType::View, view, view, ChangeType::Removed, Compatibility::Breaking, "view dropped".into()));
        }
    }
    for view in &after.views {
        if !before.views.contains(view) {
            changes.push(change(ObjectType::View, view, view, ChangeType::Added, Compatibility::Compatible, "new view".into()));
        }
    }
    diff_enums(before, after, &mut changes);
    changes
}

/// Enum types: new labels are compatible, removed or reordered labels break stored values
/// and comparisons.
fn diff_enums(before: &SchemaSnapshot, after: &SchemaSnapshot, out: &mut Vec<SchemaChange>) {
    for (name, labels) in &before.enums {
        match after.enums.get(name) {
            None => {
                out.push(change(ObjectType::Type, name, name, ChangeType::Removed, Compatibility::Destructive, "enum type dropped".into()))
            }
            Some(new) if new != labels => {
                let removed: Vec<&String> = labels.iter().filter(|l| !new.contains(l)).collect();
                let kept_order = labels.iter().filter(|l| new.contains(l)).eq(new.iter().filter(|l| labels.contains(l)));
                let status = if removed.is_empty() && kept_order { Compatibility::Compatible } else { Compatibility::Breaking };
                out.push(change(
                    ObjectType::Type,
                    name,
                    name,
                    ChangeType::Modified,
                    status,
                    format!("enum labels ({}) -> ({})", labels.join(", "), new.join(", ")),
                ));
            }
            Some(_) => {}
        }
    }
    for (name, labels) in &after.enums {
        if !before.enums.contains_key(name) {
            out.push(change(
                ObjectType::Type,
                name,
                name,
                ChangeType::Added,
                Compatibility::Compatible,
                format!("new enum type ({})", labels.join(", ")),
            ));
        }
    }
}

fn change(
    object_type: ObjectType,
    table: &str,
    name: &str,
    change_type: ChangeType,
    compatibility_status: Compatibility,
    details: String,
) -> SchemaChange {
    SchemaChange { object_type, table_name: table.to_string(), name: name.to_string(), change_type, compatibility_status, details }
}

fn same_columns(a: &Table, b: &Table) -> bool {
    a.columns.len() == b.columns.len()
        && a.columns.iter().zip(&b.columns).all(|(x, y)| x.name == y.name && x.data_type.eq_ignore_ascii_case(&y.data_type))
}

fn same_shape(a: &Column, b: &Column) -> bool {
    a.data_type.eq_ignore_ascii_case(&b.data_type) && a.nullable == b.nullable && a.default == b.default
}

fn diff_table(old: &Table, new: &Table, out: &mut Vec<SchemaChange>) {
    let t = new.name.as_str();
    let removed: Vec<&Column> = old.columns.iter().filter(|c| new.column(&c.name).is_none()).collect();
    let added: Vec<&Column> = new.columns.iter().filter(|c| old.column(&c.name).is_none()).collect();
    let mut renamed: BTreeSet<&str> = BTreeSet::new();
    for col in &removed {
        // One removed and one added column of the same shape at the same position: a rename.
        let pos_old = old.columns.iter().position(|c| c.name == col.name);
        let twin = added.iter().find(|a| {
            !renamed.contains(a.name.as_str()) && same_shape(col, a) && new.columns.iter().position(|c| c.name == a.name) == pos_old
        });
        match twin {
            Some(a) => {
                renamed.insert(&a.name);
                out.push(change(
                    ObjectType::Column,
                    t,
                    &col.name,
                    ChangeType::Modified,
                    Compatibility::Breaking,
                    format!("column renamed to {}; code using the old name fails", a.name),
                ));
            }
            None => out.push(change(
                ObjectType::Column,
                t,
                &col.name,
                ChangeType::Removed,
                Compatibility::Destructive,
                format!("column dropped ({}) with its data", col.data_type),
            )),
        }
    }
    for col in added.iter().filter(|c| !renamed.contains(c.name.as_str())) {
        let (status, details) = if col.nullable || col.default.is_some() || col.auto_increment {
            (
                Compatibility::Compatible,
                format!("new {} column {}", col.data_type, if col.nullable { "(nullable)" } else { "with a default" }),
            )
        } else {
            (Compatibility::Breaking, format!("new NOT NULL {} column without default: inserts that omit it fail", col.data_type))
        };
        out.push(change(ObjectType::Column, t, &col.name, ChangeType::Added, status, details));
    }
    for old_col in &old.columns {
        let Some(new_col) = new.column(&old_col.name) else { continue };
        if let Some((status, details)) = column_modification(old_col, new_col) {
            out.push(change(ObjectType::Column, t, &old_col.name, ChangeType::Modified, status, details));
        }
    }
    if old.primary_key != new.primary_key {
        let (kind, status) = match (old.primary_key.is_empty(), new.primary_key.is_empty()) {
            (true, false) => (ChangeType::Added, Compatibility::Breaking),
            (false, true) => (ChangeType::Removed, Compatibility::Breaking),
            _ => (ChangeType::Modified, Compatibility::Breaking),
        };
        out.push(change(
            ObjectType::Constraint,
            t,
            "primary key",
            kind,
            status,
            format!("primary key ({}) -> ({})", old.primary_key.join(", "), new.primary_key.join(", ")),
        ));
    }
    diff_indexes(old, new, out);
    diff_constraints(old, new, out);
}

fn column_modification(old: &Column, new: &Column) -> Option<(Compatibility, String)> {
    let mut parts = Vec::new();
    let mut status = Compatibility::Compatible;
    if !old.data_type.eq_ignore_ascii_case(&new.data_type) {
        match is_narrowing(&old.data_type, &new.data_type) {
            Some(false) => parts.push(format!("type widened {} -> {}", old.data_type, new.data_type)),
            Some(true) => {
                status = Compatibility::Breaking;
                parts.push(format!("type narrowed {} -> {}: existing values may be truncated or rejected", old.data_type, new.data_type));
            }
            None => {
                status = Compatibility::Breaking;
                parts.push(format!("type changed {} -> {}", old.data_type, new.data_type));
            }
        }
    }
    if old.nullable && !new.nullable {
        status = Compatibility::Breaking;
        parts.push("now NOT NULL: writes of NULL fail".into());
    } else if !old.nullable && new.nullable {
        parts.push("now nullable: readers may see NULL".into());
    }
    if old.default != new.default {
        parts.push(format!("default {} -> {}", old.default.as_deref().unwrap_or("none"), new.default.as_deref().unwrap_or("none")));
    }
    (!parts.is_empty()).then(|| (status, parts.join("; ")))
}

fn diff_indexes(old: &Table, new: &Table, out: &mut Vec<SchemaChange>) {
    let t = new.name.as_str();
    // Indexes that only back a PRIMARY KEY / UNIQUE constraint are covered as constraints.
    let explicit = |table: &Table| table.indexes.iter().filter(|i| !i.implicit).cloned().collect::<Vec<_>>();
    let (old_ix, new_ix) = (explicit(old), explicit(new));
    for ix in &old_ix {
        match new_ix.iter().find(|n| n.name == ix.name) {
            None => {
                let (status, details) = if ix.unique {
                    (
                        Compatibility::Breaking,
                        format!("unique index on ({}) dropped: duplicates are no longer rejected", ix.columns.join(", ")),
                    )
                } else {
                    (Compatibility::Compatible, format!("index on ({}) dropped: queries using it may slow down", ix.columns.join(", ")))
                };
                out.push(change(ObjectType::Index, t, &ix.name, ChangeType::Removed, status, details));
            }
            Some(n) if n != ix => out.push(change(
                ObjectType::Index,
                t,
                &ix.name,
                ChangeType::Modified,
                if n.unique && !ix.unique { Compatibility::Breaking } else { Compatibility::Compatible },
                format!(
                    "index changed: ({}) -> ({}){}",
                    ix.columns.join(", "),
                    n.columns.join(", "),
                    if n.unique { ", unique" } else { "" }
                ),
            )),
            Some(_) => {}
        }
    }
    for ix in new_ix.iter().filter(|n| !old_ix.iter().any(|o| o.name == n.name)) {
        let partial = ix.predicate.as_ref().map(|p| format!(" WHERE {p}")).unwrap_or_default();
        let (status, details) = if ix.unique {
            (
                Compatibility::Breaking,
                format!("unique index on ({}){partial}: writes that duplicate a key are now rejected", ix.columns.join(", ")),
            )
        } else {
            (Compatibility::Compatible, format!("index on ({}){partial}", ix.columns.join(", ")))
        };
        out.push(change(ObjectType::Index, t, &ix.name, ChangeType::Added, status, details));
    }
}

fn diff_constraints(old: &Table, new: &Table, out: &mut Vec<SchemaChange>) {
    let t = new.name.as_str();
    let fk_key =
        |f: &crate::model::ForeignKey| format!("({}) -> {}({})", f.columns.join(", "), f.referenced_table, f.referenced_columns.join(", "));
    let uq_key = |u: &crate::model::UniqueConstraint| format!("unique ({})", u.columns.join(", "));
    let ck_key = |c: &crate::model::CheckConstraint| format!("check ({})", c.expression);
    // Same constraint, now validated (VALIDATE CONSTRAINT) or no longer enforced.
    for (kind, old_state, new_state) in old
        .foreign_keys
        .iter()
        .filter_map(|o| {
            new.foreign_keys
                .iter()
                .find(|n| fk_key(n) == fk_key(o))
                .map(|n| (fk_key(o), (o.enforced, o.deferrable), (n.enforced, n.deferrable)))
        })
        .chain(old.check_constraints.iter().filter_map(|o| {
            new.check_constraints.iter().find(|n| ck_key(n) == ck_key(o)).map(|n| (ck_key(o), (o.enforced, false), (n.enforced, false)))
        }))
    {
        if old_state != new_state {
            let (status, details) = match (old_state.0, new_state.0) {
                (false, true) => (Compatibility::Breaking, format!("{kind} now validated: existing rows must satisfy it")),
                (true, false) => (Compatibility::Compatible, format!("{kind} no longer validated for existing rows")),
                _ => (Compatibility::Compatible, format!("{kind} deferrable: {} -> {}", old_state.1, new_state.1)),
            };
            out.push(change(ObjectType::Constraint, t, &kind, ChangeType::Modified, status, details));
        }
    }
    let mut emit = |old_keys: Vec<(String, String)>, new_keys: Vec<(String, String)>, what: &str, added_details: &str| {
        for (key, name) in &old_keys {
            if !new_keys.iter().any(|(k, _)| k == key) {
                out.push(change(
                    ObjectType::Constraint,
                    t,
                    name,
                    ChangeType::Removed,
                    Compatibility::Compatible,
                    format!("{what} {key} dropped: the database no longer enforces it"),
                ));
            }
        }
        for (key, name) in &new_keys {
            if !old_keys.iter().any(|(k, _)| k == key) {
                out.push(change(
                    ObjectType::Constraint,
                    t,
                    name,
                    ChangeType::Added,
                    Compatibility::Breaking,
                    format!("{what} {key}: {added_details}"),
                ));
            }
        }
    };
    let named = |name: &Option<String>, key: &str| name.clone().unwrap_or_else(|| key.to_string());
    emit(
        old.foreign_keys.iter().map(|f| (fk_key(f), named(&f.name, &fk_key(f)))).collect(),
        new.foreign_keys.iter().map(|f| (fk_key(f), named(&f.name, &fk_key(f)))).collect(),
        "foreign key",
        "writes referencing a missing parent are rejected where enforced",
    );
    emit(
        old.unique_constraints.iter().map(|u| (uq_key(u), named(&u.name, &uq_key(u)))).collect(),
        new.unique_constraints.iter().map(|u| (uq_key(u), named(&u.name, &uq_key(u)))).collect(),
        "unique constraint",
        "writes that duplicate a key are rejected",
    );
    emit(
        old.check_constraints.iter().map(|c| (ck_key(c), named(&c.name, &ck_key(c)))).collect(),
        new.check_constraints.iter().map(|c| (ck_key(c), named(&c.name, &ck_key(c)))).collect(),
        "check constraint",
        "writes violating it are rejected",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Index};
    use proptest::prelude::*;

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column { name: name.into(), data_type: ty.into(), nullable, default: None, auto_increment: false }
    }

    fn table(name: &str, cols: Vec<Column>) -> Table {
        Table { name: name.into(), columns: cols, primary_key: vec!["id".into()], ..Default::default() }
    }

    fn snapshot(tables: Vec<Table>) -> SchemaSnapshot {
        SchemaSnapshot { tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(), ..Default::default() }
    }

    #[test]
    fn classifies_column_and_index_changes() {
        let before = snapshot(vec![table(
            "users",
            vec![col("id", "INTEGER", false), col("email", "VARCHAR(255)", true), col("age", "INTEGER", true)],
        )]);
        let mut users = table("users", vec![col("id", "INTEGER", false), col("email", "VARCHAR(50)", false), col("tier", "TEXT", false)]);
        users.indexes.push(Index { name: "ix_email".into(), columns: vec!["email".into()], unique: true, ..Default::default() });
        let after = snapshot(vec![users, table("orders", vec![col("id", "INTEGER", false)])]);
        let changes = diff(&before, &after);
        let find = |name: &str| changes.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("{name} in {changes:#?}"));
        assert_eq!(find("orders").compatibility_status, Compatibility::Compatible);
        assert_eq!(find("email").change_type, ChangeType::Modified);
        assert_eq!(find("email").compatibility_status, Compatibility::Breaking);
        assert!(find("email").details.contains("narrowed"));
        // age removed and tier added at the same position but with another shape: not a rename.
        assert_eq!(find("age").compatibility_status, Compatibility::Destructive);
        assert_eq!(find("tier").compatibility_status, Compatibility::Breaking);
        assert_eq!(find("ix_email").compatibility_status, Compatibility::Breaking);
    }

    #[test]
    fn detects_renames() {
        let before = snapshot(vec![table("users", vec![col("id", "INTEGER", false), col("name", "TEXT", true)])]);
        let after = snapshot(vec![table("customers", vec![col("id", "INTEGER", false), col("name", "TEXT", true)])]);
        let changes = diff(&before, &after);
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert!(changes[0].details.contains("renamed to customers"));

        let after = snapshot(vec![table("users", vec![col("id", "INTEGER", false), col("full_name", "TEXT", true)])]);
        let changes = diff(&before, &after);
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert_eq!(changes[0].compatibility_status, Compatibility::Breaking);
        assert!(changes[0].details.contains("renamed to full_name"));
    }

    fn arb_table() -> impl Strategy<Value = Table> {
        ("[a-z]{1,8}", proptest::collection::vec(("[a-z]{1,6}", prop_oneof!["INTEGER", "TEXT", "REAL"], any::<bool>()), 1..6)).prop_map(
            |(name, cols)| {
                let mut seen = BTreeSet::new();
                let columns = cols.into_iter().filter(|(n, _, _)| seen.insert(n.clone())).map(|(n, t, null)| col(&n, &t, null)).collect();
                Table { name, columns, ..Default::default() }
            },
        )
    }

    proptest! {
        #[test]
        fn diff_of_a_schema_with_itself_is_empty(tables in proptest::collection::vec(arb_table(), 0..5)) {
            let s = snapshot(tables);
            prop_assert!(diff(&s, &s).is_empty());
        }

        #[test]
        fn diff_is_deterministic(a in proptest::collection::vec(arb_table(), 0..4), b in proptest::collection::vec(arb_table(), 0..4)) {
            let (a, b) = (snapshot(a), snapshot(b));
            prop_assert_eq!(diff(&a, &b), diff(&a, &b));
        }
    }
}

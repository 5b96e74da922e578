//! The layouts on the fixture repositories of `tests/fixtures/layouts/` (the same twelve
//! migrations laid out for each tool), and pending-migration planning against histories.

use std::path::PathBuf;

use super::history::{pending, Applied, History};
use super::*;
use crate::findings::FindingId;

fn fixture(tool: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/layouts").join(tool)
}

/// The migration names' stems (`create_users` ...) in apply order.
fn stems(set: &MigrationSet) -> Vec<String> {
    set.migrations
        .iter()
        .map(|m| {
            let path = std::path::Path::new(&m.name);
            let file = if matches!(path.file_name().and_then(|f| f.to_str()), Some("up.sql" | "migration.sql")) {
                path.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned()
            } else {
                path.file_name().unwrap().to_string_lossy().into_owned()
            };
            let no_ext = file.trim_end_matches(".sql").trim_end_matches(".up");
            no_ext.split_once('_').map(|(_, rest)| rest.trim_start_matches('_').to_string()).unwrap_or(no_ext.to_string())
        })
        .collect()
}

const ORDER: [&str; 12] = [
    "create_users",
    "create_orders",
    "add_user_name",
    "index_orders_user",
    "create_products",
    "noop_for_this_database",
    "add_order_status",
    "create_order_items",
    "seed_products",
    "index_product_name",
    "add_user_created_at",
    "create_audit_log",
];

#[test]
fn every_layout_is_detected_and_read_in_the_tools_order() {
    for (dir, layout) in [
        ("flyway", Layout::Flyway),
        ("golang-migrate", Layout::GolangMigrate),
        ("sqlx", Layout::Sqlx),
        ("diesel", Layout::Diesel),
        ("prisma", Layout::Prisma),
        ("dbmate", Layout::Dbmate),
        ("goose", Layout::Goose),
        ("plain", Layout::Plain),
    ] {
        let set = read(&[fixture(dir)], None).unwrap();
        assert_eq!((set.layout, set.detected), (layout, true), "{dir}");
        let mut expected: Vec<String> = ORDER.iter().map(|s| s.to_string()).collect();
        if layout == Layout::Flyway {
            expected.push("user_orders_view".into()); // the repeatable runs last
        }
        assert_eq!(stems(&set), expected, "{dir}: apply order");
        // Down parts are never part of what is applied.
        for m in &set.migrations {
            assert!(!m.sql.to_ascii_uppercase().contains("DROP TABLE"), "{dir}: {} holds a down part", m.name);
        }
    }
}

#[test]
fn down_and_undo_files_are_listed_as_ignored() {
    let ignored = |dir: &str| read(&[fixture(dir)], None).unwrap().ignored.into_iter().map(|i| i.reason).collect::<Vec<_>>();
    assert_eq!(ignored("flyway"), ["undo migration (never applied by a migrate)"]);
    assert_eq!(ignored("golang-migrate").len(), 12);
    assert_eq!(ignored("diesel").len(), 12);
    assert_eq!(ignored("plain"), ["down migration (never applied)"]);
}

#[test]
fn transactions_follow_each_tool() {
    let flag = |dir: &str, stem: &str| {
        let set = read(&[fixture(dir)], None).unwrap();
        let i = stems(&set).iter().position(|s| s == stem).unwrap();
        set.migrations[i].transactional
    };
    assert_eq!(flag("sqlx", "index_product_name"), Some(false));
    assert_eq!(flag("sqlx", "create_users"), Some(true));
    assert_eq!(flag("diesel", "index_product_name"), Some(false));
    assert_eq!(flag("dbmate", "index_product_name"), Some(false));
    assert_eq!(flag("goose", "index_product_name"), Some(false));
    assert_eq!(flag("goose", "create_users"), Some(true));
    // golang-migrate sends a file as one query: several statements make one transaction.
    assert_eq!(flag("golang-migrate", "seed_products"), Some(true));
    assert_eq!(flag("golang-migrate", "create_users"), Some(false));
    assert_eq!(flag("plain", "create_users"), None);
}

#[test]
fn sections_keep_line_numbers() {
    let text = "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n";
    let m = dbmate::migration("x.sql".into(), text, None);
    assert_eq!(m.sql.lines().nth(1), Some("CREATE TABLE a (id int);"));
    assert!(!m.sql.contains("DROP"));
    let goose = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\n-- +goose Down\nDROP FUNCTION f;\n";
    let m = goose::migration("y.sql".into(), goose, None);
    assert!(m.sql.contains("CREATE FUNCTION") && !m.sql.contains("DROP FUNCTION"));
}

#[test]
fn checksums_are_the_tools() {
    // Reference values computed independently (CRC32 over each line without its ending).
    let create = "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    email VARCHAR(200) NOT NULL\n);\n";
    assert_eq!(flyway::checksum(create), -345586087);
    assert_eq!(flyway::checksum("a\r\nb\r\n"), flyway::checksum("a\nb\n"), "line endings do not matter");
    assert_eq!(flyway::checksum("\u{feff}a\nb"), -1635563411, "nor does a byte-order mark");
    assert!(sqlx::checksum("SELECT 1;\n").starts_with("24454095d8d7876c"));
    assert!(prisma::checksum("SELECT 1;\n").starts_with("b4e0497804e46e0a"));
}

#[test]
fn a_file_with_sections_is_read_as_its_up_part_and_down_files_are_refused() {
    let (m, layout) = read_file(&fixture("dbmate").join("20240101000000_create_users.sql")).unwrap();
    assert_eq!(layout, Layout::Dbmate);
    assert!(m.sql.contains("CREATE TABLE users") && !m.sql.contains("DROP TABLE"));
    let err = read_file(&fixture("golang-migrate").join("1_create_users.down.sql")).unwrap_err().to_string();
    assert!(err.contains("down/undo migration"), "{err}");
}

#[test]
fn a_forced_layout_wins_and_mixed_directories_are_refused() {
    let set = read(&[fixture("plain")], Some(Layout::Sqlx)).unwrap();
    assert_eq!((set.layout, set.detected), (Layout::Sqlx, false));
    let err = read(&[fixture("flyway"), fixture("dbmate")], None).unwrap_err().to_string();
    assert!(err.contains("laid out for dbmate") && err.contains("flyway"), "{err}");
}

fn applied(version: &str, checksum: Option<&str>) -> Applied {
    Applied { version: Some(version.into()), script: None, checksum: checksum.map(String::from), success: true, failed: false }
}

#[test]
fn pending_migrations_checksum_mismatches_and_out_of_order() {
    let set = read(&[fixture("flyway")], None).unwrap();
    let checksum_of = |v: &str| set.migrations.iter().find(|m| m.version.as_deref() == Some(v)).unwrap().checksum.clone();
    let mut rows: Vec<Applied> = (1..=7).map(|v| applied(&v.to_string(), checksum_of(&v.to_string()).as_deref())).collect();
    rows[2].checksum = Some("12345".into()); // V3 was edited after it ran
    rows.push(applied("9", checksum_of("9").as_deref())); // V8 is missing: out of order
    let history = History { layout: Layout::Flyway, table: "flyway_schema_history".into(), applied: rows, up_to: None, dirty: None };
    let plan = pending(&set, &history);
    let pending_versions: Vec<_> = plan.pending.iter().map(|m| m.version.clone().unwrap_or_else(|| "R".into())).collect();
    assert_eq!(pending_versions, ["8", "10", "11", "12", "R"]);
    assert_eq!(plan.applied.len(), 8);
    let rules: Vec<FindingId> = plan.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, [FindingId::MigrationChecksumMismatch, FindingId::MigrationOutOfOrder]);
    assert!(plan.findings[0].message.contains("V3__add_user_name.sql"), "{}", plan.findings[0].message);
    assert!(plan.findings[1].message.contains("version 8") && plan.findings[1].message.contains("version 9"));
}

#[test]
fn golang_migrate_keeps_the_latest_version_and_dirty() {
    let set = read(&[fixture("golang-migrate")], None).unwrap();
    let history = History {
        layout: Layout::GolangMigrate,
        table: "schema_migrations".into(),
        applied: vec![],
        up_to: Some("10".into()),
        dirty: Some("10".into()),
    };
    let plan = pending(&set, &history);
    assert_eq!(plan.pending.iter().map(|m| m.version.clone().unwrap()).collect::<Vec<_>>(), ["11", "12"]);
    assert_eq!(plan.findings[0].rule, FindingId::MigrationHistoryDirty);
}

#[test]
fn diesel_versions_match_without_dashes() {
    let set = read(&[fixture("diesel")], None).unwrap();
    let rows = vec![applied("20240101000000", None), applied("2024-01-02-000000", None)];
    let history = History { layout: Layout::Diesel, table: "__diesel_schema_migrations".into(), applied: rows, up_to: None, dirty: None };
    assert_eq!(pending(&set, &history).pending.len(), 10);
}

#[test]
fn a_failed_entry_blocks_like_a_dirty_flag_but_a_rollback_does_not() {
    let set = read(&[fixture("flyway")], None).unwrap();
    let mut rows: Vec<Applied> = (1..=3).map(|v| applied(&v.to_string(), None)).collect();
    rows.push(Applied { success: false, failed: true, ..applied("4", None) });
    let history = History { layout: Layout::Flyway, table: "flyway_schema_history".into(), applied: rows, up_to: None, dirty: None };
    let plan = pending(&set, &history);
    assert_eq!(plan.findings.iter().map(|f| f.rule).collect::<Vec<_>>(), [FindingId::MigrationHistoryDirty]);
    assert!(plan.findings[0].message.contains("failed migration(s), the first 4"), "{}", plan.findings[0].message);
    assert_eq!(plan.pending[0].version.as_deref(), Some("4"), "the failed one is still pending");

    // goose writes is_applied = false for a migration rolled back: pending again, nothing wrong.
    let set = read(&[fixture("goose")], None).unwrap();
    let first = set.migrations[0].version.clone().unwrap();
    let rows = vec![Applied { success: false, ..applied(&first, None) }];
    let history = History { layout: Layout::Goose, table: "goose_db_version".into(), applied: rows, up_to: None, dirty: None };
    let plan = pending(&set, &history);
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);
    assert_eq!(plan.pending.len(), set.migrations.len());
}

#[test]
fn flyway_files_read_on_every_core_keep_order_and_the_first_bad_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for v in 1..=40 {
        std::fs::write(dir.path().join(format!("V{v}__step.sql")), format!("SELECT {v};\n")).unwrap();
    }
    let (read, _) = flyway::read(dir.path()).unwrap();
    let versions: Vec<&str> = read.iter().map(|m| m.version.as_deref().unwrap()).collect();
    let expected: Vec<String> = (1..=40).map(|v| v.to_string()).collect();
    assert_eq!(versions, expected);
    // Two unreadable files: the error names the first, as reading on one thread did.
    std::fs::write(dir.path().join("V41__bad.sql"), [b'S', 0xff, b'\n']).unwrap();
    std::fs::write(dir.path().join("V45__bad.sql"), [0xfe]).unwrap();
    for _ in 0..20 {
        let err = flyway::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("V41__bad.sql") && err.contains("not UTF-8"), "{err}");
    }
}

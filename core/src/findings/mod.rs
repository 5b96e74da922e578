//! Every finding the product can report, as one typed id with its documentation.
//!
//! A finding id names what was found (`ban-drop-table`, `migration-fails`, `etl-missing-rows`
//! ...). Static rules document themselves in their own file under `rules/`; the findings that
//! a check raises from what it observed document themselves next to that check
//! (`checks/*/findings.rs`). [`FindingId::doc`] finds either, and a test makes sure every id
//! has exactly one. The rule pages in `docs/rules/`, the rule table of docs/schema-validation.md, the SARIF rule
//! table and `dbconsultant schema rules` are produced from this catalogue.

use crate::dialect::Dialect;
use crate::model::Severity;
use crate::rules::Policy;

string_enum!(
    /// The id of a finding: what a static rule, the sandbox or a check found.
    FindingId as ("finding id") {
        // Static rules (rules/*.rs).
        SyntaxError => "syntax-error",
        UnanalyzedStatement => "unanalyzed-statement",
        PsqlMetaCommand => "psql-meta-command",
        BanDropTable => "ban-drop-table",
        BanDropColumn => "ban-drop-column",
        BanDropSchema => "ban-drop-schema",
        BanTruncate => "ban-truncate",
        DeleteWithoutWhere => "delete-without-where",
        UpdateWithoutWhere => "update-without-where",
        RenamingTable => "renaming-table",
        RenamingColumn => "renaming-column",
        ChangingColumnType => "changing-column-type",
        AddingNotNullColumnWithoutDefault => "adding-not-null-column-without-default",
        SettingNotNull => "setting-not-null",
        RequireConcurrentIndexCreation => "require-concurrent-index-creation",
        RequireConcurrentIndexDeletion => "require-concurrent-index-deletion",
        ConstraintMissingNotValid => "constraint-missing-not-valid",
        DisallowedUniqueConstraint => "disallowed-unique-constraint",
        AddingVolatileDefault => "adding-volatile-default",
        ConcurrentlyInTransaction => "concurrently-in-transaction",
        RequireLockTimeout => "require-lock-timeout",
        MysqlAlterCopiesTable => "mysql-alter-copies-table",
        MysqlForeignKeyLargeTable => "mysql-foreign-key-large-table",
        MysqlModifyDropsAttributes => "mysql-modify-drops-attributes",
        MysqlColumnPosition => "mysql-column-position",
        MysqlImplicitCommit => "mysql-implicit-commit",
        MysqlCharsetChange => "mysql-charset-change",
        SqliteUnsupportedAlter => "sqlite-unsupported-alter",
        SqliteTableRebuild => "sqlite-table-rebuild",
        RequirePrimaryKey => "require-primary-key",
        PreferBigintPrimaryKey => "prefer-bigint-primary-key",
        PreferTimestamptz => "prefer-timestamptz",
        PreferDecimalForMoney => "prefer-decimal-for-money",
        BanHardDelete => "ban-hard-delete",
        RequireSoftDeleteColumns => "require-soft-delete-columns",
        BanDropDatabase => "ban-drop-database",
        BanTruncateCascade => "ban-truncate-cascade",
        BanDropNotNull => "ban-drop-not-null",
        BanCharField => "ban-char-field",
        PreferTextField => "prefer-text-field",
        PreferBigintOverInt => "prefer-bigint-over-int",
        PreferBigintOverSmallint => "prefer-bigint-over-smallint",
        PreferIdentity => "prefer-identity",
        AddingSerialPrimaryKeyField => "adding-serial-primary-key-field",
        AddingForeignKeyConstraint => "adding-foreign-key-constraint",
        BanCreateDomainWithConstraint => "ban-create-domain-with-constraint",
        BanAlterDomainWithAddConstraint => "ban-alter-domain-with-add-constraint",
        TransactionNesting => "transaction-nesting",
        BanUncommittedTransaction => "ban-uncommitted-transaction",
        RequireEnumValueOrdering => "require-enum-value-ordering",
        RequireStatementTimeout => "require-statement-timeout",
        IdentifierTooLong => "identifier-too-long",
        RequireConcurrentReindex => "require-concurrent-reindex",
        RequireConcurrentRefresh => "require-concurrent-refresh",
        BanExclusiveMaintenance => "ban-exclusive-maintenance",
        PreferRobustStmts => "prefer-robust-stmts",
        RequireTableSchema => "require-table-schema",
        // Schema validation: what the sandbox showed (checks/schema/findings.rs).
        MigrationFails => "migration-fails",
        NewConstraintViolated => "new-constraint-violated",
        ConstraintCheckError => "constraint-check-error",
        LockObserved => "lock-observed",
        AlterAlgorithm => "alter-algorithm",
        SandboxNote => "sandbox-note",
        SandboxSkipped => "sandbox-skipped",
        SandboxOnTarget => "sandbox-on-target",
        SandboxTimeout => "sandbox-timeout",
        EmptyMigration => "empty-migration",
        UnusedIgnore => "unused-ignore",
        MigrationChecksumMismatch => "migration-checksum-mismatch",
        MigrationOutOfOrder => "migration-out-of-order",
        MigrationHistoryDirty => "migration-history-dirty",
        // Data integrity (checks/integrity/findings.rs).
        IntegrityPk => "integrity-pk",
        IntegrityFk => "integrity-fk",
        IntegrityUnique => "integrity-unique",
        IntegrityNotNull => "integrity-not-null",
        IntegrityCheck => "integrity-check",
        IntegrityRule => "integrity-rule",
        IntegrityCheckError => "integrity-check-error",
        TableWithoutPrimaryKey => "table-without-primary-key",
        // ETL reconciliation (checks/etl/findings.rs).
        EtlCountMismatch => "etl-count-mismatch",
        EtlMissingRows => "etl-missing-rows",
        EtlExtraRows => "etl-extra-rows",
        EtlChangedRows => "etl-changed-rows",
        EtlWithinTolerance => "etl-within-tolerance",
        EtlNullKey => "etl-null-key",
        EtlDuplicateKey => "etl-duplicate-key",
        EtlColumnNotCompared => "etl-column-not-compared",
        EtlAggregateMismatch => "etl-aggregate-mismatch",
        // Query performance (checks/perf/findings.rs).
        FullScanOnLargeTable => "full-scan-on-large-table",
        EstimateOff10x => "estimate-off-10x",
        SpillToDisk => "spill-to-disk",
        FunctionOnIndexedColumn => "function-on-indexed-column",
        SelectStarWideTable => "select-star-wide-table",
        NPlusOne => "n-plus-one",
    }
);

/// Where a finding comes from: a static rule for some dialects, or a check's observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A static rule, run on scripts of these dialects.
    Rule(&'static [Dialect]),
    /// Schema validation, from running the migration in the sandbox.
    Sandbox,
    Integrity,
    Etl,
    Performance,
}

impl Scope {
    /// As the rule table prints it: `sqlite,postgres,mysql`, `sandbox`, `integrity` ...
    pub fn label(self) -> String {
        match self {
            Scope::Rule(dialects) => dialects.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(","),
            Scope::Sandbox => "sandbox".into(),
            Scope::Integrity => "integrity".into(),
            Scope::Etl => "etl".into(),
            Scope::Performance => "performance".into(),
        }
    }
}

/// What a finding means, for users: the rule pages, SARIF's rule table, `schema rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingDoc {
    /// Default severity; the context may make one finding milder or worse.
    pub severity: Severity,
    pub scope: Scope,
    /// Opt-in policy the rule belongs to, if any.
    pub policy: Option<Policy>,
    /// One sentence: the problem.
    pub summary: &'static str,
    /// Why it matters and what happens in production.
    pub details: &'static str,
    /// An example that triggers it (SQL, or a situation).
    pub bad: &'static str,
    /// The safer way to do the same thing.
    pub good: &'static str,
}

impl FindingId {
    /// The documentation of this finding.
    pub fn doc(self) -> &'static FindingDoc {
        if let Some(rule) = crate::rules::find_rule(self) {
            return rule.doc();
        }
        crate::checks::finding_docs().find(|(id, _)| *id == self).map(|(_, doc)| doc).unwrap_or_else(|| {
            // Unreachable: a test checks that every id is documented exactly once.
            panic!("finding id {self} has no documentation")
        })
    }

    /// Default severity (see [`FindingDoc::severity`]).
    pub fn severity(self) -> Severity {
        self.doc().severity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_documented_exactly_once_and_kebab_case() {
        for id in FindingId::ALL {
            let from_rules = crate::rules::all_rules().iter().filter(|r| r.id() == *id).count();
            let from_checks = crate::checks::finding_docs().filter(|(i, _)| i == id).count();
            assert_eq!(from_rules + from_checks, 1, "{id}: documented {from_rules} times by rules, {from_checks} by checks");
            assert!(id.as_str().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{id}");
            let doc = id.doc();
            for (what, text) in [("summary", doc.summary), ("details", doc.details), ("bad", doc.bad), ("good", doc.good)] {
                assert!(!text.trim().is_empty(), "{id}: empty {what}");
            }
            assert!(doc.summary.ends_with('.'), "{id}: the summary is a sentence");
        }
    }

    #[test]
    fn ids_parse_and_print_the_same_and_typos_name_the_choices() {
        for id in FindingId::ALL {
            assert_eq!(id.as_str().parse::<FindingId>().unwrap(), *id);
        }
        let err = "ban-drop-tabel".parse::<FindingId>().unwrap_err().to_string();
        assert!(err.contains("unknown finding id 'ban-drop-tabel'") && err.contains("ban-drop-table"), "{err}");
    }
}

//! One constraint as SQL: a count of the rows that break it and a bounded, masked sample of
//! them, pushed down to wherever the rows are (the sandbox, or the target's read-only
//! session).

use crate::dialect::Dialect;
use crate::driver::Sandbox;
use crate::masking::Masker;
use crate::model::{IntegrityType, SchemaSnapshot};

type Row = serde_json::Map<String, serde_json::Value>;
type Rows = Vec<Row>;

/// A single SQL check of existing rows against one constraint.
pub struct ConstraintCheck {
    pub table: String,
    pub integrity_type: IntegrityType,
    pub constraint: String,
    /// Counts offending rows (column `offending`). For key checks it also returns the first
    /// duplicated keys, so one grouping pass gives both the count and what to sample.
    pub count_sql: String,
    /// One row, one column: the number of offending rows and nothing else (for key checks the
    /// rows in duplicated groups), so many checks can be answered by one query.
    pub tally_sql: String,
    /// Returns up to N offending rows. For key checks: the ORDER BY of the sample, whose
    /// WHERE clause is built from the keys found.
    pub sample_sql: String,
    /// The referenced table of a foreign-key check.
    pub parent: Option<String>,
    /// Key columns of a uniqueness check.
    pub keys: Vec<String>,
    /// The columns the check reads (empty for CHECK expressions), and the parent's key.
    pub columns: Vec<String>,
    pub parent_columns: Vec<String>,
    dialect: Dialect,
    limit: usize,
}

/// Where checks run: a sandbox, or the target's read-only inspection session with a timeout.
pub enum Querier<'a> {
    Sandbox(&'a mut dyn Sandbox),
    Target(&'a dyn crate::driver::Driver, std::time::Duration),
}

impl Querier<'_> {
    pub async fn query(&mut self, sql: &str, rows: usize) -> std::result::Result<crate::driver::QueryResult, String> {
        match self {
            Querier::Sandbox(s) => s.query(sql, rows).await.map_err(|e| e.to_string()),
            Querier::Target(d, timeout) => match tokio::time::timeout(*timeout, d.query(sql, rows)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
            },
        }
    }
}

fn number(v: Option<&serde_json::Value>) -> u64 {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)).unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().map(|f| f as u64).unwrap_or(0),
        _ => 0,
    }
}

impl ConstraintCheck {
    /// Count the offending rows and fetch a bounded, masked sample.
    pub async fn run(&self, q: &mut Querier<'_>, masker: &Masker) -> std::result::Result<(u64, Rows), String> {
        if self.keys.is_empty() {
            let count = q.query(&self.count_sql, 1).await?.scalar_u64().unwrap_or(0);
            if count == 0 {
                return Ok((0, Vec::new()));
            }
            let rows = q.query(&self.sample_sql, self.limit).await?.rows;
            return Ok((count, rows.into_iter().map(|r| masker.mask_row(r)).collect()));
        }
        // Key checks: the grouping query returns the total and the first duplicated keys;
        // the sample is then the rows holding those keys, numbered by group.
        let groups = q.query(&self.count_sql, self.limit).await?.rows;
        let count = groups.first().map(|g| number(g.get("offending"))).unwrap_or(0);
        if count == 0 {
            return Ok((0, Vec::new()));
        }
        let key_of = |row: &Row| self.keys.iter().map(|k| row.get(k).cloned().unwrap_or_default()).collect::<Vec<_>>();
        let wanted: Vec<Vec<serde_json::Value>> = groups.iter().map(key_of).collect();
        let literal = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => self.dialect.string_literal(s),
            serde_json::Value::Bool(b) => {
                if *b {
                    "1".into()
                } else {
                    "0".into()
                }
            }
            other => other.to_string(),
        };
        let matches = wanted
            .iter()
            .map(|key| {
                let parts =
                    self.keys.iter().zip(key).map(|(k, v)| format!("{} = {}", self.dialect.quote_ident(k), literal(v))).collect::<Vec<_>>();
                format!("({})", parts.join(" AND "))
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        // For key checks `sample_sql` holds the ORDER BY of the sample.
        let sample = format!(
            "SELECT * FROM {} WHERE {matches} ORDER BY {} LIMIT {}",
            self.dialect.quote_ident(&self.table),
            self.sample_sql,
            self.limit
        );
        let rows = match q.query(&sample, self.limit).await {
            Ok(r) => r.rows,
            // Keys whose printed form does not compare equal (floats, exotic types): show the
            // duplicated keys themselves.
            Err(_) => groups
                .into_iter()
                .map(|mut g| {
                    g.remove("offending");
                    g
                })
                .collect(),
        };
        let numbered = rows
            .into_iter()
            .map(|row| {
                let group = wanted.iter().position(|k| *k == key_of(&row)).map(|i| i + 1);
                let mut out = Row::new();
                out.insert("duplicate_group".into(), group.map(serde_json::Value::from).unwrap_or_default());
                out.extend(row);
                masker.mask_row(out)
            })
            .collect();
        Ok((count, numbered))
    }
}

/// Builds constraint checks as SQL in one dialect.
pub struct CheckBuilder<'s> {
    dialect: Dialect,
    limit: usize,
    /// Column lists break ties when ordering samples, so the same data always gives the same
    /// sample rows (determinism) even when a key's rows exceed the limit.
    schema: &'s SchemaSnapshot,
}

impl<'s> CheckBuilder<'s> {
    pub fn new(dialect: Dialect, limit: usize, schema: &'s SchemaSnapshot) -> Self {
        CheckBuilder { dialect, limit, schema }
    }

    /// `ORDER BY` for sample rows: the given columns first, then every column of the table.
    fn sample_order(&self, table: &str, first: &[String]) -> String {
        let mut cols: Vec<String> = first.to_vec();
        if let Some(t) = self.schema.table(table) {
            cols.extend(t.columns.iter().map(|c| c.name.clone()).filter(|c| !first.contains(c)));
        }
        cols.iter().map(|c| self.q(c)).collect::<Vec<_>>().join(", ")
    }

    fn q(&self, ident: &str) -> String {
        self.dialect.quote_ident(ident)
    }

    fn list(&self, cols: &[String], prefix: &str) -> String {
        cols.iter().map(|c| format!("{prefix}{}", self.q(c))).collect::<Vec<_>>().join(", ")
    }

    /// Rows that share a key with another row (NULLs never clash), numbered by group so
    /// clashing rows stay recognisable even when masking hides the key itself.
    pub fn unique(
        &self,
        table: &str,
        cols: &[String],
        predicate: Option<&str>,
        integrity_type: IntegrityType,
        constraint: String,
    ) -> ConstraintCheck {
        let t = self.q(table);
        let list = self.list(cols, "");
        let mut filter = cols.iter().map(|c| format!("{} IS NOT NULL", self.q(c))).collect::<Vec<_>>().join(" AND ");
        if let Some(p) = predicate {
            filter = format!("{filter} AND ({p})");
        }
        ConstraintCheck {
            table: table.to_string(),
            integrity_type,
            constraint,
            // One grouping pass: every duplicated key with its row count and, in each row, the
            // total over all keys (a window over the grouped rows, not over the table).
            count_sql: format!(
                "SELECT {list}, n AS duplicate_rows, SUM(n) OVER () AS offending FROM (SELECT {list}, COUNT(*) AS n FROM {t} WHERE {filter} GROUP BY {list} HAVING COUNT(*) > 1) dups ORDER BY {list} LIMIT {}",
                self.limit
            ),
            tally_sql: format!(
                "SELECT COALESCE(SUM(n), 0) AS offending FROM (SELECT COUNT(*) AS n FROM {t} WHERE {filter} GROUP BY {list} HAVING COUNT(*) > 1) dups"
            ),
            sample_sql: self.sample_order(table, cols),
            parent: None,
            keys: cols.to_vec(),
            columns: cols.to_vec(),
            parent_columns: Vec::new(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }

    pub fn not_null(&self, table: &str, column: &str) -> ConstraintCheck {
        let (t, c) = (self.q(table), self.q(column));
        ConstraintCheck {
            table: table.to_string(),
            integrity_type: IntegrityType::NotNull,
            constraint: format!("{table}.{column} NOT NULL"),
            count_sql: format!("SELECT COUNT(*) AS offending FROM {t} WHERE {c} IS NULL"),
            tally_sql: format!("SELECT COUNT(*) AS offending FROM {t} WHERE {c} IS NULL"),
            sample_sql: format!("SELECT * FROM {t} WHERE {c} IS NULL ORDER BY {} LIMIT {}", self.sample_order(table, &[]), self.limit),
            parent: None,
            keys: Vec::new(),
            columns: vec![column.to_string()],
            parent_columns: Vec::new(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }

    /// Child rows whose non-NULL key has no parent. `parent_cols` empty means the parent
    /// table (or its key) does not exist: every reference dangles.
    pub fn foreign_key(&self, table: &str, cols: &[String], parent: &str, parent_cols: &[String], constraint: String) -> ConstraintCheck {
        let t = self.q(table);
        let present = cols.iter().map(|c| format!("c.{} IS NOT NULL", self.q(c))).collect::<Vec<_>>().join(" AND ");
        let orphan = if parent_cols.len() == cols.len() {
            let join =
                cols.iter().zip(parent_cols).map(|(c, p)| format!("p.{} = c.{}", self.q(p), self.q(c))).collect::<Vec<_>>().join(" AND ");
            format!("{present} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {join})", self.q(parent))
        } else {
            present
        };
        ConstraintCheck {
            table: table.to_string(),
            integrity_type: IntegrityType::Fk,
            constraint,
            count_sql: format!("SELECT COUNT(*) AS offending FROM {t} c WHERE {orphan}"),
            tally_sql: format!("SELECT COUNT(*) AS offending FROM {t} c WHERE {orphan}"),
            sample_sql: format!(
                "SELECT c.* FROM {t} c WHERE {orphan} ORDER BY {} LIMIT {}",
                self.sample_order(table, cols).split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", "),
                self.limit
            ),
            parent: Some(parent.to_string()),
            keys: Vec::new(),
            columns: cols.to_vec(),
            parent_columns: parent_cols.to_vec(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }

    /// Rows for which the expression is false (NULL passes, as in SQL).
    pub fn check(&self, table: &str, expression: &str, constraint: String) -> ConstraintCheck {
        let t = self.q(table);
        ConstraintCheck {
            table: table.to_string(),
            integrity_type: IntegrityType::Check,
            constraint,
            count_sql: format!("SELECT COUNT(*) AS offending FROM {t} WHERE NOT ({expression})"),
            tally_sql: format!("SELECT COUNT(*) AS offending FROM {t} WHERE NOT ({expression})"),
            sample_sql: format!(
                "SELECT * FROM {t} WHERE NOT ({expression}) ORDER BY {} LIMIT {}",
                self.sample_order(table, &[]),
                self.limit
            ),
            parent: None,
            keys: Vec::new(),
            columns: Vec::new(),
            parent_columns: Vec::new(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }
}

//! From a request and the two schemas to a plan: which columns pair up, how each pair is
//! compared, and every query one side runs (built from its dialect's [`EtlSql`]).

use serde_json::Value;

use super::request::EtlRequest;
use crate::driver::etl_sql::{CompareKind, EtlSql, TypeClass};
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::model::{SchemaSnapshot, Table};

/// One column on one side.
#[derive(Debug, Clone)]
pub struct SideColumn {
    pub name: String,
    pub data_type: String,
    pub class: TypeClass,
    /// Can hold NULL (as declared); a NOT NULL column's encoding needs no NULL marker.
    pub nullable: bool,
}

/// A compared column pair.
#[derive(Debug, Clone)]
pub struct ColumnPair {
    pub source: SideColumn,
    pub target: SideColumn,
    pub kind: CompareKind,
    /// Absolute tolerance (numeric kinds), from the request.
    pub tolerance: Option<f64>,
}

impl ColumnPair {
    /// `amount` or `amount→amount_usd`.
    pub fn label(&self) -> String {
        if self.source.name == self.target.name {
            self.source.name.clone()
        } else {
            format!("{}→{}", self.source.name, self.target.name)
        }
    }
}

/// Which side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Source,
    Target,
}

/// The key and compared columns, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub keys: Vec<ColumnPair>,
    pub columns: Vec<ColumnPair>,
    /// Columns present on one side only (not compared; reported).
    pub unmatched: Vec<(Which, String)>,
}

/// A key as the boundary side returned it (raw values, one per key column).
pub type KeyValues = Vec<Value>;

/// A half-open key range `[lo, hi)`; `None` is unbounded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyRange {
    pub lo: Option<KeyValues>,
    pub hi: Option<KeyValues>,
}

/// Queries of one side.
pub struct Side<'a> {
    pub which: Which,
    pub driver: &'a dyn Driver,
    pub sql: &'static dyn EtlSql,
    pub table: &'a Table,
    pub filter: Option<String>,
    pub plan: &'a Plan,
}

fn lookup<'t>(table: &'t Table, name: &str) -> Option<&'t crate::model::Column> {
    table.column(name).or_else(|| table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)))
}

/// Which way a pair of classes is compared, or why it cannot be.
pub fn compare_kind(a: &TypeClass, b: &TypeClass, round: Option<u32>, float_decimals: u32) -> std::result::Result<CompareKind, String> {
    use TypeClass as T;
    let textual = |c: &TypeClass| matches!(c, T::Text | T::Char);
    let numeric = |c: &TypeClass| matches!(c, T::Int | T::Decimal { .. } | T::Float);
    let kind = match (a, b) {
        (T::Int, T::Int) if round.is_none() => CompareKind::Int,
        (T::Bool, T::Bool) | (T::Bool, T::Int) | (T::Int, T::Bool) => CompareKind::Bool,
        (x, y) if numeric(x) && numeric(y) => {
            if matches!(x, T::Float) || matches!(y, T::Float) {
                CompareKind::Float { decimals: round.unwrap_or(float_decimals) }
            } else {
                let scale = |c: &TypeClass| match c {
                    T::Decimal { scale } => *scale,
                    _ => Some(0),
                };
                let declared = match (scale(x), scale(y)) {
                    (Some(p), Some(q)) => Some(p.max(q)),
                    _ => None,
                };
                match (x, y, round) {
                    (T::Decimal { scale: Some(p) }, T::Decimal { scale: Some(q) }, None) if p == q => {
                        CompareKind::FixedDecimal { scale: *p }
                    }
                    _ => CompareKind::Decimal { scale: round.or(declared) },
                }
            }
        }
        (T::Char, y) | (y, T::Char) if textual(y) => CompareKind::Char,
        (T::Text, T::Text) => CompareKind::Text,
        (T::Uuid, y) | (y, T::Uuid) if textual(y) || matches!(y, T::Uuid) => CompareKind::Uuid,
        (T::Json, y) | (y, T::Json) if textual(y) || matches!(y, T::Json) => CompareKind::Json,
        (T::Timestamp { precision: p, .. }, T::Timestamp { precision: q, .. }) => CompareKind::Timestamp { precision: (*p).min(*q) },
        (T::Timestamp { precision, .. }, y) | (y, T::Timestamp { precision, .. }) if textual(y) || matches!(y, T::Date) => {
            CompareKind::Timestamp { precision: *precision }
        }
        (T::Date, y) | (y, T::Date) if textual(y) || matches!(y, T::Date) => CompareKind::Date,
        (T::Time, y) | (y, T::Time) if textual(y) || matches!(y, T::Time) => CompareKind::Time,
        (T::Binary, T::Binary) => CompareKind::Binary,
        // Integers held in text columns (SQLite without declared types) compare as text.
        (x, y) if (textual(x) && matches!(y, T::Int)) || (textual(y) && matches!(x, T::Int)) => CompareKind::Text,
        (T::Other(x), T::Other(y)) if x == y => CompareKind::Text,
        _ => return Err("these types have no common comparable form".into()),
    };
    Ok(kind)
}

/// Do two key classes order the same way on both sides?
fn keys_comparable(a: &TypeClass, b: &TypeClass) -> bool {
    use TypeClass as T;
    let family = |c: &TypeClass| match c {
        T::Int => 0,
        T::Text | T::Char | T::Uuid => 1,
        T::Decimal { .. } => 2,
        T::Timestamp { .. } => 3,
        T::Date => 4,
        T::Binary => 5,
        _ => 9,
    };
    let (fa, fb) = (family(a), family(b));
    fa == fb && fa != 9 || matches!((fa, fb), (0, 2) | (2, 0))
}

pub fn resolve_table<'s>(schema: &'s SchemaSnapshot, name: &str, which: &str, target: &str) -> Result<&'s Table> {
    schema
        .table(name)
        .or_else(|| schema.tables.values().find(|t| t.name.eq_ignore_ascii_case(name)))
        .ok_or_else(|| Error::invalid(format!("unknown {which} table '{name}' in {target}")))
}

pub fn build_plan(req: &EtlRequest, sql_s: &dyn EtlSql, src: &Table, sql_t: &dyn EtlSql, tgt: &Table) -> Result<Plan> {
    // No key given: the source table's primary key.
    let key: &[String] = if req.key.is_empty() { &src.primary_key } else { &req.key };
    if key.is_empty() {
        return Err(Error::invalid(format!(
            "source table {} has no primary key: give the key column(s) that identify a row (--key id or --key a,b)",
            src.name
        )));
    }
    let target_name = |source: &str| req.column_map.get(source).cloned().unwrap_or_else(|| source.to_string());
    let pair = |name: &str, is_key: bool| -> Result<ColumnPair> {
        let what = if is_key { "key column" } else { "column" };
        let s = lookup(src, name).ok_or_else(|| Error::invalid(format!("{what} '{name}' not found in source table {}", src.name)))?;
        let tname = target_name(name);
        let t = lookup(tgt, &tname).ok_or_else(|| Error::invalid(format!("{what} '{tname}' not found in target table {}", tgt.name)))?;
        let source =
            SideColumn { name: s.name.clone(), data_type: s.data_type.clone(), class: sql_s.classify(&s.data_type), nullable: s.nullable };
        let target =
            SideColumn { name: t.name.clone(), data_type: t.data_type.clone(), class: sql_t.classify(&t.data_type), nullable: t.nullable };
        if is_key && !keys_comparable(&source.class, &target.class) {
            return Err(Error::invalid(format!(
                "key column '{name}' is {} on the source and {} on the target: keys must have the same kind of type on both sides",
                s.data_type, t.data_type
            )));
        }
        let round = req.round.get(name).copied();
        let kind = compare_kind(&source.class, &target.class, round, req.float_decimals).map_err(|why| {
            Error::invalid(format!(
                "column '{name}' cannot be compared: {} on the source, {} on the target ({why}); leave it out with exclude_columns / --exclude",
                s.data_type, t.data_type
            ))
        })?;
        // Timestamps compare at the precision both databases' normalizations keep.
        let kind = match kind {
            CompareKind::Timestamp { precision } => {
                CompareKind::Timestamp { precision: precision.min(sql_s.max_timestamp_precision()).min(sql_t.max_timestamp_precision()) }
            }
            other => other,
        };
        let tolerance = req.column_tolerance.get(name).copied().or(req.tolerance);
        if let Some(tol) = tolerance.filter(|_| req.column_tolerance.contains_key(name)) {
            if !matches!(
                kind,
                CompareKind::Decimal { .. } | CompareKind::FixedDecimal { .. } | CompareKind::Float { .. } | CompareKind::Int
            ) {
                return Err(Error::invalid(format!("tolerance {tol} given for '{name}', which is not numeric")));
            }
        }
        if tolerance.is_some_and(|t| !(t >= 0.0 && t.is_finite())) {
            return Err(Error::invalid("tolerance must be a finite number ≥ 0"));
        }
        // Same dialect and declared type (JSON aside: its text keeps the input's spacing):
        // the database's own text form compares exactly and costs least.
        let native = sql_s.dialect() == sql_t.dialect()
            && s.data_type.eq_ignore_ascii_case(&t.data_type)
            && round.is_none()
            && tolerance.is_none()
            && kind != CompareKind::Json
            && !matches!(kind, CompareKind::Char);
        let kind = if native { CompareKind::Native } else { kind };
        // Integers with a tolerance are judged like decimals.
        let kind = if tolerance.is_some() && kind == CompareKind::Int { CompareKind::Decimal { scale: Some(0) } } else { kind };
        Ok(ColumnPair { source, target, kind, tolerance })
    };
    let keys = key.iter().map(|k| pair(k, true)).collect::<Result<Vec<_>>>()?;
    let is_key = |name: &str| keys.iter().any(|k| k.source.name.eq_ignore_ascii_case(name));
    let mut unmatched = Vec::new();
    let columns = if req.columns.is_empty() {
        let excluded = |name: &str| req.exclude_columns.iter().any(|x| x.eq_ignore_ascii_case(name));
        let mut out = Vec::new();
        for c in &src.columns {
            if is_key(&c.name) || excluded(&c.name) {
                continue;
            }
            if lookup(tgt, &target_name(&c.name)).is_none() {
                unmatched.push((Which::Source, c.name.clone()));
                continue;
            }
            out.push(pair(&c.name, false)?);
        }
        let mapped: Vec<String> = src.columns.iter().map(|c| target_name(&c.name).to_ascii_lowercase()).collect();
        for c in &tgt.columns {
            if !mapped.contains(&c.name.to_ascii_lowercase()) && !excluded(&c.name) && !keys.iter().any(|k| k.target.name == c.name) {
                unmatched.push((Which::Target, c.name.clone()));
            }
        }
        out
    } else {
        req.columns.iter().filter(|c| !is_key(c)).map(|c| pair(c, false)).collect::<Result<Vec<_>>>()?
    };
    for name in req.column_tolerance.keys().chain(req.round.keys()) {
        if !columns.iter().any(|c| c.source.name.eq_ignore_ascii_case(name)) {
            return Err(Error::invalid(format!("tolerance/rounding given for '{name}', which is not a compared column")));
        }
    }
    Ok(Plan { keys, columns, unmatched })
}

/// Check a user filter is one SQL expression (not a second statement or a clause).
pub fn validate_filter(filter: &str, sql: &dyn EtlSql) -> Result<()> {
    let dialect = sql.dialect().parser_dialect();
    let mut parser =
        sqlparser::parser::Parser::new(&*dialect).try_with_sql(filter).map_err(|e| Error::invalid(format!("filter '{filter}': {e}")))?;
    parser.parse_expr().map_err(|e| Error::invalid(format!("filter '{filter}' is not a SQL condition: {e}")))?;
    if parser.peek_token().token != sqlparser::tokenizer::Token::EOF {
        return Err(Error::invalid(format!("filter '{filter}' must be a single condition (no ';', ORDER BY, ...)")));
    }
    Ok(())
}

impl<'a> Side<'a> {
    fn col(&self, pair: &'a ColumnPair) -> &'a SideColumn {
        match self.which {
            Which::Source => &pair.source,
            Which::Target => &pair.target,
        }
    }

    pub fn label(&self) -> &'static str {
        match self.which {
            Which::Source => "source",
            Which::Target => "target",
        }
    }

    pub fn table_sql(&self) -> String {
        self.sql.quote(&self.table.name)
    }

    fn quoted(&self, pair: &'a ColumnPair) -> String {
        self.sql.quote(&self.col(pair).name)
    }

    /// Canonical text of a column.
    pub fn normalized(&self, pair: &'a ColumnPair) -> String {
        self.normalized_expr(pair, &self.quoted(pair))
    }

    /// Canonical text of an expression over a column (e.g. `min(col)`).
    pub fn normalized_expr(&self, pair: &'a ColumnPair, expr: &str) -> String {
        self.sql.normalize(expr, &self.col(pair).class, &pair.kind)
    }

    /// The row's encoding over the columns of [`Side::normalized_rows`]: keys, then
    /// compared columns.
    pub fn encoding(&self) -> String {
        let parts: Vec<String> = self
            .plan
            .keys
            .iter()
            .chain(&self.plan.columns)
            .enumerate()
            .flat_map(|(i, p)| {
                self.sql.encode_field(
                    &format!("dbc_n{i}"),
                    p.kind.may_contain_quote(&p.source.class) || p.kind.may_contain_quote(&p.target.class),
                    self.col(p).nullable,
                )
            })
            .collect();
        self.sql.concat(&parts)
    }

    /// A derived table of the raw keys and every canonical value (`dbc_n0`...), filtered by
    /// `extra` conditions; fenced where the planner would otherwise inline it.
    pub fn normalized_rows(&self, extra: &[String]) -> String {
        self.rows_with(extra, |p| self.normalized(p))
    }

    /// As [`Side::normalized_rows`], for values that are only ever hashed, never read back:
    /// the dialect may leave the conversion to text to its concatenation.
    fn hashed_rows(&self, extra: &[String]) -> String {
        self.rows_with(extra, |p| self.sql.normalize_for_hash(&self.quoted(p), &self.col(p).class, &p.kind))
    }

    fn rows_with(&self, extra: &[String], value: impl Fn(&'a ColumnPair) -> String) -> String {
        let values: Vec<String> =
            self.plan.keys.iter().chain(&self.plan.columns).enumerate().map(|(i, p)| format!("{} AS dbc_n{i}", value(p))).collect();
        format!(
            "(SELECT {}, {} FROM {}{}{}) dbc_v",
            self.key_columns().join(", "),
            values.join(", "),
            self.table_sql(),
            self.where_sql(extra),
            self.sql.fence()
        )
    }

    /// `WHERE` clause from the filter and extra conditions.
    pub fn where_sql(&self, extra: &[String]) -> String {
        let mut conditions: Vec<String> = extra.iter().filter(|c| !c.is_empty()).cloned().collect();
        if let Some(f) = &self.filter {
            conditions.push(format!("({f})"));
        }
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        }
    }

    /// The key as compared in range predicates (one column or a row value).
    pub fn key_tuple(&self, prefix: &str) -> String {
        let parts: Vec<String> = self
            .plan
            .keys
            .iter()
            .map(|p| self.sql.key_order(&format!("{prefix}{}", self.quoted(p)), &self.col(p).class, &p.kind))
            .collect();
        tuple(parts)
    }

    /// The raw key columns, as selected.
    pub fn key_columns(&self) -> Vec<String> {
        self.plan.keys.iter().map(|p| self.quoted(p)).collect()
    }

    pub fn key_literal(&self, values: &[Value]) -> String {
        tuple(values.iter().map(|v| self.sql.literal(v)).collect())
    }

    /// `key >= lo AND key < hi`.
    pub fn range_predicate(&self, range: &KeyRange) -> String {
        let key = self.key_tuple("");
        let mut parts = Vec::new();
        if let Some(lo) = &range.lo {
            parts.push(format!("{key} >= {}", self.key_literal(lo)));
        }
        if let Some(hi) = &range.hi {
            parts.push(format!("{key} < {}", self.key_literal(hi)));
        }
        parts.join(" AND ")
    }

    pub fn count_sql(&self) -> String {
        format!("SELECT count(*) AS dbc_n FROM {}{}", self.table_sql(), self.where_sql(&[]))
    }

    /// The smallest and largest key of a table keyed by one column (`dbc_lo`, `dbc_hi`), with
    /// the side's filter: two index lookups.
    pub fn key_bounds_sql(&self) -> String {
        let key = self.key_columns().join(", ");
        format!("SELECT min({key}) AS dbc_lo, max({key}) AS dbc_hi FROM {}{}", self.table_sql(), self.where_sql(&[]))
    }

    /// Every `step`-th key of the range, in key order: the lower bounds of segments 1...
    pub fn boundaries_sql(&self, range: &KeyRange, step: u64) -> String {
        let keys = self.key_columns().join(", ");
        let aliased: Vec<String> = self.key_columns().iter().enumerate().map(|(i, k)| format!("{k} AS dbc_k{i}")).collect();
        format!(
            "SELECT {aliased} FROM (SELECT {keys}, row_number() OVER (ORDER BY {order}) AS dbc_rn FROM {table}{where_}) dbc_b WHERE dbc_rn % {step} = 0 ORDER BY {order}",
            aliased = aliased.join(", "),
            order = self.order_by(),
            table = self.table_sql(),
            where_ = self.where_sql(&[self.range_predicate(range)]),
        )
    }

    fn order_by(&self) -> String {
        self.plan.keys.iter().map(|p| self.sql.key_order(&self.quoted(p), &self.col(p).class, &p.kind)).collect::<Vec<_>>().join(", ")
    }

    /// Count and checksum parts per segment of `range`, segments split at `boundaries`;
    /// `step` when they are integers that far apart (the segment is then computed, not
    /// searched for).
    pub fn checksum_sql(&self, range: &KeyRange, boundaries: &[KeyValues], step: Option<i128>) -> String {
        let s = self.sql;
        let single_key = match (self.plan.keys.as_slice(), step, boundaries.first(), boundaries.last()) {
            ([only], Some(step), Some(first), Some(last)) if self.col(only).class == TypeClass::Int => {
                let (key, first, last) = (self.quoted(only), self.key_literal(first), self.key_literal(last));
                let inside = s.int_div(&format!("{key} - {first}"), &step.to_string());
                Some(format!("CASE WHEN {key} < {first} THEN 0 WHEN {key} >= {last} THEN {n} ELSE {inside} + 1 END", n = boundaries.len()))
            }
            ([only], ..) => self.sql.bucket_function(
                &self.quoted(only),
                &self.col(only).class,
                &boundaries.iter().map(|b| self.key_literal(b)).collect::<Vec<_>>(),
            ),
            _ => None,
        };
        let bucket = single_key.unwrap_or_else(|| self.bucket(boundaries, 0, boundaries.len()));
        let sums: Vec<String> = s.checksum_aggregates("dbc_m").iter().enumerate().map(|(i, (e, _))| format!("{e} AS dbc_s{i}")).collect();
        format!(
            "SELECT dbc_seg, count(*) AS dbc_n, {sums} FROM (SELECT {bucket} AS dbc_seg, {md5} AS dbc_m FROM {rows}{fence}) dbc_s GROUP BY dbc_seg",
            sums = sums.join(", "),
            md5 = s.md5(&self.encoding()),
            rows = self.hashed_rows(&[self.range_predicate(range)]),
            fence = s.fence(),
        )
    }

    /// Segment number of a row: a binary search over the boundaries as nested CASEs, so each
    /// row costs log2(segments) comparisons whatever the key type.
    fn bucket(&self, boundaries: &[KeyValues], lo: usize, hi: usize) -> String {
        if lo == hi {
            return lo.to_string();
        }
        let mid = (lo + hi).div_ceil(2);
        format!(
            "CASE WHEN {} < {} THEN {} ELSE {} END",
            self.key_tuple(""),
            self.key_literal(&boundaries[mid - 1]),
            self.bucket(boundaries, lo, mid - 1),
            self.bucket(boundaries, mid, hi)
        )
    }

    /// Raw keys, canonical keys and a row hash for every row of the ranges.
    pub fn row_hashes_sql(&self, ranges: &[KeyRange]) -> String {
        let s = self.sql;
        let alternatives: Vec<String> =
            ranges.iter().map(|r| self.range_predicate(r)).filter(|p| !p.is_empty()).map(|p| format!("({p})")).collect();
        let covering =
            if ranges.is_empty() || alternatives.len() < ranges.len() { String::new() } else { format!("({})", alternatives.join(" OR ")) };
        let raw: Vec<String> = self.key_columns().iter().enumerate().map(|(i, k)| format!("{k} AS dbc_k{i}")).collect();
        let canonical: Vec<String> = (0..self.plan.keys.len()).map(|i| format!("dbc_n{i} AS dbc_nk{i}")).collect();
        format!(
            "SELECT {}, {}, substr({}, 1, 16) AS dbc_h FROM {}",
            raw.join(", "),
            canonical.join(", "),
            s.md5(&self.encoding()),
            self.normalized_rows(&[covering]),
        )
    }

    pub fn normalized_key_select(&self) -> String {
        self.plan.keys.iter().enumerate().map(|(i, p)| format!("{} AS dbc_nk{i}", self.normalized(p))).collect::<Vec<_>>().join(", ")
    }

    /// Canonical keys and column values of the rows with these raw keys.
    pub fn rows_by_key_sql(&self, keys: &[KeyValues]) -> String {
        let list: Vec<String> = keys.iter().map(|k| self.key_literal(k)).collect();
        let raw = tuple(self.key_columns());
        let columns: Vec<String> =
            self.plan.columns.iter().enumerate().map(|(i, p)| format!("{} AS dbc_c{i}", self.normalized(p))).collect();
        let mut select = vec![self.normalized_key_select()];
        select.extend(columns);
        format!("SELECT {} FROM {}{}", select.join(", "), self.table_sql(), self.where_sql(&[format!("{raw} IN ({})", list.join(", "))]))
    }
}

/// One expression, or a parenthesised row value of several.
fn tuple(parts: Vec<String>) -> String {
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// The dialect SQL for a driver.
pub fn sql_for(driver: &dyn Driver) -> &'static dyn EtlSql {
    driver.etl_sql()
}

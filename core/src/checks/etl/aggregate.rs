//! Aggregate reconciliation: count, sum, min and max per column (optionally per group),
//! computed by each database and compared with the column's tolerance.

use std::collections::BTreeMap;

use super::bisect::{text, Runner};
use super::judge::values_equal;
use super::plan::{ColumnPair, Plan, Side};
use super::request::{AggregateFunction, AggregateSpec};
use crate::driver::etl_sql::CompareKind;
use crate::error::{Error, Result};
use crate::model::EtlAggregate;

/// Groups compared at most; more is refused rather than held in memory.
const MAX_GROUPS: usize = 10_000;

fn find<'p>(plan: &'p Plan, name: &str) -> Result<&'p ColumnPair> {
    plan.keys
        .iter()
        .chain(&plan.columns)
        .find(|p| p.source.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| Error::invalid(format!("aggregate column '{name}' is not a key or compared column")))
}

/// The pair an aggregate's value is compared as (counts are integers; sums of integers too).
fn value_pair(spec: &AggregateSpec, pair: Option<&ColumnPair>) -> Result<ColumnPair> {
    let pair = match (spec.function, pair) {
        (AggregateFunction::Count, p) => {
            let mut p = p.cloned().unwrap_or_else(count_pair);
            p.kind = CompareKind::Int;
            p.tolerance = None;
            return Ok(p);
        }
        (_, None) => return Err(Error::invalid(format!("{}:* is not an aggregate (only count:*)", spec.function.as_str()))),
        (_, Some(p)) => {
            let mut p = p.clone();
            if p.kind == CompareKind::Native {
                // Same type on both sides; an aggregate of it compares as its class does.
                p.kind = super::plan::compare_kind(&p.source.class, &p.source.class, None, 6).unwrap_or(CompareKind::Native);
            }
            p
        }
    };
    if spec.function == AggregateFunction::Sum
        && !matches!(
            pair.kind,
            CompareKind::Int | CompareKind::Decimal { .. } | CompareKind::FixedDecimal { .. } | CompareKind::Float { .. }
        )
    {
        return Err(Error::invalid(format!("sum:{} needs a numeric column", spec.column)));
    }
    Ok(pair)
}

fn count_pair() -> ColumnPair {
    use super::plan::SideColumn;
    use crate::driver::etl_sql::TypeClass;
    let side = SideColumn { name: "*".into(), data_type: "count".into(), class: TypeClass::Int, nullable: false };
    ColumnPair { source: side.clone(), target: side, kind: CompareKind::Int, tolerance: None }
}

fn select(side: &Side<'_>, specs: &[(AggregateSpec, Option<&ColumnPair>, ColumnPair)], group: Option<&ColumnPair>) -> String {
    let column = |p: &ColumnPair| match side.which {
        super::plan::Which::Source => side.sql.quote(&p.source.name),
        super::plan::Which::Target => side.sql.quote(&p.target.name),
    };
    let mut parts = Vec::new();
    for (i, (spec, pair, as_pair)) in specs.iter().enumerate() {
        let expr = match (spec.function, pair) {
            (AggregateFunction::Count, None) => side.sql.to_text("count(*)"),
            (AggregateFunction::Count, Some(p)) => side.sql.to_text(&format!("count({})", column(p))),
            (f, Some(p)) => side.normalized_expr(as_pair, &format!("{}({})", f.as_str(), column(p))),
            (_, None) => unreachable!("checked by value_pair"),
        };
        parts.push(format!("{expr} AS dbc_a{i}"));
    }
    match group {
        None => format!("SELECT {} FROM {}{}", parts.join(", "), side.table_sql(), side.where_sql(&[])),
        Some(g) => {
            let g = side.normalized(g);
            format!("SELECT {g} AS dbc_g, {} FROM {}{} GROUP BY {g}", parts.join(", "), side.table_sql(), side.where_sql(&[]))
        }
    }
}

pub async fn reconcile(
    runner: &Runner,
    source: &Side<'_>,
    target: &Side<'_>,
    specs: &[AggregateSpec],
    group_by: Option<&str>,
) -> Result<Vec<EtlAggregate>> {
    let plan = source.plan;
    let mut resolved = Vec::new();
    for spec in specs {
        let pair = if spec.column == "*" { None } else { Some(find(plan, &spec.column)?) };
        let as_pair = value_pair(spec, pair)?;
        resolved.push((spec.clone(), pair, as_pair));
    }
    let group = group_by.map(|g| find(plan, g)).transpose()?;
    let (s, t) = tokio::join!(
        runner.run(source, select(source, &resolved, group), MAX_GROUPS + 1),
        runner.run(target, select(target, &resolved, group), MAX_GROUPS + 1),
    );
    let (s, t) = (s?, t?);
    if s.rows.len() > MAX_GROUPS || t.rows.len() > MAX_GROUPS {
        return Err(Error::invalid(format!(
            "group_by '{}' has more than {MAX_GROUPS} groups; choose a coarser column",
            group_by.unwrap_or("")
        )));
    }
    type Row = serde_json::Map<String, serde_json::Value>;
    let by_group = |rows: &[Row]| -> BTreeMap<Option<String>, Row> { rows.iter().map(|r| (text(r.get("dbc_g")), r.clone())).collect() };
    let (sg, tg) = (by_group(&s.rows), by_group(&t.rows));
    let mut groups: Vec<&Option<String>> = sg.keys().chain(tg.keys()).collect();
    groups.sort();
    groups.dedup();
    let mut out = Vec::new();
    for g in groups {
        for (i, (spec, _, as_pair)) in resolved.iter().enumerate() {
            let name = format!("dbc_a{i}");
            let a = sg.get(g).and_then(|r| text(r.get(&name)));
            let b = tg.get(g).and_then(|r| text(r.get(&name)));
            let present = sg.contains_key(g) && tg.contains_key(g);
            out.push(EtlAggregate {
                group: group.map(|_| g.clone().unwrap_or_else(|| "NULL".into())),
                function: spec.function.as_str().into(),
                column: spec.column.clone(),
                matches: present && values_equal(as_pair, a.as_deref(), b.as_deref()),
                source: a,
                target: b,
            });
        }
    }
    Ok(out)
}

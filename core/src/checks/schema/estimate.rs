//! How long a statement would hold its lock on the target: the time per row measured in the
//! sandbox, times the target's row count, with the uncertainty stated. The sandbox holds a
//! sample, so fixed costs (catalog updates, the first pages) weigh more per row there than on
//! a large table: an estimate from few rows is an upper bound, and its range says so.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Statement};

use crate::driver::LockMode;
use crate::model::Severity;
use crate::rules::ast_names::base_name;
use crate::sql::ParsedStatement;

/// The work a statement does on every row of `table` while holding its lock, other than a
/// rewrite (which the sandbox observes): an index build, or a scan that validates a
/// constraint.
pub fn work_of(stmt: &ParsedStatement, table: &str) -> Option<&'static str> {
    match stmt.statement()? {
        Statement::CreateIndex(ix) if base_name(&ix.table_name).eq_ignore_ascii_case(table) => Some("an index build"),
        Statement::AlterTable(alter) if base_name(&alter.name).eq_ignore_ascii_case(table) => {
            let scans = alter.operations.iter().any(|op| match op {
                AlterTableOperation::AddConstraint { not_valid, .. } => !not_valid,
                AlterTableOperation::ValidateConstraint { .. } => true,
                AlterTableOperation::AlterColumn { op, .. } => matches!(op, AlterColumnOperation::SetNotNull),
                _ => false,
            });
            scans.then_some("a full scan")
        }
        _ => None,
    }
}

/// An estimated duration, in milliseconds, as a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub low_ms: f64,
    pub high_ms: f64,
    /// Rows the time per row was measured on.
    pub measured_rows: u64,
}

/// Below this many rows, fixed costs dominate what the sandbox measures.
const FEW_ROWS: u64 = 10_000;

pub fn duration(elapsed_ms: f64, sandbox_rows: Option<u64>, target_rows: Option<u64>) -> Option<Estimate> {
    let measured = sandbox_rows.filter(|&n| n > 0)?;
    let target = target_rows?;
    if target == 0 || elapsed_ms <= 0.0 {
        return None;
    }
    let scaled = elapsed_ms / measured as f64 * target as f64;
    // From a sample the per-row time includes the statement's fixed cost: the real time is
    // lower, by up to the measurement's size. From many rows it is close, within 2x either way.
    let (low, high) = if measured < FEW_ROWS { (scaled / 10.0, scaled) } else { (scaled / 2.0, scaled * 2.0) };
    Some(Estimate { low_ms: low.max(elapsed_ms.min(scaled)), high_ms: high, measured_rows: measured })
}

impl Estimate {
    pub fn text(&self) -> String {
        let (low, high) = (human_duration(self.low_ms), human_duration(self.high_ms));
        let range = if low == high { low } else { format!("{low}–{high}") };
        format!("est. {range} from {} rows timed in the sandbox", self.measured_rows)
    }

    /// A lock that blocks writes for seconds is an outage for a busy table; the lower end of
    /// the range decides, since the real time is at least that.
    pub fn severity(&self, mode: LockMode) -> Severity {
        if !mode.blocks_writes() {
            return Severity::Info;
        }
        match self.low_ms {
            ms if ms >= 10_000.0 => Severity::High,
            ms if ms >= 1_000.0 => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

pub fn human_duration(ms: f64) -> String {
    match ms {
        ms if ms < 1.0 => "<1 ms".into(),
        ms if ms < 1_000.0 => format!("{ms:.0} ms"),
        ms if ms < 60_000.0 => format!("{:.1} s", ms / 1_000.0),
        ms if ms < 3_600_000.0 => format!("{:.1} min", ms / 60_000.0),
        ms => format!("{:.1} h", ms / 3_600_000.0),
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// "48,200,000 rows / 6.1 GB on the target", or the parts that are known.
pub fn size_text(rows: Option<u64>, bytes: Option<u64>) -> String {
    let rows = rows.map(|r| format!("{} rows", super::observe::group_digits(r)));
    match (rows, bytes) {
        (Some(r), Some(b)) => format!("{r} / {} on the target", human_bytes(b)),
        (Some(r), None) => r,
        (None, Some(b)) => format!("{} on the target", human_bytes(b)),
        (None, None) => "size unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_the_time_per_row_to_the_target() {
        // 20 ms for 100,000 rows, 10M on the target: about 2 s, within 2x.
        let e = duration(20.0, Some(100_000), Some(10_000_000)).unwrap();
        assert_eq!((e.low_ms, e.high_ms), (1_000.0, 4_000.0));
        assert_eq!(e.text(), "est. 1.0 s–4.0 s from 100000 rows timed in the sandbox");
        assert_eq!(e.severity(LockMode::AccessExclusive), Severity::Medium);
        // From a 1,000-row sample the measurement is an upper bound.
        let e = duration(5.0, Some(1_000), Some(48_200_000)).unwrap();
        assert_eq!(e.high_ms, 241_000.0);
        assert_eq!(e.low_ms, 24_100.0);
        assert_eq!(e.severity(LockMode::Share), Severity::High);
        assert_eq!(e.severity(LockMode::ShareUpdateExclusive), Severity::Info);
    }

    #[test]
    fn nothing_to_scale_gives_no_estimate() {
        assert_eq!(duration(5.0, Some(0), Some(100)), None);
        assert_eq!(duration(5.0, Some(10), None), None);
        assert_eq!(duration(5.0, Some(10), Some(0)), None);
    }

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human_bytes(6_549_825_536), "6.1 GB");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(size_text(Some(48_200_000), Some(6_549_825_536)), "48,200,000 rows / 6.1 GB on the target");
        assert_eq!(human_duration(150_000.0), "2.5 min");
    }
}

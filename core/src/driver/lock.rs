//! Table lock modes, ordered weakest first, so checks compare what a driver observed without
//! knowing which database took the lock.

use std::fmt;

/// PostgreSQL's table-level lock modes (the richest model of the databases we support; a
/// driver that observes locks maps its own onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    /// From `pg_locks.mode` (`AccessExclusiveLock`, ...).
    pub fn from_pg_locks(mode: &str) -> Option<LockMode> {
        Some(match mode {
            "AccessShareLock" => LockMode::AccessShare,
            "RowShareLock" => LockMode::RowShare,
            "RowExclusiveLock" => LockMode::RowExclusive,
            "ShareUpdateExclusiveLock" => LockMode::ShareUpdateExclusive,
            "ShareLock" => LockMode::Share,
            "ShareRowExclusiveLock" => LockMode::ShareRowExclusive,
            "ExclusiveLock" => LockMode::Exclusive,
            "AccessExclusiveLock" => LockMode::AccessExclusive,
            _ => return None,
        })
    }

    /// As `pg_locks` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::AccessShare => "AccessShareLock",
            LockMode::RowShare => "RowShareLock",
            LockMode::RowExclusive => "RowExclusiveLock",
            LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockMode::Share => "ShareLock",
            LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            LockMode::Exclusive => "ExclusiveLock",
            LockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// Blocks ordinary writes (INSERT/UPDATE/DELETE) while held.
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }

    /// Blocks plain reads (SELECT) while held.
    pub fn blocks_reads(self) -> bool {
        self == LockMode::AccessExclusive
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_weakest_first_and_round_trips() {
        let all = [
            LockMode::AccessShare,
            LockMode::RowShare,
            LockMode::RowExclusive,
            LockMode::ShareUpdateExclusive,
            LockMode::Share,
            LockMode::ShareRowExclusive,
            LockMode::Exclusive,
            LockMode::AccessExclusive,
        ];
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(all.iter().all(|m| LockMode::from_pg_locks(m.as_str()) == Some(*m)));
        assert!(!LockMode::ShareUpdateExclusive.blocks_writes() && LockMode::Share.blocks_writes());
        assert!(LockMode::AccessExclusive.blocks_reads() && !LockMode::Exclusive.blocks_reads());
    }
}

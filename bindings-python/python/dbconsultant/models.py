"""Typed results: the run document of SPEC §7 with attribute access. ``to_dict()`` returns
exactly the document (as the CLI's ``--format json`` prints it); ``to_json()`` its text."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

Record = Dict[str, Any]


@dataclass(frozen=True)
class RiskContribution:
    rule: str
    points: int
    reason: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    statement: Optional[int] = None
    line: Optional[int] = None
    column: Optional[int] = None
    suggestion: Optional[str] = None
    file: Optional[str] = None
    sample_records: List[Record] = field(default_factory=list)


@dataclass(frozen=True)
class SchemaChange:
    object_type: str
    table_name: str
    name: str
    change_type: str
    compatibility_status: str
    details: str


@dataclass(frozen=True)
class IntegrityResult:
    table_name: str
    integrity_type: str
    constraint: str
    failure_count: int
    sample_records: List[Record] = field(default_factory=list)
    error: Optional[str] = None


@dataclass(frozen=True)
class EtlAggregate:
    function: str
    column: str
    source: Optional[str]
    target: Optional[str]
    matches: bool
    group: Optional[str] = None


@dataclass(frozen=True)
class EtlResult:
    """One reconciled table pair. The key lists are samples; the ``*_count`` fields are exact."""
    source_table: str
    target_table: str
    source_count: int
    target_count: int
    checksum_match: bool
    missing_in_target: List[Any] = field(default_factory=list)
    extra_in_target: List[Any] = field(default_factory=list)
    changed: List[Any] = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    changed_count: int = 0
    changed_columns: Dict[str, int] = field(default_factory=dict)
    within_tolerance: int = 0
    key: List[str] = field(default_factory=list)
    columns: List[str] = field(default_factory=list)
    strategy: str = ""
    segments_compared: int = 0
    rows_fetched: int = 0
    queries: int = 0
    aggregates: List[EtlAggregate] = field(default_factory=list)
    error: Optional[str] = None


@dataclass(frozen=True)
class Timing:
    runs: int
    min_ms: float
    median_ms: float
    p95_ms: float


@dataclass(frozen=True)
class PerformanceMetric:
    """One profiled query (distinct fingerprint). ``plan`` is the normalized plan tree."""
    query_hash: str
    query: str
    execution_time_ms: Optional[float]
    index_used: bool
    plan: Any
    recommendation: Optional[str] = None
    fingerprint: str = ""
    occurrences: int = 0
    read_only: bool = False
    timing: Optional[Timing] = None
    recommendations: List[Record] = field(default_factory=list)
    findings: List[str] = field(default_factory=list)
    stats: Optional[Record] = None
    error: Optional[str] = None


def _build(cls: Any, data: Record) -> Any:
    known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
    return cls(**known)


class TestRun:
    """One stored run: schema validation or integrity check (ETL and performance later)."""

    __test__ = False  # not a pytest test class

    test_run_id: str
    kind: str
    environment: str
    trigger_type: str
    status: str
    risk_score: int
    risk_breakdown: List[RiskContribution]
    summary: str
    created_at: str
    approved_by: Optional[str]
    decided_by: Optional[str]
    decided_at: Optional[str]
    decision_comment: Optional[str]
    target: Optional[str]
    sandbox: Optional[str]
    dialect: Optional[str]
    fail_above: Optional[int]
    inputs: List[str]
    findings: List[Finding]
    schema_changes: List[SchemaChange]
    integrity_results: List[IntegrityResult]
    etl_results: List[EtlResult]
    performance_metrics: List[PerformanceMetric]

    def __init__(self, document: Record) -> None:
        self._document = document
        for key, value in document.items():
            setattr(self, key, value)
        self.risk_breakdown = [_build(RiskContribution, r) for r in document.get("risk_breakdown", [])]
        self.findings = [_build(Finding, f) for f in document.get("findings", [])]
        self.schema_changes = [_build(SchemaChange, c) for c in document.get("schema_changes", [])]
        self.integrity_results = [_build(IntegrityResult, r) for r in document.get("integrity_results", [])]
        self.etl_results = [
            _build(EtlResult, {**r, "aggregates": [_build(EtlAggregate, a) for a in r.get("aggregates", [])]})
            for r in document.get("etl_results", [])
        ]
        self.performance_metrics = [
            _build(PerformanceMetric, {**m, "timing": _build(Timing, m["timing"]) if m.get("timing") else None})
            for m in document.get("performance_metrics", [])
        ]

    @property
    def passed(self) -> bool:
        return self.status in ("passed", "approved")

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this run: 0 passed/approved, 1 failed/rejected, 2 pending, 3 error."""
        return {"passed": 0, "approved": 0, "failed": 1, "rejected": 1, "pending_approval": 2}.get(self.status, 3)

    def to_dict(self) -> Record:
        return copy.deepcopy(self._document)

    def to_json(self, indent: Optional[int] = None) -> str:
        return json.dumps(self._document, indent=indent)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TestRun) and other._document == self._document

    def __repr__(self) -> str:
        return f"TestRun(id={self.test_run_id!r}, kind={self.kind!r}, status={self.status!r}, risk_score={self.risk_score})"


@dataclass(frozen=True)
class TestRunSummary:
    __test__ = False

    test_run_id: str
    kind: str
    environment: str
    trigger_type: str
    status: str
    risk_score: int
    summary: str
    created_at: str
    approved_by: Optional[str] = None


@dataclass(frozen=True)
class AuditEvent:
    test_run_id: Optional[str]
    event: str
    actor: str
    details: Optional[str]
    created_at: str


@dataclass(frozen=True)
class SchemaSummary:
    """One schema (PostgreSQL schema, MySQL database, SQLite ``main``) and what it holds."""

    name: str
    tables: int
    views: int


@dataclass(frozen=True)
class TableSummary:
    """A table or view as listed; ``name`` is schema-qualified outside the default schema."""

    name: str
    schema: str
    kind: str
    columns: Optional[int] = None
    row_estimate: Optional[int] = None


@dataclass(frozen=True)
class TableDescription:
    """One table in full. Columns, keys, constraints and indexes are dicts with the run
    document's snake_case keys (``name``, ``data_type``, ``nullable``, ``default`` ...)."""

    name: str
    columns: List[Record]
    primary_key: List[str]
    foreign_keys: List[Record]
    referenced_by: List[str]
    unique_constraints: List[Record]
    check_constraints: List[Record]
    indexes: List[Record]
    row_estimate: Optional[int] = None


@dataclass(frozen=True)
class QueryResult:
    """Rows of a read-only query: at most ``max_rows``; ``truncated`` is True exactly when
    the query had more; values of sensitive columns are masked (``masked_columns``)."""

    columns: List[str]
    rows: List[Record]
    row_count: int
    truncated: bool
    masked_columns: List[str]

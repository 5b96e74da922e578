"""Typed results: the run document and the inspection results with attribute access.
``to_dict()`` returns exactly the document (as the CLI's ``--format json`` prints it);
``to_json()`` its text. The classes are generated from the core's types (``_generated.py``)."""

from ._generated import (
    AuditEvent,
    CheckConstraint,
    Column,
    EtlAggregate,
    EtlResult,
    Finding,
    ForeignKey,
    Index,
    IntegrityResult,
    PerformanceMetric,
    Plan,
    PlanNode,
    QueryOutput,
    RiskContribution,
    SchemaChange,
    SchemaSummary,
    TableDescription,
    TableSummary,
    TestRun,
    TestRunSummary,
    Timing,
    UniqueConstraint,
)

# Earlier name of QueryOutput.
QueryResult = QueryOutput

__all__ = [
    "AuditEvent", "CheckConstraint", "Column", "EtlAggregate", "EtlResult", "Finding", "ForeignKey", "Index",
    "IntegrityResult", "PerformanceMetric", "Plan", "PlanNode", "QueryOutput", "QueryResult", "RiskContribution",
    "SchemaChange", "SchemaSummary", "TableDescription", "TableSummary", "TestRun", "TestRunSummary", "Timing",
    "UniqueConstraint",
]

"""dbconsultant: check database changes before they reach production.

    import dbconsultant
    db_agent = dbconsultant.DatabaseConsultant()
    run = db_agent.validate_schema("sqlite://app.db", "migrations/V45__add_index.sql")
    print(run.status, run.risk_score, run.summary)
"""

from . import _native
from .client import AsyncDatabaseConsultant, DatabaseConsultant
from .errors import (
    ApprovalStateError,
    DatabaseConnectionError,
    DatabaseConsultantError,
    InternalError,
    InvalidInputError,
    NotFoundError,
    SandboxError,
)
from .models import (
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
    QueryResult,
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

__version__ = _native.__version__

__all__ = [
    "AsyncDatabaseConsultant", "DatabaseConsultant", "DatabaseConsultantError", "InvalidInputError",
    "DatabaseConnectionError", "SandboxError", "NotFoundError", "ApprovalStateError", "InternalError",
    "TestRun", "TestRunSummary", "Finding", "SchemaChange", "IntegrityResult", "EtlResult", "EtlAggregate", "Timing",
    "PerformanceMetric", "RiskContribution", "AuditEvent", "SchemaSummary", "TableSummary", "TableDescription",
    "QueryOutput", "QueryResult", "Plan", "PlanNode", "Column", "ForeignKey", "Index", "UniqueConstraint",
    "CheckConstraint", "__version__",
]

"""``DatabaseConsultant`` and ``AsyncDatabaseConsultant``: keyword arguments in, typed runs
out. Each call converts its arguments to one JSON request for the Rust core, which does the
work with the GIL released."""

from __future__ import annotations

import asyncio
import functools
import json
import os
from typing import Any, Awaitable, Callable, Concatenate, Dict, List, Mapping, Optional, ParamSpec, Sequence, TypeVar, Union

from . import _native
from .errors import from_native
from .models import AuditEvent, QueryResult, SchemaSummary, TableDescription, TableSummary, TestRun, TestRunSummary, _build

PathLike = Union[str, "os.PathLike[str]"]
ConfigArg = Union[Mapping[str, Any], PathLike, None]


def _check(method: str, name: str, value: Any, types: Any, type_names: str) -> None:
    if value is not None and not isinstance(value, types):
        raise TypeError(f"{method}() argument '{name}' must be {type_names}, not {type(value).__name__}")


def _paths(method: str, name: str, value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, os.PathLike)) for v in value):
        return [os.fspath(v) for v in value]
    raise TypeError(f"{method}() argument '{name}' must be a path or a list of paths, not {type(value).__name__}")


def _config(method: str, value: ConfigArg) -> Any:
    if value is None or isinstance(value, Mapping):
        return dict(value) if value is not None else None
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise TypeError(f"{method}() argument 'config' must be a dict or a path, not {type(value).__name__}")


class DatabaseConsultant:
    """Checks database changes before they reach production.

    ``store`` is where runs are kept: a SQLite file path or a ``postgres://`` URL; by default
    ``$DBCONSULTANT_STORE`` or ``~/.local/share/dbconsultant/store.db``.
    """

    def __init__(self, store: Optional[PathLike] = None) -> None:
        _check("DatabaseConsultant", "store", store, (str, os.PathLike), "a path or URL")
        try:
            self._native = _native.NativeConsultant(None if store is None else os.fspath(store))
        except _native.NativeError as error:
            raise from_native(error) from None

    @property
    def store(self) -> str:
        """The store location (URL passwords redacted)."""
        return self._native.store

    def _call(self, op: str, request: Dict[str, Any]) -> Any:
        payload = {k: v for k, v in request.items() if v is not None}
        try:
            return json.loads(self._native.call(op, json.dumps(payload)))
        except _native.NativeError as error:
            raise from_native(error) from None

    def validate_schema(
        self,
        database_url: str,
        migration_script: Union[PathLike, Sequence[PathLike], None] = None,
        *,
        migration_sql: Optional[str] = None,
        environment: str = "qa",
        trigger_type: str = "migration",
        require_human_approval: bool = False,
        fail_above: Optional[int] = None,
        config: ConfigArg = None,
        sandbox_url: Optional[str] = None,
        dialect: Optional[str] = None,
    ) -> TestRun:
        """Validate a migration (files, a directory, or SQL text) against a database: static
        rules, a sandboxed run, schema diff, checks of new constraints against existing rows,
        risk score. The target is never modified. The run is stored and returned."""
        m = "validate_schema"
        _check(m, "database_url", database_url, str, "str")
        _check(m, "migration_sql", migration_sql, str, "str")
        _check(m, "environment", environment, str, "str")
        _check(m, "trigger_type", trigger_type, str, "str")
        _check(m, "require_human_approval", require_human_approval, bool, "bool")
        _check(m, "fail_above", fail_above, int, "int")
        _check(m, "sandbox_url", sandbox_url, str, "str")
        _check(m, "dialect", dialect, str, "str")
        return TestRun(self._call(m, {
            "database_url": database_url,
            "migration_paths": _paths(m, "migration_script", migration_script),
            "migration_sql": migration_sql,
            "environment": environment,
            "trigger_type": trigger_type,
            "require_human_approval": require_human_approval,
            "fail_above": fail_above,
            "config": _config(m, config),
            "sandbox_url": sandbox_url,
            "dialect": dialect,
        }))

    def lint_schema(
        self,
        migration_script: Union[PathLike, Sequence[PathLike], None] = None,
        *,
        migration_sql: Optional[str] = None,
        dialect: str = "postgres",
        fail_above: Optional[int] = None,
        config: ConfigArg = None,
    ) -> TestRun:
        """Static rules only, no database. Lint runs are not stored."""
        m = "lint_schema"
        _check(m, "migration_sql", migration_sql, str, "str")
        _check(m, "dialect", dialect, str, "str")
        _check(m, "fail_above", fail_above, int, "int")
        return TestRun(self._call(m, {
            "migration_paths": _paths(m, "migration_script", migration_script),
            "migration_sql": migration_sql,
            "dialect": dialect,
            "fail_above": fail_above,
            "config": _config(m, config),
        }))

    def check_integrity(
        self,
        database_url: str,
        tables: Optional[Sequence[str]] = None,
        *,
        rules: Union[Sequence[Mapping[str, Any]], PathLike, None] = None,
        environment: str = "qa",
        trigger_type: str = "manual",
        fail_above: Optional[int] = None,
        timeout_ms: int = 30_000,
        config: ConfigArg = None,
    ) -> TestRun:
        """Check the rows against the declared keys and constraints (including unenforced
        ones) and the given rules (a list of rule dicts or a rules TOML file)."""
        m = "check_integrity"
        _check(m, "database_url", database_url, str, "str")
        _check(m, "tables", tables, (list, tuple), "a list of table names")
        _check(m, "timeout_ms", timeout_ms, int, "int")
        _check(m, "fail_above", fail_above, int, "int")
        if rules is not None and not isinstance(rules, (str, os.PathLike, list, tuple)):
            raise TypeError(f"{m}() argument 'rules' must be a list of rule dicts or a path, not {type(rules).__name__}")
        rules_arg: Any = os.fspath(rules) if isinstance(rules, (str, os.PathLike)) else (list(rules) if rules is not None else None)
        return TestRun(self._call(m, {
            "database_url": database_url,
            "tables": list(tables) if tables is not None else None,
            "rules": rules_arg,
            "environment": environment,
            "trigger_type": trigger_type,
            "fail_above": fail_above,
            "timeout_ms": timeout_ms,
            "config": _config(m, config),
        }))

    def validate_etl(
        self,
        source_url: str,
        source_table: str,
        target_url: str,
        target_table: Optional[str] = None,
        *,
        key: Union[str, Sequence[str]],
        columns: Optional[Sequence[str]] = None,
        exclude_columns: Optional[Sequence[str]] = None,
        column_map: Optional[Mapping[str, str]] = None,
        where: Optional[str] = None,
        source_where: Optional[str] = None,
        target_where: Optional[str] = None,
        tolerance: Union[float, Mapping[str, float], None] = None,
        round: Optional[Mapping[str, int]] = None,
        float_decimals: int = 6,
        aggregates: Optional[Sequence[str]] = None,
        group_by: Optional[str] = None,
        strategy: str = "auto",
        segments: int = 2048,
        bisection_threshold: int = 512,
        timeout_ms: int = 300_000,
        sample_limit: Optional[int] = None,
        environment: str = "qa",
        trigger_type: str = "etl",
        config: ConfigArg = None,
    ) -> TestRun:
        """Does ``target_table`` hold exactly the rows of ``source_table``? Source and target may
        be different databases and dialects. ``key`` names the column(s) identifying a row;
        ``tolerance`` is one absolute tolerance for every numeric column or one per column;
        ``aggregates`` are ``"sum:amount"``-style strings, reconciled per ``group_by`` value."""
        m = "validate_etl"
        for name, value in (("source_url", source_url), ("source_table", source_table), ("target_url", target_url)):
            _check(m, name, value, str, "str")
        _check(m, "target_table", target_table, str, "str")
        _check(m, "key", key, (str, list, tuple), "a column name or a list of names")
        _check(m, "tolerance", tolerance, (int, float, Mapping), "a number or a dict of column → number")
        for name, value in (("float_decimals", float_decimals), ("segments", segments), ("bisection_threshold", bisection_threshold),
                            ("timeout_ms", timeout_ms), ("sample_limit", sample_limit)):
            _check(m, name, value, int, "int")
        keys = [key] if isinstance(key, str) else list(key)
        per_column = isinstance(tolerance, Mapping)
        return TestRun(self._call(m, {
            "source_url": source_url,
            "source_table": source_table,
            "target_url": target_url,
            "target_table": target_table,
            "key": keys,
            "columns": list(columns) if columns is not None else None,
            "exclude_columns": list(exclude_columns) if exclude_columns is not None else None,
            "column_map": dict(column_map) if column_map is not None else None,
            "where_clause": where,
            "source_where": source_where,
            "target_where": target_where,
            "tolerance": None if per_column or tolerance is None else float(tolerance),  # type: ignore[arg-type]
            "column_tolerance": dict(tolerance) if per_column else None,  # type: ignore[arg-type]
            "round": dict(round) if round is not None else None,
            "float_decimals": float_decimals,
            "aggregates": list(aggregates) if aggregates is not None else None,
            "group_by": group_by,
            "strategy": strategy,
            "segments": segments,
            "bisection_threshold": bisection_threshold,
            "statement_timeout_ms": timeout_ms,
            "sample_limit": sample_limit,
            "environment": environment,
            "trigger_type": trigger_type,
            "config": _config(m, config),
        }))

    def profile_performance(
        self,
        database_url: str,
        queries: Optional[Sequence[str]] = None,
        *,
        file: Optional[PathLike] = None,
        from_stats: bool = False,
        stats_limit: int = 20,
        runs: int = 5,
        analyze: bool = True,
        large_table_rows: int = 10_000,
        environment: str = "qa",
        trigger_type: str = "manual",
        config: ConfigArg = None,
    ) -> TestRun:
        """Profile queries (a list, a workload ``file``, and/or the database's statement
        statistics): fingerprint, plan, timed runs of read-only queries, findings, and index
        recommendations verified with hypopg or in a sandbox."""
        m = "profile_performance"
        _check(m, "database_url", database_url, str, "str")
        _check(m, "queries", queries, (list, tuple), "a list of SQL strings")
        _check(m, "file", file, (str, os.PathLike), "a path")
        for name, value in (("runs", runs), ("stats_limit", stats_limit), ("large_table_rows", large_table_rows)):
            _check(m, name, value, int, "int")
        return TestRun(self._call(m, {
            "database_url": database_url,
            "queries": list(queries) if queries is not None else None,
            "query_file": os.fspath(file) if file is not None else None,
            "from_stats": from_stats,
            "stats_limit": stats_limit,
            "runs": runs,
            "analyze": analyze,
            "large_table_rows": large_table_rows,
            "environment": environment,
            "trigger_type": trigger_type,
            "config": _config(m, config),
        }))

    def get_test_report(self, test_run_id: str) -> TestRun:
        """The stored run with this id (NotFoundError if there is none)."""
        _check("get_test_report", "test_run_id", test_run_id, str, "str")
        return TestRun(self._call("get_test_run", {"test_run_id": test_run_id}))

    def list_test_runs(self, status: Optional[str] = None, kind: Optional[str] = None, limit: int = 50) -> List[TestRunSummary]:
        """Recent runs, newest first."""
        _check("list_test_runs", "status", status, str, "str")
        _check("list_test_runs", "kind", kind, str, "str")
        _check("list_test_runs", "limit", limit, int, "int")
        rows = self._call("list_test_runs", {"status": status, "kind": kind, "limit": limit})
        return [_build(TestRunSummary, r) for r in rows]

    def approve_test_run(self, test_run_id: str, approver: str, comment: Optional[str] = None) -> TestRun:
        """Approve a run pending approval (ApprovalStateError if it is not)."""
        for name, value in (("test_run_id", test_run_id), ("approver", approver), ("comment", comment)):
            _check("approve_test_run", name, value, str, "str")
        return TestRun(self._call("approve_test_run", {"test_run_id": test_run_id, "approver": approver, "comment": comment}))

    def reject_test_run(self, test_run_id: str, approver: str, comment: Optional[str] = None) -> TestRun:
        """Reject a run pending approval (ApprovalStateError if it is not)."""
        for name, value in (("test_run_id", test_run_id), ("approver", approver), ("comment", comment)):
            _check("reject_test_run", name, value, str, "str")
        return TestRun(self._call("reject_test_run", {"test_run_id": test_run_id, "approver": approver, "comment": comment}))

    def audit_trail(self, test_run_id: str) -> List[AuditEvent]:
        """Every state change of a run, oldest first."""
        _check("audit_trail", "test_run_id", test_run_id, str, "str")
        return [_build(AuditEvent, e) for e in self._call("audit_trail", {"test_run_id": test_run_id})]

    def audit_log(self, event: Optional[str] = None, limit: int = 50) -> List[AuditEvent]:
        """The audit log across runs, newest first: run creations and decisions, MCP tool
        calls (``event="tool_call"``) ..."""
        _check("audit_log", "event", event, str, "str")
        _check("audit_log", "limit", limit, int, "int")
        return [_build(AuditEvent, e) for e in self._call("audit_log", {"event": event, "limit": limit})]

    def list_schemas(self, database_url: str) -> List[SchemaSummary]:
        """Schemas with their table and view counts."""
        _check("list_schemas", "database_url", database_url, str, "str")
        return [_build(SchemaSummary, s) for s in self._call("list_schemas", {"database_url": database_url})]

    def list_tables(self, database_url: str, schema: Optional[str] = None) -> List[TableSummary]:
        """Tables and views, optionally of one schema, with column counts and row estimates."""
        for name, value in (("database_url", database_url), ("schema", schema)):
            _check("list_tables", name, value, str, "str")
        return [_build(TableSummary, t) for t in self._call("list_tables", {"database_url": database_url, "schema": schema})]

    def describe_table(self, database_url: str, table: str) -> TableDescription:
        """Columns, keys, constraints, indexes and row estimate of one table (NotFoundError
        names the closest tables)."""
        for name, value in (("database_url", database_url), ("table", table)):
            _check("describe_table", name, value, str, "str")
        return _build(TableDescription, self._call("describe_table", {"database_url": database_url, "table": table}))

    def run_query(self, database_url: str, sql: str, max_rows: int = 500, *, timeout_ms: int = 30_000, config: ConfigArg = None) -> QueryResult:
        """Run one read-only statement (SELECT / WITH / EXPLAIN without ANALYZE / SHOW; the
        read-only guard refuses anything else with InvalidInputError "refused: ..."),
        prepared, in a READ ONLY transaction that is rolled back. At most ``max_rows`` rows;
        sensitive values masked."""
        m = "run_query"
        for name, value in (("database_url", database_url), ("sql", sql)):
            _check(m, name, value, str, "str")
        for name, value in (("max_rows", max_rows), ("timeout_ms", timeout_ms)):
            _check(m, name, value, int, "int")
        request = {"database_url": database_url, "sql": sql, "max_rows": max_rows, "timeout_ms": timeout_ms, "config": _config(m, config)}
        return _build(QueryResult, self._call(m, request))

    def explain_query(self, database_url: str, sql: str, analyze: bool = False) -> Dict[str, Any]:
        """The plan tree of one statement (``root`` with ``node_type``, ``relation``,
        ``access``, ``children`` ...). Writes are planned, never run; ``analyze`` runs a
        read-only query in a rolled-back transaction."""
        for name, value in (("database_url", database_url), ("sql", sql)):
            _check("explain_query", name, value, str, "str")
        _check("explain_query", "analyze", analyze, bool, "bool")
        plan: Dict[str, Any] = self._call("explain_query", {"database_url": database_url, "sql": sql, "analyze": analyze})
        return plan


P = ParamSpec("P")
R = TypeVar("R")


def _awaitable(method: Callable[Concatenate[DatabaseConsultant, P], R]) -> Callable[Concatenate["AsyncDatabaseConsultant", P], Awaitable[R]]:
    """The async twin of a DatabaseConsultant method, with the same signature for type
    checkers: it runs the blocking call in the default executor (the GIL is released while
    Rust works), so the event loop keeps serving."""

    @functools.wraps(method)
    async def call(self: "AsyncDatabaseConsultant", *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(method, self._sync, *args, **kwargs))

    return call


class AsyncDatabaseConsultant:
    """The same methods as :class:`DatabaseConsultant`, returning awaitables."""

    def __init__(self, store: Optional[PathLike] = None) -> None:
        self._sync = DatabaseConsultant(store)

    @property
    def store(self) -> str:
        return self._sync.store

    validate_schema = _awaitable(DatabaseConsultant.validate_schema)
    lint_schema = _awaitable(DatabaseConsultant.lint_schema)
    check_integrity = _awaitable(DatabaseConsultant.check_integrity)
    validate_etl = _awaitable(DatabaseConsultant.validate_etl)
    profile_performance = _awaitable(DatabaseConsultant.profile_performance)
    get_test_report = _awaitable(DatabaseConsultant.get_test_report)
    list_test_runs = _awaitable(DatabaseConsultant.list_test_runs)
    approve_test_run = _awaitable(DatabaseConsultant.approve_test_run)
    reject_test_run = _awaitable(DatabaseConsultant.reject_test_run)
    audit_trail = _awaitable(DatabaseConsultant.audit_trail)
    audit_log = _awaitable(DatabaseConsultant.audit_log)
    list_schemas = _awaitable(DatabaseConsultant.list_schemas)
    list_tables = _awaitable(DatabaseConsultant.list_tables)
    describe_table = _awaitable(DatabaseConsultant.describe_table)
    run_query = _awaitable(DatabaseConsultant.run_query)
    explain_query = _awaitable(DatabaseConsultant.explain_query)

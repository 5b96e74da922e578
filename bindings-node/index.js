'use strict';
// dbconsultant for Node: option objects in, camelCase run documents out. Every method returns
// a Promise; the work runs off the JS thread in the Rust core.

const path = require('node:path');
const errors = require('./errors');

const native = require(path.join(__dirname, 'dbconsultant.node'));

/** Keys whose values hold the user's column names: kept as they are. */
const DATA_KEYS = new Set(['sampleRecords', 'plan', 'missingInTarget', 'extraInTarget', 'changed', 'changedColumns', 'recommendations', 'rows']);

/** snake_case keys → camelCase, except inside data rows (sample records keep column names). */
function camel(value, key) {
  if (Array.isArray(value)) return value.map((v) => camel(v, key));
  if (value === null || typeof value !== 'object' || DATA_KEYS.has(key)) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const ck = k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    out[ck] = camel(v, ck);
  }
  return out;
}

function fail(method, field, expected, value) {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return new TypeError(`${method}: '${field}' must be ${expected}, got ${got}`);
}

function check(method, options, spec, required = []) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${method}: options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!(key in spec)) throw new TypeError(`${method}: unknown option '${key}' (known: ${Object.keys(spec).join(', ')})`);
  }
  for (const field of required) {
    if (options[field] === undefined) throw new TypeError(`${method}: '${field}' is required`);
  }
  for (const [field, expected] of Object.entries(spec)) {
    const value = options[field];
    if (value === undefined || value === null) continue;
    const ok = {
      string: typeof value === 'string',
      boolean: typeof value === 'boolean',
      number: typeof value === 'number' && Number.isFinite(value),
      'string or string[]': typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')),
      'string[]': Array.isArray(value) && value.every((v) => typeof v === 'string'),
      'object or path': typeof value === 'string' || (typeof value === 'object' && !Array.isArray(value)),
      'number or object': (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'object' && !Array.isArray(value)),
      'rule objects or path': typeof value === 'string' || (Array.isArray(value) && value.every((v) => v && typeof v === 'object')),
    }[expected];
    if (!ok) throw fail(method, field, expected, value);
  }
}

function drop(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null));
}

class DatabaseConsultant {
  /** @private use DatabaseConsultant.open() */
  constructor(inner) {
    this._native = inner;
  }

  /** Open a consultant; `store` is a SQLite file path or a postgres:// URL. */
  static async open(options = {}) {
    check('DatabaseConsultant.open', options, { store: 'string' });
    try {
      return new DatabaseConsultant(await native.NativeConsultant.open(options.store ?? null));
    } catch (e) {
      throw errors.fromNative(e);
    }
  }

  get store() {
    return this._native.store;
  }

  async _call(op, request) {
    return camel(await this._callRaw(op, request));
  }

  /** The core's JSON as it is (plans keep their keys, as in a run's `plan`). */
  async _callRaw(op, request) {
    let text;
    try {
      text = await this._native.call(op, JSON.stringify(drop(request)));
    } catch (e) {
      throw errors.fromNative(e);
    }
    return JSON.parse(text);
  }

  /** Validate a migration against a database in a sandbox; stores and returns the run. */
  async validateSchema(options) {
    const m = 'validateSchema';
    check(m, options, {
      databaseUrl: 'string', migrationScript: 'string or string[]', migrationSql: 'string', environment: 'string',
      triggerType: 'string', requireHumanApproval: 'boolean', failAbove: 'number', config: 'object or path',
      sandboxUrl: 'string', dialect: 'string',
    }, ['databaseUrl']);
    if (options.migrationScript === undefined && options.migrationSql === undefined) {
      throw new TypeError(`${m}: 'migrationScript' or 'migrationSql' is required`);
    }
    return this._call('validate_schema', {
      database_url: options.databaseUrl,
      migration_paths: options.migrationScript === undefined ? undefined : [].concat(options.migrationScript),
      migration_sql: options.migrationSql,
      environment: options.environment,
      trigger_type: options.triggerType,
      require_human_approval: options.requireHumanApproval,
      fail_above: options.failAbove,
      config: options.config,
      sandbox_url: options.sandboxUrl,
      dialect: options.dialect,
    });
  }

  /** Static rules only, no database (not stored). */
  async lintSchema(options) {
    check('lintSchema', options, { migrationScript: 'string or string[]', migrationSql: 'string', dialect: 'string', failAbove: 'number', config: 'object or path' });
    return this._call('lint_schema', {
      migration_paths: options.migrationScript === undefined ? undefined : [].concat(options.migrationScript),
      migration_sql: options.migrationSql,
      dialect: options.dialect,
      fail_above: options.failAbove,
      config: options.config,
    });
  }

  /** Check rows against declared constraints and rules; stores and returns the run. */
  async validateIntegrity(options) {
    check('validateIntegrity', options, {
      databaseUrl: 'string', tables: 'string[]', rules: 'rule objects or path', environment: 'string', triggerType: 'string',
      failAbove: 'number', timeoutMs: 'number', config: 'object or path',
    }, ['databaseUrl']);
    return this._call('check_integrity', {
      database_url: options.databaseUrl,
      tables: options.tables,
      rules: options.rules,
      environment: options.environment,
      trigger_type: options.triggerType,
      fail_above: options.failAbove,
      timeout_ms: options.timeoutMs,
      config: options.config,
    });
  }

  /** Reconcile a target table with its source table (any two databases); stores and returns the run. */
  async validateEtl(options) {
    const m = 'validateEtl';
    check(m, options, {
      sourceUrl: 'string', sourceTable: 'string', targetUrl: 'string', targetTable: 'string', key: 'string or string[]',
      columns: 'string[]', excludeColumns: 'string[]', columnMap: 'object or path', where: 'string', sourceWhere: 'string',
      targetWhere: 'string', tolerance: 'number or object', round: 'object or path', floatDecimals: 'number',
      aggregates: 'string[]', groupBy: 'string', strategy: 'string', segments: 'number', bisectionThreshold: 'number',
      timeoutMs: 'number', sampleLimit: 'number', environment: 'string', triggerType: 'string', config: 'object or path',
    }, ['sourceUrl', 'sourceTable', 'targetUrl', 'key']);
    const perColumn = typeof options.tolerance === 'object' && options.tolerance !== null;
    return this._call('validate_etl', {
      source_url: options.sourceUrl,
      source_table: options.sourceTable,
      target_url: options.targetUrl,
      target_table: options.targetTable,
      key: [].concat(options.key),
      columns: options.columns,
      exclude_columns: options.excludeColumns,
      column_map: options.columnMap,
      where_clause: options.where,
      source_where: options.sourceWhere,
      target_where: options.targetWhere,
      tolerance: perColumn ? undefined : options.tolerance,
      column_tolerance: perColumn ? options.tolerance : undefined,
      round: options.round,
      float_decimals: options.floatDecimals,
      aggregates: options.aggregates,
      group_by: options.groupBy,
      strategy: options.strategy,
      segments: options.segments,
      bisection_threshold: options.bisectionThreshold,
      statement_timeout_ms: options.timeoutMs,
      sample_limit: options.sampleLimit,
      environment: options.environment,
      trigger_type: options.triggerType,
      config: options.config,
    });
  }

  /** Profile queries: plans, timings, findings, verified index recommendations; stores the run. */
  async profilePerformance(options) {
    check('profilePerformance', options, {
      databaseUrl: 'string', queries: 'string[]', file: 'string', fromStats: 'boolean', statsLimit: 'number', runs: 'number',
      analyze: 'boolean', largeTableRows: 'number', environment: 'string', triggerType: 'string', config: 'object or path',
    }, ['databaseUrl']);
    return this._call('profile_performance', {
      database_url: options.databaseUrl,
      queries: options.queries,
      query_file: options.file,
      from_stats: options.fromStats,
      stats_limit: options.statsLimit,
      runs: options.runs,
      analyze: options.analyze,
      large_table_rows: options.largeTableRows,
      environment: options.environment,
      trigger_type: options.triggerType,
      config: options.config,
    });
  }

  /** The stored run with this id (rejects with NOT_FOUND otherwise). */
  async getReport(testRunId) {
    if (typeof testRunId !== 'string') throw fail('getReport', 'testRunId', 'string', testRunId);
    return this._call('get_test_run', { test_run_id: testRunId });
  }

  async listTestRuns(options = {}) {
    check('listTestRuns', options, { status: 'string', kind: 'string', limit: 'number' });
    return this._call('list_test_runs', options);
  }

  async approveTestRun(testRunId, options) {
    if (typeof testRunId !== 'string') throw fail('approveTestRun', 'testRunId', 'string', testRunId);
    check('approveTestRun', options, { approver: 'string', comment: 'string' }, ['approver']);
    return this._call('approve_test_run', { test_run_id: testRunId, approver: options.approver, comment: options.comment });
  }

  async rejectTestRun(testRunId, options) {
    if (typeof testRunId !== 'string') throw fail('rejectTestRun', 'testRunId', 'string', testRunId);
    check('rejectTestRun', options, { approver: 'string', comment: 'string' }, ['approver']);
    return this._call('reject_test_run', { test_run_id: testRunId, approver: options.approver, comment: options.comment });
  }

  async auditTrail(testRunId) {
    if (typeof testRunId !== 'string') throw fail('auditTrail', 'testRunId', 'string', testRunId);
    return this._call('audit_trail', { test_run_id: testRunId });
  }

  /** The audit log across runs, newest first (run creations and decisions, MCP tool calls). */
  async auditLog(options = {}) {
    check('auditLog', options, { event: 'string', limit: 'number' });
    return this._call('audit_log', { event: options.event, limit: options.limit });
  }

  /** Schemas with their table and view counts. */
  async listSchemas(options) {
    check('listSchemas', options, { databaseUrl: 'string' }, ['databaseUrl']);
    return this._call('list_schemas', { database_url: options.databaseUrl });
  }

  /** Tables and views (optionally of one schema) with column counts and row estimates. */
  async listTables(options) {
    check('listTables', options, { databaseUrl: 'string', schema: 'string' }, ['databaseUrl']);
    return this._call('list_tables', { database_url: options.databaseUrl, schema: options.schema });
  }

  /** Columns, keys, constraints, indexes and row estimate of one table. */
  async describeTable(options) {
    check('describeTable', options, { databaseUrl: 'string', table: 'string' }, ['databaseUrl', 'table']);
    return this._call('describe_table', { database_url: options.databaseUrl, table: options.table });
  }

  /** One read-only statement (guarded; rejects with INVALID_INPUT "refused: ..."), capped at
   * `maxRows` with an exact `truncated` flag; sensitive values masked; rows keep column names. */
  async runQuery(options) {
    check('runQuery', options, { databaseUrl: 'string', sql: 'string', maxRows: 'number', timeoutMs: 'number', config: 'object or path' }, ['databaseUrl', 'sql']);
    return this._call('run_query', {
      database_url: options.databaseUrl, sql: options.sql, max_rows: options.maxRows, timeout_ms: options.timeoutMs, config: options.config,
    });
  }

  /** The plan tree of one statement, with the keys of a run's `plan`; writes are never run. */
  async explainQuery(options) {
    check('explainQuery', options, { databaseUrl: 'string', sql: 'string', analyze: 'boolean' }, ['databaseUrl', 'sql']);
    return this._callRaw('explain_query', { database_url: options.databaseUrl, sql: options.sql, analyze: options.analyze });
  }
}

// Same names as the Rust API and the other SDKs.
DatabaseConsultant.prototype.checkIntegrity = DatabaseConsultant.prototype.validateIntegrity;

const { fromNative: _internal, ...errorClasses } = errors;
module.exports = { DatabaseConsultant, ...errorClasses };

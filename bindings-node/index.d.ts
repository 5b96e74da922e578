// Types of the dbconsultant Node SDK. Results are the run document of SPEC §7 with camelCase
// keys; sample records keep their column names.

export type Environment = 'dev' | 'qa' | 'stage' | 'prod';
export type TriggerType = 'pr' | 'migration' | 'etl' | 'manual';
export type RunStatus = 'passed' | 'failed' | 'pending_approval' | 'approved' | 'rejected' | 'error';
export type RunKind = 'schema' | 'integrity' | 'etl' | 'performance';
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export type Dialect = 'sqlite' | 'postgres' | 'mysql';
export type ErrorCode = 'INVALID_INPUT' | 'CONNECTION' | 'SANDBOX' | 'NOT_FOUND' | 'APPROVAL_STATE' | 'INTERNAL';
export type Row = Record<string, unknown>;

export interface RiskContribution { rule: string; points: number; reason: string }

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  statement: number | null;
  line: number | null;
  column: number | null;
  suggestion: string | null;
  file?: string;
  sampleRecords?: Row[];
}

export interface SchemaChange {
  objectType: 'table' | 'column' | 'index' | 'constraint' | 'view' | 'type';
  tableName: string;
  name: string;
  changeType: 'added' | 'removed' | 'modified';
  compatibilityStatus: 'compatible' | 'breaking' | 'destructive';
  details: string;
}

export interface IntegrityResult {
  tableName: string;
  integrityType: 'pk' | 'fk' | 'unique' | 'not_null' | 'check' | 'rule';
  constraint: string;
  failureCount: number;
  sampleRecords: Row[];
  error?: string;
}

export interface EtlAggregate {
  group?: string; function: 'count' | 'sum' | 'min' | 'max'; column: string;
  source: string | null; target: string | null; matches: boolean;
}

/** A changed row: its key, and per changed column the canonical source and target values. */
export interface EtlChangedRow {
  key: Row;
  columns: Record<string, { source: string | null; target: string | null }>;
}

export interface EtlResult {
  sourceTable: string; targetTable: string; sourceCount: number; targetCount: number;
  /** True when every compared row matched and the counts are equal. */
  checksumMatch: boolean;
  /** Samples (keys as objects); the *Count fields are exact. */
  missingInTarget: Row[]; extraInTarget: Row[]; changed: EtlChangedRow[];
  missingCount: number; extraCount: number; changedCount: number;
  changedColumns?: Record<string, number>;
  withinTolerance: number;
  key: string[]; columns: string[];
  strategy: 'bisection' | 'join' | 'checksum';
  segmentsCompared: number; rowsFetched: number; queries: number;
  aggregates?: EtlAggregate[];
  error?: string;
}

export interface Timing { runs: number; minMs: number; medianMs: number; p95Ms: number }

/** A normalized plan node (snake_case keys, as the database-neutral plan shape). */
export interface PlanNode {
  node_type: string; access: 'full_scan' | 'full_index_scan' | 'index_lookup' | 'other';
  relation?: string; index?: string; estimated_rows?: number; actual_rows?: number; cost?: number; time_ms?: number;
  filter?: string; spilled?: boolean; children?: PlanNode[];
}

export interface PerformanceMetric {
  queryHash: string; query: string; executionTimeMs: number | null; indexUsed: boolean; plan: PlanNode | null;
  /** The first verified CREATE INDEX. */
  recommendation: string | null;
  fingerprint: string; occurrences: number; readOnly: boolean; timing?: Timing;
  /** { table, columns, create_index, reason, verification: { method, cost_before, cost_after, used } } */
  recommendations?: Record<string, unknown>[];
  findings?: string[]; stats?: { query: string; calls: number; totalMs: number; meanMs: number }; error?: string;
}

export interface TestRun {
  testRunId: string;
  kind: RunKind;
  environment: Environment;
  triggerType: TriggerType;
  status: RunStatus;
  riskScore: number;
  riskBreakdown: RiskContribution[];
  summary: string;
  createdAt: string;
  approvedBy: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionComment: string | null;
  target: string | null;
  sandbox: string | null;
  dialect: Dialect | null;
  failAbove: number | null;
  inputs: string[];
  findings: Finding[];
  schemaChanges: SchemaChange[];
  integrityResults: IntegrityResult[];
  etlResults: EtlResult[];
  performanceMetrics: PerformanceMetric[];
}

export interface TestRunSummary {
  testRunId: string; kind: RunKind; environment: Environment; triggerType: TriggerType;
  status: RunStatus; riskScore: number; summary: string; createdAt: string; approvedBy: string | null;
}

export interface AuditEvent { testRunId: string | null; event: string; actor: string; details: string | null; createdAt: string }

export interface SchemaSummary { name: string; tables: number; views: number }
export interface TableSummary { name: string; schema: string; kind: 'table' | 'view'; columns: number | null; rowEstimate: number | null }
export interface ColumnInfo { name: string; dataType: string; nullable: boolean; default: string | null; autoIncrement: boolean }
export interface IndexInfo { name: string; columns: string[]; unique: boolean; predicate?: string | null; method?: string | null; implicit?: boolean }
export interface TableDescription {
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  foreignKeys: Array<{ name: string | null; columns: string[]; referencedTable: string; referencedColumns: string[]; onDelete: string | null; onUpdate: string | null; enforced: boolean }>;
  /** Foreign keys of other tables pointing here, as `table(columns)`. */
  referencedBy: string[];
  uniqueConstraints: Array<{ name: string | null; columns: string[] }>;
  checkConstraints: Array<{ name: string | null; expression: string; enforced: boolean }>;
  indexes: IndexInfo[];
  rowEstimate: number | null;
}
export interface QueryResult {
  columns: string[];
  /** Rows keyed by column name (names kept as the database returns them). */
  rows: Array<Record<string, unknown>>;
  rowCount: number;
  /** True exactly when the query had more rows than returned. */
  truncated: boolean;
  maskedColumns: string[];
}
/** A plan tree with the keys of a run's `plan` (`root.node_type`, `relation`, `access`, `children`, ...). */
export interface QueryPlan { root: Record<string, unknown>; analyzed: boolean; [key: string]: unknown }

/** dbconsultant.toml as an object (snake_case keys, as in the file), or a path to it. */
export type Config = string | {
  fail_above?: number;
  sample_limit?: number;
  rules?: { disable?: string[] };
  policy?: { zero_delete?: boolean; soft_delete_columns?: string[] };
  masking?: { columns?: string[] };
  sandbox?: { sandbox_url?: string; allow_scratch_on_target?: boolean; sample_rows?: number; lock_timeout_ms?: number; statement_timeout_ms?: number };
};

/** An integrity rule, with the rules file's keys. */
export interface IntegrityRule {
  name?: string;
  table: string;
  column?: string;
  columns?: string[];
  type: 'accepted_values' | 'range' | 'regex' | 'max_null_fraction' | 'row_count' | 'freshness' | 'unique' | 'implied_fk';
  values?: unknown[];
  min?: number | string;
  max?: number | string;
  pattern?: string;
  max_age?: string;
  references?: string;
  referenced_columns?: string[];
  severity?: Severity;
}

export interface ValidateSchemaOptions {
  databaseUrl: string;
  /** A migration file, a directory of *.sql files, or a list of them (applied in order). */
  migrationScript?: string | string[];
  migrationSql?: string;
  environment?: Environment;
  triggerType?: TriggerType;
  requireHumanApproval?: boolean;
  failAbove?: number;
  config?: Config;
  sandboxUrl?: string;
  dialect?: Dialect;
}

export interface LintSchemaOptions {
  migrationScript?: string | string[];
  migrationSql?: string;
  dialect?: Dialect;
  failAbove?: number;
  config?: Config;
}

export interface ValidateIntegrityOptions {
  databaseUrl: string;
  tables?: string[];
  /** Rule objects, or a path to a rules TOML file. */
  rules?: IntegrityRule[] | string;
  environment?: Environment;
  triggerType?: TriggerType;
  failAbove?: number;
  timeoutMs?: number;
  config?: Config;
}

export interface ValidateEtlOptions {
  sourceUrl: string;
  sourceTable: string;
  targetUrl: string;
  /** Defaults to sourceTable. */
  targetTable?: string;
  /** Key column(s) identifying a row. */
  key: string | string[];
  /** Columns to compare (default: every column both tables have). */
  columns?: string[];
  excludeColumns?: string[];
  /** Source column → target column, where names differ. */
  columnMap?: Record<string, string>;
  /** A filter for both sides (SQL condition); sourceWhere/targetWhere override it per side. */
  where?: string;
  sourceWhere?: string;
  targetWhere?: string;
  /** One absolute tolerance for every numeric column, or one per column. */
  tolerance?: number | Record<string, number>;
  /** Round numeric columns to this many decimals before comparing. */
  round?: Record<string, number>;
  floatDecimals?: number;
  /** 'sum:amount', 'count:*', 'min:created_at', 'max:x'. */
  aggregates?: string[];
  groupBy?: string;
  strategy?: 'auto' | 'bisect' | 'join';
  segments?: number;
  bisectionThreshold?: number;
  timeoutMs?: number;
  sampleLimit?: number;
  environment?: Environment;
  triggerType?: TriggerType;
  config?: Config;
}

export interface ProfilePerformanceOptions {
  databaseUrl: string;
  queries?: string[];
  /** A workload file (statements separated by ';'). */
  file?: string;
  /** Also profile the top statements of pg_stat_statements / performance_schema. */
  fromStats?: boolean;
  statsLimit?: number;
  /** Timed runs per read-only query (after one warm-up). */
  runs?: number;
  /** EXPLAIN ANALYZE read-only queries (default true). */
  analyze?: boolean;
  largeTableRows?: number;
  environment?: Environment;
  triggerType?: TriggerType;
  config?: Config;
}

export interface DecisionOptions { approver: string; comment?: string }

export declare class DatabaseConsultant {
  private constructor();
  static open(options?: { store?: string }): Promise<DatabaseConsultant>;
  readonly store: string;
  validateSchema(options: ValidateSchemaOptions): Promise<TestRun>;
  lintSchema(options: LintSchemaOptions): Promise<TestRun>;
  validateIntegrity(options: ValidateIntegrityOptions): Promise<TestRun>;
  checkIntegrity(options: ValidateIntegrityOptions): Promise<TestRun>;
  validateEtl(options: ValidateEtlOptions): Promise<TestRun>;
  profilePerformance(options: ProfilePerformanceOptions): Promise<TestRun>;
  getReport(testRunId: string): Promise<TestRun>;
  listTestRuns(options?: { status?: RunStatus; kind?: RunKind; limit?: number }): Promise<TestRunSummary[]>;
  approveTestRun(testRunId: string, options: DecisionOptions): Promise<TestRun>;
  rejectTestRun(testRunId: string, options: DecisionOptions): Promise<TestRun>;
  auditTrail(testRunId: string): Promise<AuditEvent[]>;
  auditLog(options?: { event?: string; limit?: number }): Promise<AuditEvent[]>;
  listSchemas(options: { databaseUrl: string }): Promise<SchemaSummary[]>;
  listTables(options: { databaseUrl: string; schema?: string }): Promise<TableSummary[]>;
  describeTable(options: { databaseUrl: string; table: string }): Promise<TableDescription>;
  runQuery(options: { databaseUrl: string; sql: string; maxRows?: number; timeoutMs?: number; config?: Config }): Promise<QueryResult>;
  explainQuery(options: { databaseUrl: string; sql: string; analyze?: boolean }): Promise<QueryPlan>;
}

export declare class DatabaseConsultantError extends Error {
  readonly code: ErrorCode;
  readonly kind: string;
}
export declare class InvalidInputError extends DatabaseConsultantError {}
export declare class ConnectionError extends DatabaseConsultantError {}
export declare class SandboxError extends DatabaseConsultantError {}
export declare class NotFoundError extends DatabaseConsultantError {}
export declare class ApprovalStateError extends DatabaseConsultantError {}
export declare class InternalError extends DatabaseConsultantError {}

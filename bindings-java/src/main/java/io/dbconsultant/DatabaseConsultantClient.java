package io.dbconsultant;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.CollectionType;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Checks database changes before they reach production. Open with {@link #open()} or
 * {@link #open(String)} (a SQLite store path or a postgres:// URL) in try-with-resources;
 * each client owns a native runtime that {@link #close()} frees. Thread-safe.
 */
public final class DatabaseConsultantClient implements AutoCloseable {
    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle;

    private DatabaseConsultantClient(long handle) {
        this.handle = handle;
    }

    /** A client with the default store ($DBCONSULTANT_STORE or ~/.local/share/dbconsultant/store.db). */
    public static DatabaseConsultantClient open() {
        return openStore(null);
    }

    /** A client whose runs live in {@code store}: a SQLite file path or a postgres:// URL. */
    public static DatabaseConsultantClient open(String store) {
        return openStore(Objects.requireNonNull(store, "store"));
    }

    private static DatabaseConsultantClient openStore(String store) {
        JsonNode reply = envelope(NativeConsultant.open(store));
        return new DatabaseConsultantClient(reply.asLong());
    }

    private static JsonNode envelope(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            JsonNode error = node.get("error");
            if (error != null) {
                throw DatabaseConsultantException.of(error.get("kind").asText(), error.get("message").asText());
            }
            return node.get("ok");
        } catch (IOException e) {
            throw new DatabaseConsultantException.InternalException("unreadable reply from the native library: " + e.getMessage());
        }
    }

    private JsonNode call(String op, Map<String, Object> request) {
        String json;
        try {
            json = JSON.writeValueAsString(request);
        } catch (IOException e) {
            throw new IllegalArgumentException("request cannot be serialized: " + e.getMessage(), e);
        }
        lock.readLock().lock();
        try {
            if (handle == 0) {
                throw new IllegalStateException("the DatabaseConsultantClient is closed");
            }
            return envelope(NativeConsultant.call(handle, op, json));
        } finally {
            lock.readLock().unlock();
        }
    }

    private static <T> T as(JsonNode node, Class<T> type) {
        return JSON.convertValue(node, type);
    }

    private static <T> List<T> listOf(JsonNode node, Class<T> type) {
        CollectionType listType = JSON.getTypeFactory().constructCollectionType(List.class, type);
        return JSON.convertValue(node, listType);
    }

    /** Validate a migration in a sandbox (never on the target); the run is stored and returned. */
    public TestRun validateSchema(SchemaValidationRequest request) {
        Objects.requireNonNull(request, "request");
        return as(call("validate_schema", request.toJson()), TestRun.class);
    }

    /** {@link #validateSchema} on the common pool. */
    public CompletableFuture<TestRun> validateSchemaAsync(SchemaValidationRequest request) {
        Objects.requireNonNull(request, "request");
        return CompletableFuture.supplyAsync(() -> validateSchema(request));
    }

    /** Check rows against declared constraints and rules; the run is stored and returned. */
    public TestRun checkIntegrity(IntegrityRequest request) {
        Objects.requireNonNull(request, "request");
        return as(call("check_integrity", request.toJson()), TestRun.class);
    }

    public CompletableFuture<TestRun> checkIntegrityAsync(IntegrityRequest request) {
        Objects.requireNonNull(request, "request");
        return CompletableFuture.supplyAsync(() -> checkIntegrity(request));
    }

    /** Reconcile a target table with its source table (any two databases, any dialects); the run is stored. */
    public TestRun validateEtl(EtlRequest request) {
        Objects.requireNonNull(request, "request");
        return as(call("validate_etl", request.toJson()), TestRun.class);
    }

    public CompletableFuture<TestRun> validateEtlAsync(EtlRequest request) {
        Objects.requireNonNull(request, "request");
        return CompletableFuture.supplyAsync(() -> validateEtl(request));
    }

    /** Profile queries: plans, timings, findings, verified index recommendations; the run is stored. */
    public TestRun profilePerformance(PerfRequest request) {
        Objects.requireNonNull(request, "request");
        return as(call("profile_performance", request.toJson()), TestRun.class);
    }

    public CompletableFuture<TestRun> profilePerformanceAsync(PerfRequest request) {
        Objects.requireNonNull(request, "request");
        return CompletableFuture.supplyAsync(() -> profilePerformance(request));
    }

    /** The stored run with this id ({@code NotFoundException} otherwise). */
    public TestRun getTestRun(String testRunId) {
        Objects.requireNonNull(testRunId, "testRunId");
        return as(call("get_test_run", Map.of("test_run_id", testRunId)), TestRun.class);
    }

    /** Recent runs, newest first; {@code status} may be null for all. */
    public List<TestRunSummary> listTestRuns(RunStatus status, int limit) {
        Map<String, Object> request = new LinkedHashMap<>();
        if (status != null) {
            request.put("status", status.name().toLowerCase());
        }
        request.put("limit", limit);
        return listOf(call("list_test_runs", request), TestRunSummary.class);
    }

    public TestRun approveTestRun(String testRunId, String approver, String comment) {
        return decide("approve_test_run", testRunId, approver, comment);
    }

    public TestRun rejectTestRun(String testRunId, String approver, String comment) {
        return decide("reject_test_run", testRunId, approver, comment);
    }

    private TestRun decide(String op, String testRunId, String approver, String comment) {
        Objects.requireNonNull(testRunId, "testRunId");
        Objects.requireNonNull(approver, "approver");
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("test_run_id", testRunId);
        request.put("approver", approver);
        if (comment != null) {
            request.put("comment", comment);
        }
        return as(call(op, request), TestRun.class);
    }

    public List<AuditEvent> auditTrail(String testRunId) {
        Objects.requireNonNull(testRunId, "testRunId");
        return listOf(call("audit_trail", Map.of("test_run_id", testRunId)), AuditEvent.class);
    }

    /** The audit log across runs, newest first; {@code event} (a name prefix such as "tool_call") may be null. */
    public List<AuditEvent> auditLog(String event, int limit) {
        Map<String, Object> request = new LinkedHashMap<>();
        if (event != null) {
            request.put("event", event);
        }
        request.put("limit", limit);
        return listOf(call("audit_log", request), AuditEvent.class);
    }

    /** Schemas with their table and view counts. */
    public List<Inspection.SchemaSummary> listSchemas(String databaseUrl) {
        return listOf(call("list_schemas", inspect(databaseUrl)), Inspection.SchemaSummary.class);
    }

    /** Tables and views, of one schema or (null) all, with column counts and row estimates. */
    public List<Inspection.TableSummary> listTables(String databaseUrl, String schema) {
        Map<String, Object> request = inspect(databaseUrl);
        if (schema != null) {
            request.put("schema", schema);
        }
        return listOf(call("list_tables", request), Inspection.TableSummary.class);
    }

    /** Columns, keys, constraints, indexes and row estimate of one table ({@code NotFoundException} otherwise). */
    public Inspection.TableDescription describeTable(String databaseUrl, String table) {
        Map<String, Object> request = inspect(databaseUrl);
        request.put("table", Objects.requireNonNull(table, "table"));
        return as(call("describe_table", request), Inspection.TableDescription.class);
    }

    /**
     * Run one read-only statement (SELECT / WITH / EXPLAIN without ANALYZE / SHOW; anything else
     * is refused with {@code InvalidInputException}), prepared, in a READ ONLY transaction that is
     * rolled back; at most {@code maxRows} rows, sensitive values masked.
     */
    public Inspection.QueryResult runQuery(String databaseUrl, String sql, int maxRows) {
        Map<String, Object> request = inspect(databaseUrl);
        request.put("sql", Objects.requireNonNull(sql, "sql"));
        request.put("max_rows", maxRows);
        return as(call("run_query", request), Inspection.QueryResult.class);
    }

    /** The plan tree of one statement (keys as in a run's plan); writes are planned, never run. */
    public JsonNode explainQuery(String databaseUrl, String sql, boolean analyze) {
        Map<String, Object> request = inspect(databaseUrl);
        request.put("sql", Objects.requireNonNull(sql, "sql"));
        request.put("analyze", analyze);
        return call("explain_query", request);
    }

    private static Map<String, Object> inspect(String databaseUrl) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("database_url", Objects.requireNonNull(databaseUrl, "databaseUrl"));
        return request;
    }

    /** For tests: makes the native library panic inside a call. */
    void panicForTests() {
        call("__panic_for_tests", Map.of());
    }

    /** Frees the native runtime and store connections; later calls throw IllegalStateException. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != 0) {
                NativeConsultant.close(handle);
                handle = 0;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}

package io.dbconsultant;

import java.util.List;
import java.util.Map;

/**
 * The run document of SPEC §7, immutable. Nested records mirror its parts; sample records
 * are rows keyed by column name.
 */
public record TestRun(
        String testRunId,
        String kind,
        Environment environment,
        TriggerType triggerType,
        RunStatus status,
        int riskScore,
        List<RiskContribution> riskBreakdown,
        String summary,
        String createdAt,
        String approvedBy,
        String decidedBy,
        String decidedAt,
        String decisionComment,
        String target,
        String sandbox,
        String dialect,
        Integer failAbove,
        List<String> inputs,
        List<Finding> findings,
        List<SchemaChange> schemaChanges,
        List<IntegrityResult> integrityResults,
        List<EtlResult> etlResults,
        List<PerformanceMetric> performanceMetrics) {

    public TestRun {
        riskBreakdown = List.copyOf(riskBreakdown == null ? List.of() : riskBreakdown);
        inputs = List.copyOf(inputs == null ? List.of() : inputs);
        findings = List.copyOf(findings == null ? List.of() : findings);
        schemaChanges = List.copyOf(schemaChanges == null ? List.of() : schemaChanges);
        integrityResults = List.copyOf(integrityResults == null ? List.of() : integrityResults);
        etlResults = List.copyOf(etlResults == null ? List.of() : etlResults);
        performanceMetrics = List.copyOf(performanceMetrics == null ? List.of() : performanceMetrics);
    }

    public String getTestRunId() { return testRunId; }
    public String getKind() { return kind; }
    public Environment getEnvironment() { return environment; }
    public TriggerType getTriggerType() { return triggerType; }
    public RunStatus getStatus() { return status; }
    public int getRiskScore() { return riskScore; }
    public List<RiskContribution> getRiskBreakdown() { return riskBreakdown; }
    public String getSummary() { return summary; }
    public String getCreatedAt() { return createdAt; }
    public String getApprovedBy() { return approvedBy; }
    public List<Finding> getFindings() { return findings; }
    public List<SchemaChange> getSchemaChanges() { return schemaChanges; }
    public List<IntegrityResult> getIntegrityResults() { return integrityResults; }
    public List<EtlResult> getEtlResults() { return etlResults; }
    public List<PerformanceMetric> getPerformanceMetrics() { return performanceMetrics; }

    /** The CLI's exit code: 0 passed/approved, 1 failed/rejected, 2 pending, 3 error. */
    public int exitCode() {
        switch (status) {
            case PASSED: case APPROVED: return 0;
            case FAILED: case REJECTED: return 1;
            case PENDING_APPROVAL: return 2;
            default: return 3;
        }
    }

    public record RiskContribution(String rule, int points, String reason) {}

    public record Finding(String rule, String severity, String message, Integer statement, Integer line, Integer column,
                          String suggestion, String file, List<Map<String, Object>> sampleRecords) {
        public Finding {
            sampleRecords = sampleRecords == null ? List.of() : List.copyOf(sampleRecords);
        }
    }

    public record SchemaChange(String objectType, String tableName, String name, String changeType,
                               String compatibilityStatus, String details) {}

    public record IntegrityResult(String tableName, String integrityType, String constraint, long failureCount,
                                  List<Map<String, Object>> sampleRecords, String error) {
        public IntegrityResult {
            sampleRecords = sampleRecords == null ? List.of() : List.copyOf(sampleRecords);
        }
    }

    /**
     * One reconciled table pair. {@code missingInTarget}, {@code extraInTarget} and {@code changed}
     * are samples (keys as column → value maps); the {@code *Count} fields are exact.
     */
    public record EtlResult(String sourceTable, String targetTable, long sourceCount, long targetCount,
                            boolean checksumMatch, List<Map<String, Object>> missingInTarget, List<Map<String, Object>> extraInTarget,
                            List<Map<String, Object>> changed, long missingCount, long extraCount, long changedCount,
                            Map<String, Long> changedColumns, long withinTolerance, List<String> key, List<String> columns,
                            String strategy, long segmentsCompared, long rowsFetched, long queries,
                            List<EtlAggregate> aggregates, String error) {
        public EtlResult {
            missingInTarget = missingInTarget == null ? List.of() : List.copyOf(missingInTarget);
            extraInTarget = extraInTarget == null ? List.of() : List.copyOf(extraInTarget);
            changed = changed == null ? List.of() : List.copyOf(changed);
            changedColumns = changedColumns == null ? Map.of() : Map.copyOf(changedColumns);
            key = key == null ? List.of() : List.copyOf(key);
            columns = columns == null ? List.of() : List.copyOf(columns);
            aggregates = aggregates == null ? List.of() : List.copyOf(aggregates);
        }
    }

    /** One reconciled aggregate ({@code group} is null when not grouped). */
    public record EtlAggregate(String group, String function, String column, String source, String target, boolean matches) {}

    /**
     * One profiled query. {@code plan} is the normalized plan tree (nested maps); each of
     * {@code recommendations} holds {@code create_index}, {@code reason} and its {@code verification}.
     */
    public record PerformanceMetric(String queryHash, String query, Double executionTimeMs, boolean indexUsed,
                                    Object plan, String recommendation, String fingerprint, long occurrences, boolean readOnly,
                                    Timing timing, List<Map<String, Object>> recommendations, List<String> findings,
                                    Map<String, Object> stats, String error) {
        public PerformanceMetric {
            recommendations = recommendations == null ? List.of() : List.copyOf(recommendations);
            findings = findings == null ? List.of() : List.copyOf(findings);
        }
    }

    /** Execution times of the timed runs (after one warm-up run). */
    public record Timing(int runs, double minMs, double medianMs, double p95Ms) {}
}

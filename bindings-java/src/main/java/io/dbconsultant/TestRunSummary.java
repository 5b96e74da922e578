package io.dbconsultant;

/** One line of {@link DatabaseConsultantClient#listTestRuns}. */
public record TestRunSummary(String testRunId, String kind, Environment environment, TriggerType triggerType,
                             RunStatus status, int riskScore, String summary, String createdAt, String approvedBy) {}

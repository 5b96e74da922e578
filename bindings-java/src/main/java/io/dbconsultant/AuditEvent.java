package io.dbconsultant;

/** One state change of a run. */
public record AuditEvent(String testRunId, String event, String actor, String details, String createdAt) {}

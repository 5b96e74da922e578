package io.dbconsultant;

/** Status of a test run. */
public enum RunStatus { PASSED, FAILED, PENDING_APPROVAL, APPROVED, REJECTED, ERROR }

package io.dbconsultant;

/** Where a run's target lives. */
public enum Environment { DEV, QA, STAGE, PROD }

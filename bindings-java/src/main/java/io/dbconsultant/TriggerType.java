package io.dbconsultant;

/** What triggered a run. */
public enum TriggerType { PR, MIGRATION, ETL, MANUAL }

package io.dbconsultant;

import java.util.List;
import java.util.Map;

/** What the inspection calls return: schemas, tables, one table in full, query rows. */
public final class Inspection {
    private Inspection() {}

    /** One schema (PostgreSQL schema, MySQL database, SQLite main) and what it holds. */
    public record SchemaSummary(String name, int tables, int views) {}

    /** A table or view as listed; {@code name} is schema-qualified outside the default schema. */
    public record TableSummary(String name, String schema, String kind, Integer columns, Long rowEstimate) {}

    public record Column(String name, String dataType, boolean nullable, String defaultValue, boolean autoIncrement) {
        @com.fasterxml.jackson.annotation.JsonCreator
        public Column(
                @com.fasterxml.jackson.annotation.JsonProperty("name") String name,
                @com.fasterxml.jackson.annotation.JsonProperty("data_type") String dataType,
                @com.fasterxml.jackson.annotation.JsonProperty("nullable") boolean nullable,
                @com.fasterxml.jackson.annotation.JsonProperty("default") String defaultValue,
                @com.fasterxml.jackson.annotation.JsonProperty("auto_increment") boolean autoIncrement) {
            this.name = name;
            this.dataType = dataType;
            this.nullable = nullable;
            this.defaultValue = defaultValue;
            this.autoIncrement = autoIncrement;
        }
    }

    public record ForeignKey(String name, List<String> columns, String referencedTable, List<String> referencedColumns, String onDelete,
            String onUpdate, boolean enforced) {}

    public record UniqueConstraint(String name, List<String> columns) {}

    public record CheckConstraint(String name, String expression, boolean enforced) {}

    public record Index(String name, List<String> columns, boolean unique, String predicate, String method, boolean implicit) {}

    /** One table in full; {@code referencedBy} lists other tables' foreign keys as {@code table(columns)}. */
    public record TableDescription(String name, List<Column> columns, List<String> primaryKey, List<ForeignKey> foreignKeys,
            List<String> referencedBy, List<UniqueConstraint> uniqueConstraints, List<CheckConstraint> checkConstraints,
            List<Index> indexes, Long rowEstimate) {}

    /**
     * Rows of a read-only query, keyed by column name: at most the requested number;
     * {@code truncated} is true exactly when the query had more; sensitive values masked.
     */
    public record QueryResult(List<String> columns, List<Map<String, Object>> rows, int rowCount, boolean truncated,
            List<String> maskedColumns) {}
}

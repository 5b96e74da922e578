package io.dbconsultant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What {@link DatabaseConsultantClient#validateEtl} reconciles; build with {@link #builder()}. */
public final class EtlRequest {
    private final Map<String, Object> json;

    private EtlRequest(Map<String, Object> json) {
        this.json = Map.copyOf(json);
    }

    Map<String, Object> toJson() {
        return json;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How rows are located when checksums differ. */
    public enum Strategy { AUTO, BISECT, JOIN }

    public static final class Builder {
        private final Map<String, Object> json = new LinkedHashMap<>();
        private final List<String> key = new ArrayList<>();
        private final List<String> columns = new ArrayList<>();
        private final List<String> aggregates = new ArrayList<>();
        private final Map<String, String> columnMap = new LinkedHashMap<>();
        private final Map<String, Double> columnTolerance = new LinkedHashMap<>();

        public Builder source(String url, String table) {
            json.put("source_url", Objects.requireNonNull(url, "source url"));
            json.put("source_table", Objects.requireNonNull(table, "source table"));
            return this;
        }
        public Builder target(String url, String table) {
            json.put("target_url", Objects.requireNonNull(url, "target url"));
            json.put("target_table", Objects.requireNonNull(table, "target table"));
            return this;
        }
        /** A key column (repeat for a composite key). */
        public Builder key(String column) { key.add(Objects.requireNonNull(column, "key")); return this; }
        /** Compare only these columns (repeatable; default: every column both tables have). */
        public Builder column(String column) { columns.add(Objects.requireNonNull(column, "column")); return this; }
        /** A source column whose target column has another name. */
        public Builder mapColumn(String source, String target) { columnMap.put(Objects.requireNonNull(source), Objects.requireNonNull(target)); return this; }
        /** A filter (SQL condition) applied on both sides. */
        public Builder where(String condition) { json.put("where_clause", Objects.requireNonNull(condition, "where")); return this; }
        public Builder sourceWhere(String condition) { json.put("source_where", Objects.requireNonNull(condition)); return this; }
        public Builder targetWhere(String condition) { json.put("target_where", Objects.requireNonNull(condition)); return this; }
        /** Absolute tolerance for every numeric column. */
        public Builder tolerance(double tolerance) { json.put("tolerance", tolerance); return this; }
        /** Absolute tolerance for one numeric column. */
        public Builder tolerance(String column, double tolerance) { columnTolerance.put(Objects.requireNonNull(column), tolerance); return this; }
        /** {@code "sum:amount"}, {@code "count:*"}, {@code "min:created_at"}, {@code "max:x"}. */
        public Builder aggregate(String spec) { aggregates.add(Objects.requireNonNull(spec, "aggregate")); return this; }
        public Builder groupBy(String column) { json.put("group_by", Objects.requireNonNull(column)); return this; }
        public Builder strategy(Strategy strategy) { json.put("strategy", Objects.requireNonNull(strategy).name().toLowerCase()); return this; }
        public Builder bisectionThreshold(long rows) { json.put("bisection_threshold", rows); return this; }
        public Builder segments(int segments) { json.put("segments", segments); return this; }
        public Builder timeoutMs(long ms) { json.put("statement_timeout_ms", ms); return this; }
        public Builder sampleLimit(int limit) { json.put("sample_limit", limit); return this; }
        public Builder environment(Environment e) { json.put("environment", Objects.requireNonNull(e, "environment").name().toLowerCase()); return this; }

        public EtlRequest build() {
            for (String field : List.of("source_url", "target_url")) {
                if (!json.containsKey(field)) {
                    throw new IllegalArgumentException((field.startsWith("source") ? "source" : "target") + "(url, table) is required");
                }
            }
            if (key.isEmpty()) {
                throw new IllegalArgumentException("at least one key column is required");
            }
            Map<String, Object> out = new LinkedHashMap<>(json);
            out.put("key", List.copyOf(key));
            if (!columns.isEmpty()) out.put("columns", List.copyOf(columns));
            if (!aggregates.isEmpty()) out.put("aggregates", List.copyOf(aggregates));
            if (!columnMap.isEmpty()) out.put("column_map", Map.copyOf(columnMap));
            if (!columnTolerance.isEmpty()) out.put("column_tolerance", Map.copyOf(columnTolerance));
            return new EtlRequest(out);
        }
    }
}

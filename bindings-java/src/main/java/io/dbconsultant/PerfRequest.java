package io.dbconsultant;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What {@link DatabaseConsultantClient#profilePerformance} profiles; build with {@link #builder()}. */
public final class PerfRequest {
    private final Map<String, Object> json;

    private PerfRequest(Map<String, Object> json) {
        this.json = Map.copyOf(json);
    }

    Map<String, Object> toJson() {
        return json;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final Map<String, Object> json = new LinkedHashMap<>();
        private final List<String> queries = new ArrayList<>();

        public Builder databaseUrl(String url) { json.put("database_url", Objects.requireNonNull(url, "databaseUrl")); return this; }
        /** A query to profile (repeat for a workload). */
        public Builder query(String sql) { queries.add(Objects.requireNonNull(sql, "query")); return this; }
        /** A workload file: statements separated by {@code ;}. */
        public Builder file(Path file) { json.put("query_file", Objects.requireNonNull(file, "file").toString()); return this; }
        /** Also profile the top statements of pg_stat_statements / performance_schema. */
        public Builder fromStats(boolean fromStats) { json.put("from_stats", fromStats); return this; }
        /** Timed runs per read-only query, after one warm-up. */
        public Builder runs(int runs) { json.put("runs", runs); return this; }
        /** EXPLAIN ANALYZE read-only queries (default true). */
        public Builder analyze(boolean analyze) { json.put("analyze", analyze); return this; }
        public Builder largeTableRows(long rows) { json.put("large_table_rows", rows); return this; }
        public Builder environment(Environment e) { json.put("environment", Objects.requireNonNull(e, "environment").name().toLowerCase()); return this; }

        public PerfRequest build() {
            if (!json.containsKey("database_url")) {
                throw new IllegalArgumentException("databaseUrl is required");
            }
            Map<String, Object> out = new LinkedHashMap<>(json);
            out.put("queries", List.copyOf(queries));
            return new PerfRequest(out);
        }
    }
}

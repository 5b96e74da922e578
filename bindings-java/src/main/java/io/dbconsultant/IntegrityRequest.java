package io.dbconsultant;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What {@link DatabaseConsultantClient#checkIntegrity} checks; build with {@link #builder()}. */
public final class IntegrityRequest {
    private final Map<String, Object> json;

    private IntegrityRequest(Map<String, Object> json) {
        this.json = Map.copyOf(json);
    }

    Map<String, Object> toJson() {
        return json;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private String databaseUrl;
        private final List<String> tables = new ArrayList<>();
        private final List<Map<String, Object>> rules = new ArrayList<>();
        private final Map<String, Object> json = new LinkedHashMap<>();

        public Builder databaseUrl(String url) { this.databaseUrl = Objects.requireNonNull(url, "databaseUrl"); return this; }
        /** Check only this table (repeat for several); all tables when none is given. */
        public Builder table(String table) { tables.add(Objects.requireNonNull(table, "table")); return this; }
        /** A rules TOML file. */
        public Builder rules(Path rulesFile) { json.put("rules", Objects.requireNonNull(rulesFile, "rules").toString()); return this; }
        /** One rule with the rules file's keys (table, column, type, ...). */
        public Builder rule(Map<String, Object> rule) { rules.add(Objects.requireNonNull(rule, "rule")); return this; }
        public Builder environment(Environment e) { json.put("environment", Objects.requireNonNull(e, "environment").name().toLowerCase()); return this; }
        public Builder timeoutMs(long ms) { json.put("timeout_ms", ms); return this; }
        public Builder failAbove(int threshold) { json.put("fail_above", threshold); return this; }

        public IntegrityRequest build() {
            if (databaseUrl == null) {
                throw new IllegalArgumentException("databaseUrl is required");
            }
            Map<String, Object> out = new LinkedHashMap<>(json);
            out.put("database_url", databaseUrl);
            out.put("tables", List.copyOf(tables));
            if (!rules.isEmpty()) {
                out.put("rules", List.copyOf(rules));
            }
            return new IntegrityRequest(out);
        }
    }
}

package io.dbconsultant;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What {@link DatabaseConsultantClient#validateSchema} validates; build with {@link #builder()}. */
public final class SchemaValidationRequest {
    private final Map<String, Object> json;

    private SchemaValidationRequest(Map<String, Object> json) {
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
        private final List<String> paths = new ArrayList<>();
        private String sql;
        private final Map<String, Object> json = new LinkedHashMap<>();

        /** The target: sqlite://PATH, postgres://..., mysql://... (required). */
        public Builder databaseUrl(String url) { this.databaseUrl = Objects.requireNonNull(url, "databaseUrl"); return this; }
        /** A migration file or a directory of *.sql files; repeat for several, applied in order. */
        public Builder migrationScript(Path path) { paths.add(Objects.requireNonNull(path, "migrationScript").toString()); return this; }
        /** Migration SQL given as text. */
        public Builder migrationSql(String sql) { this.sql = Objects.requireNonNull(sql, "migrationSql"); return this; }
        public Builder environment(Environment e) { json.put("environment", Objects.requireNonNull(e, "environment").name().toLowerCase()); return this; }
        public Builder triggerType(TriggerType t) { json.put("trigger_type", Objects.requireNonNull(t, "triggerType").name().toLowerCase()); return this; }
        public Builder requireHumanApproval(boolean required) { json.put("require_human_approval", required); return this; }
        /** Fail the run when the risk score is above this (0-100). */
        public Builder failAbove(int threshold) { json.put("fail_above", threshold); return this; }
        /** dbconsultant.toml, as a path. */
        public Builder config(Path config) { json.put("config", Objects.requireNonNull(config, "config").toString()); return this; }
        /** dbconsultant.toml's structure as nested maps (snake_case keys). */
        public Builder config(Map<String, Object> config) { json.put("config", Objects.requireNonNull(config, "config")); return this; }
        public Builder sandboxUrl(String url) { json.put("sandbox_url", Objects.requireNonNull(url, "sandboxUrl")); return this; }

        public SchemaValidationRequest build() {
            if (databaseUrl == null) {
                throw new IllegalArgumentException("databaseUrl is required");
            }
            if (paths.isEmpty() && sql == null) {
                throw new IllegalArgumentException("migrationScript or migrationSql is required");
            }
            Map<String, Object> out = new LinkedHashMap<>(json);
            out.put("database_url", databaseUrl);
            out.put("migration_paths", List.copyOf(paths));
            if (sql != null) {
                out.put("migration_sql", sql);
            }
            return new SchemaValidationRequest(out);
        }
    }
}

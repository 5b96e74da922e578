package io.dbconsultant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbconsultant.DatabaseConsultantException.InvalidInputException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No credential comes back through runQuery from the Java SDK, with a privileged login:
 * credentials catalogs are refused, also behind views; a password hash copied into an ordinary
 * table is masked by its value; tables declared secret are refused on SQLite too.
 */
class SecretsTest {
    @TempDir
    Path dir;

    private QueryOutput query(DatabaseConsultantClient client, String url, String sql, Map<String, Object> config) {
        RunQueryRequest.Builder request = RunQueryRequest.builder().databaseUrl(url).sql(sql);
        return client.runQuery(config == null ? request.build() : request.config(config).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "mysql"})
    void credentialsNeverComeBack(String dialect) throws Exception {
        String url = Databases.shop(dialect, dir);
        boolean pg = dialect.equals("postgres");
        Databases.admin(url, pg
                ? "CREATE TABLE accounts AS SELECT rolname AS who, rolpassword AS x FROM pg_authid WHERE rolpassword IS NOT NULL; "
                        + "CREATE VIEW account_view AS SELECT rolname AS who, rolpassword AS x FROM pg_authid"
                : "CREATE TABLE accounts AS SELECT User AS who, authentication_string AS x FROM mysql.user WHERE authentication_string LIKE '*%'; "
                        + "CREATE VIEW account_view AS SELECT User AS who, authentication_string AS x FROM mysql.user");
        List<String> hashes = List.of(Databases.admin(url, pg
                ? "SELECT rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL"
                : "SELECT authentication_string FROM mysql.user WHERE authentication_string LIKE '*%'").split("\\s+"));
        List<String> refused = pg
                ? List.of("SELECT rolname, rolpassword FROM pg_authid", "SELECT to_json(a) FROM pg_authid a", "SELECT who, x FROM account_view")
                : List.of("SELECT User, authentication_string FROM mysql.user", "SELECT Priv FROM mysql.global_priv", "SELECT who, x FROM account_view");
        List<String> masked = pg
                ? List.of("SELECT who, x FROM accounts", "SELECT who || ':' || x AS line FROM accounts")
                : List.of("SELECT who, x FROM accounts", "SELECT CONCAT(who, ':', x) AS line FROM accounts");
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(dir.resolve("store.db").toString())) {
            for (String sql : refused) {
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> query(client, url, sql, null), sql);
                assertTrue(e.getMessage().contains("holds credentials"), sql + ": " + e.getMessage());
            }
            for (String sql : masked) {
                String text = query(client, url, sql, null).rows().toString();
                assertTrue(text.contains("<masked"), sql + ": " + text);
                for (String hash : hashes) {
                    assertFalse(!hash.isEmpty() && text.contains(hash), sql + " leaked a hash");
                }
            }
        }
    }

    @Test
    void declaredSecretTablesAreRefusedAlsoThroughAView() throws Exception {
        String url = Databases.sqlite(dir, "app.db",
                "CREATE TABLE api_tokens (id INTEGER, token TEXT); INSERT INTO api_tokens VALUES (1, 'tok_1');"
                        + " CREATE VIEW tokens_view AS SELECT token FROM api_tokens;");
        Map<String, Object> config = Map.of("masking", Map.of("secret_tables", List.of("api_tokens")));
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(dir.resolve("store.db").toString())) {
            for (String sql : List.of("SELECT token FROM api_tokens", "SELECT * FROM tokens_view")) {
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> query(client, url, sql, config), sql);
                assertTrue(e.getMessage().contains("declared secret"), e.getMessage());
            }
            assertEquals(1, query(client, url, "SELECT * FROM tokens_view", null).rowCount(), "undeclared, it answers");
        }
    }
}

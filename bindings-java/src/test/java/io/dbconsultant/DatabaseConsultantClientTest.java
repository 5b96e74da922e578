package io.dbconsultant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbconsultant.DatabaseConsultantException.ApprovalStateException;
import io.dbconsultant.DatabaseConsultantException.ConnectionException;
import io.dbconsultant.DatabaseConsultantException.InternalException;
import io.dbconsultant.DatabaseConsultantException.InvalidInputException;
import io.dbconsultant.DatabaseConsultantException.NotFoundException;
import io.dbconsultant.DatabaseConsultantException.SandboxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DatabaseConsultantClientTest {
    @TempDir
    Path dir;

    private DatabaseConsultantClient client() {
        return DatabaseConsultantClient.open(dir.resolve("store.db").toString());
    }

    private static SchemaValidationRequest.Builder migration(String url, String file) {
        return SchemaValidationRequest.builder().databaseUrl(url).migrationScript(Databases.MIGRATIONS.resolve(file));
    }

    /** How a Java team gates a release in its own suite. */
    @Test
    void releaseGate() throws Exception {
        String url = Databases.shop("sqlite", dir);
        try (DatabaseConsultantClient client = client()) {
            SchemaValidationRequest req = migration(url, "001_index_order_status.sql").triggerType(TriggerType.PR).build();
            assertTrue(client.validateSchema(req).getRiskScore() < 50);
            assertEquals(RunStatus.PASSED, client.validateSchema(req).getStatus());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres", "mysql"})
    void unsafeMigrationFailsWithMaskedRowsOnEveryDialect(String dialect) throws Exception {
        String url = Databases.shop(dialect, dir);
        try (DatabaseConsultantClient client = client()) {
            SchemaValidationRequest.Builder builder = migration(url, "002_unique_customer_email.sql");
            if (dialect.equals("mysql")) {
                builder.config(Map.of("sandbox", Map.of("allow_scratch_on_target", true)));
            }
            TestRun run = client.validateSchema(builder.build());
            assertEquals(RunStatus.FAILED, run.getStatus());
            Finding failure = run.getFindings().stream().filter(f -> f.rule().equals("migration-fails")).findFirst().orElseThrow();
            List<Object> ids = failure.sampleRecords().stream().map(r -> (Object) ((Number) r.get("id")).intValue()).toList();
            assertEquals(List.of(1, 4, 3, 7), ids);
            assertTrue(failure.sampleRecords().stream().allMatch(r -> "<masked>".equals(r.get("email"))));
            assertEquals(run, client.getTestRun(run.getTestRunId()));
            if (dialect.equals("postgres")) {
                // Never the target: a copy on a throwaway server of the target's version.
                assertTrue(run.getSandbox().contains("throwaway PostgreSQL"), run.getSandbox());
                SchemaValidationRequest.Builder none = migration(url, "001_index_order_status.sql");
                none.config(Map.of("sandbox", Map.of("server_bindir", dir.toString())));
                SandboxException e = assertThrows(SandboxException.class, () -> client.validateSchema(none.build()));
                assertTrue(e.getMessage().contains("--sandbox-url") && e.getMessage().contains("--sandbox-on-target"), e.getMessage());
            }
        }
    }

    @Test
    void jobsChangeHowManyQueriesRunAtOnceNotTheAnswers() throws Exception {
        String url = Databases.shop("sqlite", dir);
        try (DatabaseConsultantClient client = client()) {
            TestRun one = client.checkIntegrity(IntegrityRequest.builder().databaseUrl(url).jobs(1).build());
            TestRun four = client.checkIntegrity(IntegrityRequest.builder().databaseUrl(url).jobs(4).build());
            java.util.function.Function<TestRun, List<String>> counts = run -> run.getIntegrityResults().stream()
                    .map(r -> r.tableName() + "|" + r.constraint() + "|" + r.failureCount()).toList();
            assertEquals(counts.apply(one), counts.apply(four));
            assertTrue(one.getIntegrityResults().size() > 10);
            InvalidInputException tooMany = assertThrows(InvalidInputException.class,
                    () -> client.checkIntegrity(IntegrityRequest.builder().databaseUrl(url).jobs(17).build()));
            assertTrue(tooMany.getMessage().contains("jobs must be between 1 and 16, got 17"), tooMany.getMessage());
        }
    }

    @Test
    void integrityWithARuleAndApprovalFlow() throws Exception {
        String url = Databases.shop("sqlite", dir);
        try (DatabaseConsultantClient client = client()) {
            TestRun integrity = client.checkIntegrity(IntegrityRequest.builder().databaseUrl(url).tables("orders")
                    .rules(List.of(Map.of("table", "orders", "type", "implied_fk", "columns", List.of("customer_id"),
                            "references", "customers", "referenced_columns", List.of("id"))))
                    .build());
            IntegrityResult fk = integrity.getIntegrityResults().stream().filter(r -> r.integrityType() == IntegrityType.FK).findFirst().orElseThrow();
            assertEquals(2, fk.failureCount());

            TestRun pending = client.validateSchema(migration(url, "001_index_order_status.sql").requireHumanApproval(true).build());
            assertEquals(RunStatus.PENDING_APPROVAL, pending.getStatus());
            assertEquals(1, client.listTestRuns(ListTestRunsRequest.builder().status(RunStatus.PENDING_APPROVAL).limit(10).build()).size());
            TestRun approved = client.approveTestRun(pending.getTestRunId(), "alice", "ok");
            assertEquals("alice", approved.getApprovedBy());
            ApprovalStateException twice = assertThrows(ApprovalStateException.class, () -> client.rejectTestRun(pending.getTestRunId(), "bob", null));
            assertTrue(twice.getMessage().contains("is approved by alice"), twice.getMessage());
            assertEquals(List.of("created", "approved"), client.auditTrail(pending.getTestRunId()).stream().map(AuditEvent::event).toList());
        }
    }

    @Test
    void etlFindsTheDifferingRows() throws Exception {
        String table = "CREATE TABLE payments (payment_id INTEGER PRIMARY KEY, payer TEXT, amount NUMERIC(10,2));";
        StringBuilder rows = new StringBuilder();
        for (int i = 1; i <= 1200; i++) {
            rows.append(i == 1 ? "" : ", ").append("(").append(i).append(", 'p").append(i).append("', ").append(i).append(".10)");
        }
        String source = Databases.sqlite(dir, "source.db", table + " INSERT INTO payments VALUES " + rows + ";");
        String target = Databases.sqlite(dir, "target.db", table + " INSERT INTO payments VALUES " + rows + ";"
                + " DELETE FROM payments WHERE payment_id = 11; UPDATE payments SET amount = 0 WHERE payment_id = 600;");
        try (DatabaseConsultantClient client = client()) {
            EtlRequest request = EtlRequest.builder().sourceUrl(source).sourceTable("payments").targetUrl(target).key("payment_id")
                    .bisectionThreshold(30).aggregates("sum:amount").build();
            TestRun run = client.validateEtl(request);
            assertEquals(RunStatus.FAILED, run.getStatus());
            EtlResult r = run.getEtlResults().get(0);
            assertEquals(List.of(Map.of("payment_id", 11)), r.missingInTarget());
            assertEquals(1, r.changedCount());
            assertEquals(Map.of("payment_id", 600), ((Map<?, ?>) r.changed().get(0)).get("key"));
            assertEquals(Map.of("amount", 1L), r.changedColumns());
            assertEquals("bisection", r.strategy());
            assertFalse(r.aggregates().get(0).matches());
            assertEquals(run, client.getTestRun(run.getTestRunId()));
            assertThrows(InvalidInputException.class, () -> client.validateEtl(
                    EtlRequest.builder().sourceUrl(source).sourceTable("payments").targetUrl(target).key("nope").build()));
            InvalidInputException jobs = assertThrows(InvalidInputException.class, () -> client.validateEtl(
                    EtlRequest.builder().sourceUrl(source).sourceTable("payments").targetUrl(target).key("payment_id").jobs(0).build()));
            assertTrue(jobs.getMessage().contains("jobs must be between 1 and 16, got 0"), jobs.getMessage());
            IllegalArgumentException noTarget =
                    assertThrows(IllegalArgumentException.class, () -> EtlRequest.builder().sourceUrl(source).sourceTable("payments").build());
            assertEquals("targetUrl is required", noTarget.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "mysql"})
    void etlShopOrdersMatchAcrossDialects(String dialect) throws Exception {
        String sqlite = Databases.shop("sqlite", dir);
        String server = Databases.shop(dialect, dir);
        try (DatabaseConsultantClient client = client()) {
            TestRun run = client.validateEtlAsync(EtlRequest.builder().sourceUrl(sqlite).sourceTable("orders").targetUrl(server).key("id").build()).get();
            assertEquals(RunStatus.PASSED, run.getStatus(), run.getSummary());
            assertTrue(run.getEtlResults().get(0).checksumMatch());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres", "mysql"})
    void inspectTheShopReadOnly(String dialect) throws Exception {
        String url = Databases.shop(dialect, dir);
        try (DatabaseConsultantClient client = client()) {
            String home = switch (dialect) {
                case "sqlite" -> "main";
                case "postgres" -> "public";
                default -> url.substring(url.lastIndexOf('/') + 1);
            };
            assertTrue(client.listSchemas(url).contains(new SchemaSummary(home, 5L, 1L)), client.listSchemas(url).toString());
            assertTrue(client.listTables(url, null).stream().anyMatch(t -> t.name().equals("paid_orders") && t.kind().equals("view")));
            TableDescription orders = client.describeTable(url, "orders");
            assertEquals(List.of("id"), orders.primaryKey());
            assertTrue(orders.referencedBy().contains("order_items(order_id)"));
            assertEquals("customer_id", orders.columns().get(1).name());
            assertFalse(orders.columns().get(1).nullable());
            assertThrows(NotFoundException.class, () -> client.describeTable(url, "ordrs"));

            QueryOutput capped = client.runQuery(url, "SELECT id AS order_id FROM orders ORDER BY id", 4);
            assertEquals(4, capped.rowCount());
            assertTrue(capped.truncated());
            assertEquals(1, ((Number) capped.rows().get(0).get("order_id")).intValue(), "rows keep column names");
            assertFalse(client.runQuery(url, "SELECT id FROM orders", 5).truncated());
            QueryOutput customers = client.runQuery(url, "SELECT email, full_name FROM customers ORDER BY id", 10);
            assertEquals(List.of("email"), customers.maskedColumns());
            assertEquals("Ada Lovelace", customers.rows().get(0).get("full_name"));
            InvalidInputException refused = assertThrows(InvalidInputException.class, () -> client.runQuery(url, "COMMIT; DROP TABLE customers", 10));
            assertTrue(refused.getMessage().contains("refused"), refused.getMessage());

            assertFalse(client.explainQuery(url, "SELECT * FROM orders WHERE customer_id = 3", false).root().nodeType().isEmpty());
            client.explainQuery(url, "DELETE FROM orders", false);
            assertEquals(5, ((Number) client.runQuery(url, "SELECT count(*) AS n FROM orders", 1).rows().get(0).get("n")).intValue());
        }
    }

    @Test
    void auditLogListsEventsNewestFirst() throws Exception {
        String url = Databases.shop("sqlite", dir);
        try (DatabaseConsultantClient client = client()) {
            TestRun run = client.validateSchema(SchemaValidationRequest.builder().databaseUrl(url)
                    .migrationSql("CREATE INDEX ix ON orders (status);").requireHumanApproval(true).build());
            client.approveTestRun(run.getTestRunId(), "alice", null);
            List<AuditEvent> log = client.auditLog(AuditLogRequest.builder().limit(10).build());
            assertEquals("approved", log.get(0).event());
            assertEquals("alice", log.get(0).actor());
            assertEquals("created", log.get(1).event());
            assertEquals(1, client.auditLog(AuditLogRequest.builder().event("created").limit(10).build()).size());
        }
    }

    @Test
    void profilePerformanceRecommendsAVerifiedIndex() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 1; i <= 20000; i++) {
            rows.append(i == 1 ? "" : ", ").append("(").append(i).append(", ").append(i % 2000).append(")");
        }
        String url = Databases.sqlite(dir, "events.db", "CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER); INSERT INTO events VALUES " + rows + ";");
        try (DatabaseConsultantClient client = client()) {
            TestRun run = client.profilePerformance(PerfRequest.builder().databaseUrl(url)
                    .queries("SELECT * FROM events WHERE user_id = 7", "SELECT * FROM events WHERE id = 3").runs(2).build());
            assertEquals(RunStatus.FAILED, run.getStatus());
            PerformanceMetric scan = run.getPerformanceMetrics().get(0);
            assertEquals("CREATE INDEX \"idx_events_user_id\" ON \"events\" (\"user_id\")", scan.recommendation());
            assertEquals(true, ((Map<?, ?>) ((Map<?, ?>) scan.recommendations().get(0)).get("verification")).get("used"));
            assertEquals(2, scan.timing().runs());
            assertTrue(run.getPerformanceMetrics().get(1).indexUsed());
            assertEquals(run, client.getTestRun(run.getTestRunId()));
            assertThrows(InvalidInputException.class, () -> client.profilePerformance(PerfRequest.builder().databaseUrl(url).build()));
        }
    }

    @Test
    void errorsMapToExceptionClassesWithTheCliMessage() throws Exception {
        String url = Databases.shop("sqlite", dir);
        try (DatabaseConsultantClient client = client()) {
            InvalidInputException missing = assertThrows(InvalidInputException.class,
                    () -> client.validateSchema(SchemaValidationRequest.builder().databaseUrl(url).migrationScript(dir.resolve("missing.sql")).build()));
            assertTrue(missing.getMessage().contains("cannot read migration"), missing.getMessage());
            assertThrows(NotFoundException.class, () -> client.getTestRun("nope"));
            ConnectionException refused = assertThrows(ConnectionException.class, () -> client.validateSchema(
                    SchemaValidationRequest.builder().databaseUrl("postgres://admin:hunter2@127.0.0.1:1/db").migrationSql("SELECT 1;").build()));
            assertFalse(refused.getMessage().contains("hunter2"));
            assertTrue(refused.getMessage().contains(":***@"));
            assertEquals("connection", refused.getKind());
        }
    }

    @Test
    void nullsMissingFieldsAndClosedClients() {
        NullPointerException npe = assertThrows(NullPointerException.class, () -> SchemaValidationRequest.builder().databaseUrl(null));
        assertEquals("databaseUrl", npe.getMessage());
        IllegalArgumentException iae = assertThrows(IllegalArgumentException.class, () -> SchemaValidationRequest.builder().migrationSql("SELECT 1;").build());
        assertEquals("databaseUrl is required", iae.getMessage());
        DatabaseConsultantClient client = client();
        InvalidInputException noMigration =
                assertThrows(InvalidInputException.class, () -> client.validateSchema(SchemaValidationRequest.builder().databaseUrl("sqlite://x.db").build()));
        assertTrue(noMigration.getMessage().contains("no migration given"), noMigration.getMessage());
        assertEquals("request", assertThrows(NullPointerException.class, () -> client.validateSchema(null)).getMessage());
        client.close();
        client.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> client.getTestRun("x"));
    }

    @Test
    void aRustPanicIsAnExceptionNotAJvmCrash() {
        try (DatabaseConsultantClient client = client()) {
            InternalException e = assertThrows(InternalException.class, client::panicForTests);
            assertTrue(e.getMessage().contains("deliberate panic"), e.getMessage());
            assertThrows(NotFoundException.class, () -> client.getTestRun("still-alive"));
        }
    }

    @Test
    void openingAndClosingManyClientsDoesNotLeak() throws Exception {
        Path fds = Path.of("/proc/self/fd");
        for (int i = 0; i < 5; i++) {
            client().close(); // warm up class loading and the library
        }
        long before = Files.list(fds).count();
        int threadsBefore = Thread.activeCount();
        for (int i = 0; i < 100; i++) {
            try (DatabaseConsultantClient client = client()) {
                client.listTestRuns(ListTestRunsRequest.builder().limit(1).build());
            }
        }
        Thread.sleep(200);
        long after = Files.list(fds).count();
        assertTrue(after - before < 10, "file descriptors grew from " + before + " to " + after);
        assertTrue(Thread.activeCount() - threadsBefore < 5);
    }

    @Test
    void eightThreadsValidateConcurrently() throws Exception {
        String url = Databases.shop("sqlite", dir);
        try (DatabaseConsultantClient client = client()) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<TestRun>> futures = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String file = i % 2 == 0 ? "001_index_order_status.sql" : "002_unique_customer_email.sql";
                futures.add(pool.submit(() -> client.validateSchema(migration(url, file).build())));
            }
            for (int i = 0; i < futures.size(); i++) {
                assertEquals(i % 2 == 0 ? RunStatus.PASSED : RunStatus.FAILED, futures.get(i).get().getStatus());
            }
            pool.shutdown();
            assertEquals(32, client.listTestRuns(ListTestRunsRequest.builder().limit(100).build()).size());
            assertEquals(RunStatus.PASSED, client.validateSchemaAsync(migration(url, "001_index_order_status.sql").build()).get().getStatus());
        }
    }

    /** A password apart from the URL: the calls work, nothing stores or echoes it, a second one is refused. */
    @ParameterizedTest
    @ValueSource(strings = {"postgres", "mysql"})
    void passwordApartFromTheUrl(String dialect) throws Exception {
        String shop = Databases.shop(dialect, dir);
        java.net.URI u = java.net.URI.create(shop);
        String[] userInfo = u.getRawUserInfo().split(":", 2);
        String password = java.net.URLDecoder.decode(userInfo[1], java.nio.charset.StandardCharsets.UTF_8);
        String bare = shop.replace(u.getRawUserInfo() + "@", userInfo[0] + "@");
        try (DatabaseConsultantClient client = client()) {
            List<TableSummary> tables = client.listTables(ListTablesRequest.builder().databaseUrl(bare).databasePassword(password).build());
            assertTrue(tables.stream().anyMatch(t -> t.name().equals("orders")));
            TestRun run = client.checkIntegrity(IntegrityRequest.builder().databaseUrl(bare).databasePassword(password).tables("orders").build());
            assertFalse(client.getTestRun(run.testRunId()).toString().contains(password));
            assertFalse(new String(Files.readAllBytes(dir.resolve("store.db")), java.nio.charset.StandardCharsets.ISO_8859_1).contains(password),
                    "the store holds the password");
            // Once over verify-full: the test CA, and the host name its certificate lists.
            String verified = bare.replace("@127.0.0.1:", "@localhost:");
            verified += "?sslmode=verify-full&sslrootcert=" + Path.of(System.getenv("DBCONSULTANT_TEST_TLS_DIR"), "ca.crt");
            String tlsInUse = "postgres".equals(dialect)
                    ? "SELECT ssl AS tls FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
                    : "SELECT VARIABLE_VALUE <> '' AS tls FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'";
            Object tls = client.runQuery(RunQueryRequest.builder().databaseUrl(verified).databasePassword(password).sql(tlsInUse).build()).rows().get(0).get("tls");
            assertTrue(Boolean.TRUE.equals(tls) || (tls instanceof Number n && n.intValue() == 1), "not encrypted: " + tls);
            InvalidInputException two = assertThrows(InvalidInputException.class,
                    () -> client.listTables(ListTablesRequest.builder().databaseUrl(shop).databasePassword("not-" + password).build()));
            assertTrue(two.getMessage().contains("two passwords") && !two.getMessage().contains(password), two.getMessage());
        }
    }
}

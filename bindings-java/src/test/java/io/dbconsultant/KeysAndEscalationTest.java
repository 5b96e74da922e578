package io.dbconsultant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dbconsultant.DatabaseConsultantException.ApprovalStateException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every differing key to a file, and approval (with escalation) for ETL and integrity runs. */
class KeysAndEscalationTest {
    @TempDir
    Path dir;

    private static String rows(int n) {
        StringBuilder rows = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            rows.append(i == 1 ? "" : ", ").append("(").append(i).append(", ").append(i).append(")");
        }
        return rows.toString();
    }

    @Test
    void keysOutHasEveryKeyAndRunsWaitForEscalatedApproval() throws Exception {
        String table = "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);";
        String source = Databases.sqlite(dir, "source.db", table + " INSERT INTO t VALUES " + rows(500) + ";");
        String target = Databases.sqlite(dir, "target.db", table + " INSERT INTO t VALUES " + rows(500) + ";"
                + " DELETE FROM t WHERE id BETWEEN 10 AND 14; UPDATE t SET v = 0 WHERE id = 300;");
        Path keys = dir.resolve("keys.jsonl");
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(dir.resolve("store.db").toString())) {
            TestRun run = client.validateEtl(
                    EtlRequest.builder().sourceUrl(source).sourceTable("t").targetUrl(target).keysOut(keys).sampleLimit(2).build());
            EtlResult r = run.getEtlResults().get(0);
            assertEquals(2, r.missingInTarget().size());
            assertEquals(5, r.missingCount());
            assertEquals(new KeysFile(keys.toString(), 6), r.keysOut());
            List<String> lines = Files.readAllLines(keys);
            assertEquals(6, lines.size());
            assertEquals(5, lines.stream().filter(l -> l.startsWith("{\"kind\":\"missing\"")).count());
            assertEquals(1, lines.stream().filter(l -> l.startsWith("{\"kind\":\"changed\",\"key\":{\"id\":300}")).count());

            TestRun held = client.validateEtl(
                    EtlRequest.builder().sourceUrl(source).sourceTable("t").targetUrl(source).requireHumanApproval(true).build());
            assertEquals(RunStatus.PENDING_APPROVAL, held.getStatus());
            TestRun escalated = client.escalateTestRun(held.getTestRunId(), "alice", "data-governance", "PII");
            assertEquals(RunStatus.ESCALATED, escalated.getStatus());
            assertEquals("data-governance", escalated.getEscalatedTo());
            assertEquals(2, escalated.exitCode());
            assertEquals(RunStatus.APPROVED, client.approveTestRun(held.getTestRunId(), "bob", null).getStatus());
            assertEquals(List.of("created", "escalated", "approved"),
                    client.auditTrail(held.getTestRunId()).stream().map(AuditEvent::event).toList());
            assertThrows(ApprovalStateException.class, () -> client.escalateTestRun(held.getTestRunId(), "carol", "cto", null));

            TestRun integrity = client.checkIntegrity(
                    IntegrityRequest.builder().databaseUrl(source).requireHumanApproval(true).build());
            assertEquals(RunStatus.PENDING_APPROVAL, integrity.getStatus());
        }
    }
}

package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbconsultant.DatabaseConsultantClient;
import io.dbconsultant.RunStatus;
import io.dbconsultant.SchemaValidationRequest;
import io.dbconsultant.TestRun;
import io.dbconsultant.TriggerType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The release is blocked unless the next migration is low-risk on a copy of production data. */
class ReleaseGateTest {
    @TempDir
    Path store;

    @Test
    void nextMigrationIsSafeToShip() {
        String database = "sqlite://" + System.getProperty("shop.db");
        Path migration = Path.of(System.getProperty("migrations.dir"), "001_index_order_status.sql");
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(store.resolve("runs.db").toString())) {
            SchemaValidationRequest req = SchemaValidationRequest.builder()
                    .databaseUrl(database)
                    .migrationScript(migration)
                    .triggerType(TriggerType.PR)
                    .build();
            TestRun run = client.validateSchema(req);
            assertTrue(client.validateSchema(req).getRiskScore() < 50, run.getSummary());
            assertEquals(RunStatus.PASSED, run.getStatus(), run.getSummary());
        }
    }

    @Test
    void theUniqueEmailMigrationIsBlocked() {
        String database = "sqlite://" + System.getProperty("shop.db");
        Path migration = Path.of(System.getProperty("migrations.dir"), "002_unique_customer_email.sql");
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(store.resolve("runs.db").toString())) {
            TestRun run = client.validateSchema(SchemaValidationRequest.builder().databaseUrl(database).migrationScript(migration).build());
            assertEquals(RunStatus.FAILED, run.getStatus());
        }
    }
}

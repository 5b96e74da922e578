package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dbconsultant.DatabaseConsultantClient;
import io.dbconsultant.RunStatus;
import io.dbconsultant.SchemaValidationRequest;
import io.dbconsultant.TestRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java used-by line, against the jar installed from dist/ (tests/install/run.sh). */
class InstalledSdkTest {
    @TempDir
    Path store;

    @Test
    void theJarFromDistValidatesSchemas() {
        assertEquals(System.getProperty("dbconsultant.version"), DatabaseConsultantClient.version());
        String jar = DatabaseConsultantClient.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        assertTrue(jar.contains("/m2/io/dbconsultant/"), "not the installed jar: " + jar);
        String database = "sqlite://" + System.getProperty("shop.db");
        Path migrations = Path.of(System.getProperty("migrations.dir"));
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(store.resolve("runs.db").toString())) {
            TestRun safe = client.validateSchema(SchemaValidationRequest.builder()
                    .databaseUrl(database).migrationScript(migrations.resolve("001_index_order_status.sql")).build());
            assertEquals(RunStatus.PASSED, safe.getStatus(), safe.getSummary());
            TestRun unsafe = client.validateSchema(SchemaValidationRequest.builder()
                    .databaseUrl(database).migrationScript(migrations.resolve("002_unique_customer_email.sql")).build());
            assertEquals(RunStatus.FAILED, unsafe.getStatus(), unsafe.getSummary());
        }
    }
}

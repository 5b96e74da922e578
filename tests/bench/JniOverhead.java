import io.dbconsultant.DatabaseConsultantClient;
import io.dbconsultant.RunStatus;
import io.dbconsultant.SchemaValidationRequest;
import io.dbconsultant.TestRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Median ms of N validateSchema calls through the Java SDK, then 8 threads x 8 calls. */
public class JniOverhead {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        Path migration = Path.of(args[1]);
        int n = Integer.parseInt(args[2]);
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(args[3])) {
            SchemaValidationRequest req = SchemaValidationRequest.builder().databaseUrl(url).migrationScript(migration).build();
            client.validateSchema(req);
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long start = System.nanoTime();
                client.validateSchema(req);
                times.add((System.nanoTime() - start) / 1e6);
            }
            Collections.sort(times);
            System.out.printf("%.2f%n", times.get(n / 2));
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<TestRun>> futures = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                futures.add(pool.submit(() -> client.validateSchema(req)));
            }
            int ok = 0;
            for (Future<TestRun> f : futures) {
                ok += f.get().getStatus() == RunStatus.FAILED ? 1 : 0;
            }
            pool.shutdown();
            System.out.println(ok);
        }
    }
}

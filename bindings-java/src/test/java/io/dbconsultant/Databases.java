package io.dbconsultant;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/** The example shop on SQLite, PostgreSQL and MariaDB (servers from scripts/test.sh). */
final class Databases {
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    static final Path MIGRATIONS = ROOT.resolve("examples/migrations");

    private Databases() {}

    static String shop(String dialect, Path dir) throws IOException, InterruptedException {
        if (dialect.equals("sqlite")) {
            Path db = dir.resolve("shop.db");
            run(List.of("python3", ROOT.resolve("examples/make_shop_db.py").toString(), db.toString()), null);
            return "sqlite://" + db;
        }
        String variable = dialect.equals("postgres") ? "DBCONSULTANT_TEST_POSTGRES_URL" : "DBCONSULTANT_TEST_MYSQL_URL";
        String admin = System.getenv(variable);
        if (admin == null || admin.isEmpty()) {
            Assumptions.assumeTrue(System.getenv("DBCONSULTANT_SKIP_SERVER_TESTS") == null,
                    variable + " unset and DBCONSULTANT_SKIP_SERVER_TESTS set");
            throw new IllegalStateException(variable + " is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SERVER_TESTS=1 locally)");
        }
        String name = "dbc_java_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        URI u = URI.create(admin);
        String target = admin.substring(0, admin.lastIndexOf('/') + 1) + name;
        String sql = Files.readString(ROOT.resolve("examples/" + dialect + "/shop.sql"));
        if (dialect.equals("postgres")) {
            run(List.of("psql", admin, "-qtAc", "CREATE DATABASE " + name), null);
            run(List.of("psql", target, "-q", "-v", "ON_ERROR_STOP=1"), sql);
        } else {
            String[] userInfo = u.getUserInfo().split(":", 2);
            List<String> base = List.of("mariadb", "--no-defaults", "-h", u.getHost(), "-P", String.valueOf(u.getPort()), "-u", userInfo[0], "-p" + userInfo[1]);
            run(concat(base, List.of("-e", "CREATE DATABASE " + name)), null);
            run(concat(base, List.of(name)), sql);
        }
        return target;
    }

    /** A SQLite file built from SQL text (by Python's sqlite3). */
    static String sqlite(Path dir, String name, String sql) throws IOException, InterruptedException {
        Path db = dir.resolve(name);
        run(List.of("python3", "-c", "import sqlite3,sys; sqlite3.connect(sys.argv[1]).executescript(sys.stdin.read())", db.toString()), sql);
        return "sqlite://" + db;
    }

    /** Run SQL on a test database with the test login (a privileged one); its output, trimmed. */
    static String admin(String url, String sql) throws IOException, InterruptedException {
        if (url.startsWith("postgres")) {
            return run(List.of("psql", url, "-qtAc", sql), null);
        }
        URI u = URI.create(url);
        String[] userInfo = u.getUserInfo().split(":", 2);
        return run(List.of("mariadb", "--no-defaults", "-N", "-B", "-h", u.getHost(), "-P", String.valueOf(u.getPort()), "-u", userInfo[0],
                "-p" + userInfo[1], u.getPath().substring(1), "-e", sql), null);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        var out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static String run(List<String> command, String input) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (input != null) {
            p.getOutputStream().write(input.getBytes());
        }
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(command.get(0) + " failed: " + output);
        }
        return output.trim();
    }
}

package io.dbconsultant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library is found from the property, the jar's resources, and a clear error otherwise. */
class NativeLibraryTest {
    @TempDir
    Path dir;

    private String probe(String... jvmArgs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(jvmArgs));
        command.addAll(List.of("io.dbconsultant.LoaderProbe", dir.resolve("store.db").toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    @Test
    void missingLibraryIsAClearError() throws Exception {
        String out = probe("-Ddbconsultant.library.path=" + dir.resolve("nope.so"));
        assertTrue(out.contains("UnsatisfiedLinkError: dbconsultant native library not found at"), out);
    }

    @Test
    void extractedFromTheJarResourcesByDefault() throws Exception {
        String out = probe("-Djava.library.path=" + dir);
        assertTrue(out.contains("opened true"), out);
    }
}

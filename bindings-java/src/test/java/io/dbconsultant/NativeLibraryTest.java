package io.dbconsultant;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @Test
    void aPlatformTheJarLacksIsNamedWithThePlatformsItHolds() throws Exception {
        String out = probe("-Djava.library.path=" + dir, "-Dos.arch=riscv64");
        assertTrue(out.contains("UnsatisfiedLinkError: this dbconsultant jar has no native library for linux-riscv64 (it holds: linux-x86_64)"), out);
    }

    @Test
    void platformNamesFollowTheJarLayout() {
        assertEquals("linux-x86_64", NativeLibrary.platform("Linux", "amd64"));
        assertEquals("linux-aarch64", NativeLibrary.platform("Linux", "aarch64"));
        assertEquals("darwin-aarch64", NativeLibrary.platform("Mac OS X", "aarch64"));
        assertEquals("darwin-x86_64", NativeLibrary.platform("Mac OS X", "x86_64"));
        assertEquals("windows-x86_64", NativeLibrary.platform("Windows 11", "amd64"));
        assertEquals("libdbconsultant_java.dylib", NativeLibrary.libraryFile("darwin-aarch64"));
        assertEquals("dbconsultant_java.dll", NativeLibrary.libraryFile("windows-x86_64"));
        assertEquals("libdbconsultant_java.so", NativeLibrary.libraryFile("linux-x86_64"));
    }

    @Test
    void versionIsTheMavenProjectVersion() {
        assertEquals(System.getProperty("project.version"), DatabaseConsultantClient.version());
    }
}

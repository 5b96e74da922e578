package io.dbconsultant;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Loads {@code libdbconsultant_java}: from the system property {@code dbconsultant.library.path}
 * (a file), else from {@code java.library.path}, else extracted from the jar's
 * {@code native/<os>-<arch>/} resources.
 */
final class NativeLibrary {
    static final String PROPERTY = "dbconsultant.library.path";
    private static boolean loaded;

    private NativeLibrary() {}

    static synchronized void load() {
        if (loaded) {
            return;
        }
        String explicit = System.getProperty(PROPERTY);
        if (explicit != null) {
            Path file = Path.of(explicit).toAbsolutePath();
            if (!Files.isRegularFile(file)) {
                throw new UnsatisfiedLinkError("dbconsultant native library not found at " + file + " (from -D" + PROPERTY + ")");
            }
            System.load(file.toString());
            loaded = true;
            return;
        }
        try {
            System.loadLibrary("dbconsultant_java");
            loaded = true;
            return;
        } catch (UnsatisfiedLinkError notOnLibraryPath) {
            // fall through to the jar's resources
        }
        String os = System.getProperty("os.name").toLowerCase().contains("mac") ? "darwin" : "linux";
        String arch = System.getProperty("os.arch").replace("amd64", "x86_64");
        String file = os.equals("darwin") ? "libdbconsultant_java.dylib" : "libdbconsultant_java.so";
        String resource = "/native/" + os + "-" + arch + "/" + file;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("dbconsultant native library not found: set -D" + PROPERTY
                        + "=/path/to/" + file + ", put it on java.library.path, or use a jar built for " + os + "-" + arch
                        + " (missing resource " + resource + ")");
            }
            Path temp = Files.createTempFile("dbconsultant_java", file.substring(file.lastIndexOf('.')));
            temp.toFile().deleteOnExit();
            Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
            System.load(temp.toAbsolutePath().toString());
            loaded = true;
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("cannot extract the dbconsultant native library: " + e.getMessage());
        }
    }
}

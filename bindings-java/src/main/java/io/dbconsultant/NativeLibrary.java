package io.dbconsultant;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Loads {@code dbconsultant_java}: from the system property {@code dbconsultant.library.path}
 * (a file), else from {@code java.library.path}, else extracted from the jar's
 * {@code native/<os>-<arch>/} resources ({@code native/platforms.txt} lists the platforms the
 * jar holds, named in the error when this one is not among them).
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
        String platform = platform(System.getProperty("os.name"), System.getProperty("os.arch"));
        String file = libraryFile(platform);
        String resource = "/native/" + platform + "/" + file;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("this dbconsultant jar has no native library for " + platform
                        + " (it holds: " + platformsInJar() + "); set -D" + PROPERTY + "=/path/to/" + file
                        + " or put it on java.library.path");
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

    /** The jar's directory name for a JVM's {@code os.name} and {@code os.arch}: linux-x86_64, darwin-aarch64, windows-x86_64. */
    static String platform(String osName, String osArch) {
        String name = osName.toLowerCase(Locale.ROOT);
        String os = name.contains("mac") || name.contains("darwin") ? "darwin" : name.contains("windows") ? "windows" : "linux";
        String arch = osArch.toLowerCase(Locale.ROOT);
        arch = switch (arch) {
            case "amd64", "x86_64", "x64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return os + "-" + arch;
    }

    /** The library's file name as cargo builds it on that platform. */
    static String libraryFile(String platform) {
        if (platform.startsWith("darwin-")) {
            return "libdbconsultant_java.dylib";
        }
        return platform.startsWith("windows-") ? "dbconsultant_java.dll" : "libdbconsultant_java.so";
    }

    /** The platforms this jar holds libraries for, from {@code native/platforms.txt}. */
    static String platformsInJar() {
        try (InputStream in = NativeLibrary.class.getResourceAsStream("/native/platforms.txt")) {
            if (in == null) {
                return "none";
            }
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String list = reader.lines().map(String::trim).filter(l -> !l.isEmpty()).collect(Collectors.joining(", "));
                return list.isEmpty() ? "none" : list;
            }
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}

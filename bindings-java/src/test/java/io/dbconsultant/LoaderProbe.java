package io.dbconsultant;

/** Opens a client in a fresh JVM and prints what happened (used by NativeLibraryTest). */
public final class LoaderProbe {
    private LoaderProbe() {}

    public static void main(String[] args) {
        try (DatabaseConsultantClient client = DatabaseConsultantClient.open(args[0])) {
            System.out.println("opened " + (client != null));
        } catch (UnsatisfiedLinkError e) {
            System.out.println("UnsatisfiedLinkError: " + e.getMessage());
        }
    }
}

package io.dbconsultant;

/**
 * Every error of the SDK. {@link #getKind()} is the stable kind (invalid_input, connection,
 * sandbox, not_found, approval_state, internal); the message is the CLI's.
 */
public class DatabaseConsultantException extends RuntimeException {
    private final String kind;

    public DatabaseConsultantException(String message, String kind) {
        super(message);
        this.kind = kind;
    }

    public String getKind() {
        return kind;
    }

    /** Bad input: missing or empty migration, unknown dialect, malformed URL, bad rules. */
    public static final class InvalidInputException extends DatabaseConsultantException {
        public InvalidInputException(String message) { super(message, "invalid_input"); }
    }

    /** The database cannot be reached or refuses the credentials (password redacted). */
    public static final class ConnectionException extends DatabaseConsultantException {
        public ConnectionException(String message) { super(message, "connection"); }
    }

    /** The sandbox (copy, rolled-back transaction, scratch database) cannot be set up. */
    public static final class SandboxException extends DatabaseConsultantException {
        public SandboxException(String message) { super(message, "sandbox"); }
    }

    /** No test run with that id. */
    public static final class NotFoundException extends DatabaseConsultantException {
        public NotFoundException(String message) { super(message, "not_found"); }
    }

    /** The run is not pending approval. */
    public static final class ApprovalStateException extends DatabaseConsultantException {
        public ApprovalStateException(String message) { super(message, "approval_state"); }
    }

    /** A bug or unexpected failure inside dbconsultant, including a caught Rust panic. */
    public static final class InternalException extends DatabaseConsultantException {
        public InternalException(String message) { super(message, "internal"); }
    }

    static DatabaseConsultantException of(String kind, String message) {
        switch (kind) {
            case "invalid_input": return new InvalidInputException(message);
            case "connection": return new ConnectionException(message);
            case "sandbox": return new SandboxException(message);
            case "not_found": return new NotFoundException(message);
            case "approval_state": return new ApprovalStateException(message);
            default: return new InternalException(message);
        }
    }
}

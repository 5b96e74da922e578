package io.dbconsultant;

/** The JNI functions of the native library; every call returns a JSON envelope. */
final class NativeConsultant {
    private NativeConsultant() {}

    static { NativeLibrary.load(); }

    static native String open(String store);

    static native String call(long handle, String op, String requestJson);

    static native void close(long handle);

    /** The operation registry with its JSON Schemas, as JSON. */
    static native String registry();

    /** The version of the Rust core in the native library. */
    static native String version();
}

package io.dbconsultant;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Checks database changes before they reach production. Open with {@link #open()} or
 * {@link #open(String)} (a SQLite store path or a postgres:// URL) in try-with-resources;
 * each client owns a native runtime that {@link #close()} frees. Thread-safe.
 */
public final class DatabaseConsultantClient extends Operations implements AutoCloseable {
    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle;

    private DatabaseConsultantClient(long handle) {
        this.handle = handle;
    }

    /** A client with the default store ($DBCONSULTANT_STORE or ~/.local/share/dbconsultant/store.db). */
    public static DatabaseConsultantClient open() {
        return openStore(null);
    }

    /** A client whose runs live in {@code store}: a SQLite file path or a postgres:// URL. */
    public static DatabaseConsultantClient open(String store) {
        return openStore(Objects.requireNonNull(store, "store"));
    }

    private static DatabaseConsultantClient openStore(String store) {
        JsonNode reply = envelope(NativeConsultant.open(store));
        return new DatabaseConsultantClient(reply.asLong());
    }

    private static JsonNode envelope(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            JsonNode error = node.get("error");
            if (error != null) {
                throw DatabaseConsultantException.of(error.get("kind").asText(), error.get("message").asText());
            }
            return node.get("ok");
        } catch (IOException e) {
            throw new DatabaseConsultantException.InternalException("unreadable reply from the native library: " + e.getMessage());
        }
    }

    private JsonNode call(String op, Map<String, Object> request) {
        String json;
        try {
            json = JSON.writeValueAsString(request);
        } catch (IOException e) {
            throw new IllegalArgumentException("request cannot be serialized: " + e.getMessage(), e);
        }
        lock.readLock().lock();
        try {
            if (handle == 0) {
                throw new IllegalStateException("the DatabaseConsultantClient is closed");
            }
            return envelope(NativeConsultant.call(handle, op, json));
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    JsonNode invoke(String op, Map<String, Object> request) {
        return call(op, request);
    }

    @Override
    <T> T convert(JsonNode node, TypeReference<T> type) {
        return JSON.convertValue(node, type);
    }

    /** The operation registry with its JSON Schemas (what this SDK is generated from). */
    public static JsonNode registry() {
        try {
            return JSON.readTree(NativeConsultant.registry());
        } catch (IOException e) {
            throw new DatabaseConsultantException.InternalException("unreadable registry from the native library: " + e.getMessage());
        }
    }

    /**
     * The version of the Rust core in the native library; equal to this SDK's Maven version.
     *
     * @return the version, e.g. {@code 0.1.0}
     */
    public static String version() {
        return NativeConsultant.version();
    }

    /** For tests: makes the native library panic inside a call. */
    void panicForTests() {
        call("__panic_for_tests", Map.of());
    }

    /** Frees the native runtime and store connections; later calls throw IllegalStateException. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != 0) {
                NativeConsultant.close(handle);
                handle = 0;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}

package io.dbconsultant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The SDK against the operation registry of the native core it loads: every operation is a
 * method taking its request class, every request field a builder method, every required field
 * enforced by build(), every error kind an exception class. Fails when the generated classes
 * are stale (run {@code cargo xtask codegen}) or the native library is older than the sources.
 */
class RegistryConformanceTest {
    private static final Set<String> KEYWORDS = Set.of("default", "class", "enum", "package");

    private static String camel(String snake) {
        StringBuilder out = new StringBuilder();
        boolean upper = false;
        for (char c : snake.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        String name = out.toString();
        return KEYWORDS.contains(name) ? name + "Value" : name;
    }

    private static String pascal(String snake) {
        String c = camel(snake);
        return Character.toUpperCase(c.charAt(0)) + c.substring(1);
    }

    @Test
    void everyOperationIsAMethodTakingItsRequest() throws Exception {
        JsonNode registry = DatabaseConsultantClient.registry();
        assertTrue(registry.get("operations").size() >= 16);
        for (JsonNode op : registry.get("operations")) {
            String name = op.get("name").asText();
            String requestType = op.get("request").get("$ref").asText().replaceAll(".*/", "");
            Class<?> request = Class.forName("io.dbconsultant." + requestType);
            Method method = DatabaseConsultantClient.class.getMethod(camel(name), request);
            assertTrue(Modifier.isPublic(method.getModifiers()), name);
            assertNotNull(DatabaseConsultantClient.class.getMethod(camel(name) + "Async", request), name + "Async");
            JsonNode response = op.get("response");
            String expected = response.has("$ref") ? response.get("$ref").asText().replaceAll(".*/", "") : "List";
            assertEquals(expected, method.getReturnType().getSimpleName(), name + " returns " + expected);
        }
    }

    @Test
    void everyRequestFieldIsABuilderMethodAndRequiredFieldsAreEnforced() throws Exception {
        JsonNode registry = DatabaseConsultantClient.registry();
        Set<String> checked = new HashSet<>();
        for (JsonNode op : registry.get("operations")) {
            String requestType = op.get("request").get("$ref").asText().replaceAll(".*/", "");
            if (!checked.add(requestType)) {
                continue;
            }
            JsonNode schema = registry.get("$defs").get(requestType);
            Class<?> builder = Class.forName("io.dbconsultant." + requestType + "$Builder");
            Set<String> methods = new HashSet<>();
            Arrays.stream(builder.getMethods()).forEach(m -> methods.add(m.getName()));
            schema.get("properties").fieldNames().forEachRemaining(field ->
                    assertTrue(methods.contains(camel(field)), requestType + ".Builder lacks " + camel(field)));
            List<String> required = schema.has("required")
                    ? java.util.stream.StreamSupport.stream(schema.get("required").spliterator(), false).map(JsonNode::asText).toList()
                    : List.of();
            Object empty = Class.forName("io.dbconsultant." + requestType).getMethod("builder").invoke(null);
            Method build = builder.getMethod("build");
            if (required.isEmpty()) {
                assertNotNull(build.invoke(empty), requestType + " builds with no field set");
            } else {
                InvocationTargetException e = assertThrows(InvocationTargetException.class, () -> build.invoke(empty));
                assertTrue(e.getCause() instanceof IllegalArgumentException, requestType);
                assertEquals(camel(required.get(0)) + " is required", e.getCause().getMessage());
            }
        }
    }

    @Test
    void everyErrorKindHasItsExceptionClass() {
        for (JsonNode kind : DatabaseConsultantClient.registry().get("error_kinds")) {
            DatabaseConsultantException e = DatabaseConsultantException.of(kind.asText(), "message");
            assertEquals(kind.asText(), e.getKind());
            assertEquals(pascal(kind.asText()) + "Exception", e.getClass().getSimpleName());
        }
    }
}

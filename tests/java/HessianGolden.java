// Java's Hessian (Debian's libhessian-java, Caucho Hessian 4.0.38: the code Dubbo's
// hessian-lite forked from) as a peer of rpc's Hessian2 codec.
//
//   java HessianGolden write   prints "name hex" for every golden value, each its own stream
//   java HessianGolden check   reads "name hex" lines (our encoding) from stdin, decodes each
//                              with Java's Hessian2Input, and prints "name ok" or
//                              "name FAIL what Java read"
import com.caucho.hessian.io.Hessian2Input;
import com.caucho.hessian.io.Hessian2Output;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

public class HessianGolden {
    public static class User implements Serializable {
        String name;
        int age;
        List<String> tags;
        Long id;

        User() {}

        User(String name, int age, List<String> tags, Long id) {
            this.name = name;
            this.age = age;
            this.tags = tags;
            this.id = id;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof User)) return false;
            User u = (User) o;
            return Objects.equals(name, u.name) && age == u.age && Objects.equals(tags, u.tags) && Objects.equals(id, u.id);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, age, tags, id);
        }

        @Override
        public String toString() {
            return "User(" + name + "," + age + "," + tags + "," + id + ")";
        }
    }

    public enum Color { RED, GREEN }

    static String chunked() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 0x8000 - 1; i++) text.append('a');
        text.append("\uD83D\uDE00 and on");
        return text.toString();
    }

    static byte[] bytes(int n) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) out[i] = (byte) (i * 7);
        return out;
    }

    /** The golden values, by name, in a fixed order. */
    static Map<String, Object> golden() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("int_small", 47);
        values.put("int_negative", -2048);
        values.put("int_medium", 262144);
        values.put("int_min", Integer.MIN_VALUE);
        values.put("long_small", 15L);
        values.put("long_32", 1L << 31);
        values.put("long_min", Long.MIN_VALUE);
        values.put("double_mills", 12.25);
        values.put("double_tenth", 0.1);
        values.put("double_pi", Math.PI);
        values.put("double_whole", -300.0);
        values.put("bool", true);
        values.put("null", null);
        values.put("string", "héllo 世界");
        values.put("string_emoji", "\uD83D\uDE00 smile");
        values.put("string_chunked", chunked());
        values.put("binary", new byte[] {1, 2, 3});
        values.put("binary_chunked", bytes(70000));
        values.put("list", new ArrayList<>(Arrays.asList("a", "b")));
        values.put("string_array", new String[] {"x", "y"});
        values.put("int_array", new int[] {1, 2, 300});
        Map<String, Integer> map = new HashMap<>();
        map.put("a", 1);
        values.put("map", map);
        values.put("user", new User("bob", 3, new ArrayList<>(Arrays.asList("x")), 7L));
        User shared = new User("ann", 30, new ArrayList<>(), null);
        values.put("users_shared", new ArrayList<>(Arrays.asList(shared, shared)));
        values.put("enum", Color.GREEN);
        values.put("date", new Date(60000));
        values.put("exception", new RuntimeException("boom"));
        return values;
    }

    static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (byte b : bytes) out.append(String.format("%02x", b & 0xff));
        return out.toString();
    }

    static byte[] unhex(String hex) {
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        return out;
    }

    static boolean same(Object expected, Object actual) {
        if (expected instanceof Throwable && actual instanceof Throwable) {
            return Objects.equals(((Throwable) expected).getMessage(), ((Throwable) actual).getMessage());
        }
        if (expected instanceof Object[] && actual instanceof Object[]) {
            return Arrays.equals((Object[]) expected, (Object[]) actual);
        }
        if (expected instanceof int[] && actual instanceof int[]) return Arrays.equals((int[]) expected, (int[]) actual);
        if (expected instanceof byte[] && actual instanceof byte[]) return Arrays.equals((byte[]) expected, (byte[]) actual);
        return Objects.equals(expected, actual);
    }

    static String show(Object value) {
        if (value instanceof Object[]) return Arrays.toString((Object[]) value);
        if (value instanceof int[]) return Arrays.toString((int[]) value);
        if (value instanceof byte[]) return "byte[" + ((byte[]) value).length + "]";
        return value + (value == null ? "" : " (" + value.getClass().getName() + ")");
    }

    public static void main(String[] args) throws Exception {
        Map<String, Object> golden = golden();
        if (args[0].equals("write")) {
            for (Map.Entry<String, Object> entry : golden.entrySet()) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                Hessian2Output out = new Hessian2Output(bytes);
                out.writeObject(entry.getValue());
                out.close();
                System.out.println(entry.getKey() + " " + hex(bytes.toByteArray()));
            }
            return;
        }
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        String line;
        while ((line = lines.readLine()) != null) {
            String[] parts = line.split(" ", 2);
            String name = parts[0];
            Object expected = golden.get(name);
            // The declared type a Java reader would have (a method parameter, a field).
            Class<?> type = expected == null ? null : expected.getClass();
            try {
                Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(unhex(parts.length > 1 ? parts[1] : "")));
                Object actual = type == null || expected instanceof Throwable || expected instanceof List ? in.readObject() : in.readObject(type);
                System.out.println(name + (same(expected, actual) ? " ok" : " FAIL " + show(actual)));
            } catch (Exception e) {
                System.out.println(name + " FAIL " + e);
            }
        }
    }
}

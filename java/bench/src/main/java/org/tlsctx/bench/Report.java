package org.tlsctx.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns JMH's CSV results (and the lines of {@link RotationMemory}, {@link NettyHandshakes} and
 * {@link IdleMemory}) into Markdown tables of engine figures and tlsctx's ratios to the JDK and
 * netty-tcnative, with the targets of the performance issue marked met or missed. Prints them
 * and writes them to a file.
 *
 * <p>Usage: {@code Report <jmh.csv> <rotation.txt or -> <output.md> <jmh settings>
 * [<netty.txt or -> [<idle.txt or ->]]}; a file that is missing or {@code -} leaves its section
 * out.
 */
public final class Report {
    private static final String[] ENGINES = {"TLSCTX", "JDK", "TCNATIVE"};

    private Report() {}

    public static void main(String[] args) throws IOException {
        Map<String, Double> scores = readJmhCsv(Path.of(args[0]));
        List<String> rotationLines = readLines(args, 1);
        String settings = args[3];
        List<String> nettyLines = readLines(args, 4);
        List<String> idleLines = readLines(args, 5);

        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("Produced by `make bench` on ").append(LocalDate.now()).append(": ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores (`nproc`), ")
                .append(cpuModel()).append(", Java ").append(System.getProperty("java.version"))
                .append(".\nJMH 1.37, ").append(settings).append(".\n\n");
        md.append("Engines: **tlsctx** `TlsEngine` (rustls, aws-lc-rs), **JDK** 17 `SSLEngine`, "
                + "**tcnative** netty-tcnative-boringssl-static 2.0.84.Final through Netty "
                + "4.2.18.Final (`SslProvider.OPENSSL`). The JMH tables run in memory, on one "
                + "thread, without sockets. Where the time goes, and what bounds the "
                + "targets missed here: [performance.md](performance.md).\n\n");

        md.append("## Handshakes per second (server engine varies, JDK client as the peer)\n\n");
        md.append("Full handshakes (no resumption), AES-128-GCM suites offered by the client, "
                + "key exchange group as the engines negotiate it. **Server side**: handshakes "
                + "per second of time spent inside the server engine (its creation, every wrap, "
                + "unwrap and delegated task, its close). Targets: tlsctx >= 5x JDK and >= 1.0x "
                + "tcnative.\n\n");
        md.append("| protocol | key | tlsctx | JDK | tcnative | tlsctx/JDK | tlsctx/tcnative |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
            for (String key : new String[] {"ecdsa-p256", "rsa-2048"}) {
                String row = "server|" + protocol + "|" + key;
                appendRow(md, protocol + " | " + key, scores, row, 5.0, 1.0);
            }
        }
        md.append("\nThe same runs as whole pairs (JMH's primary score: JDK client and server "
                + "engine together, on one thread), which bounds what a faster server can "
                + "show end to end:\n\n");
        md.append("| protocol | key | tlsctx | JDK | tcnative | tlsctx/JDK | tlsctx/tcnative |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
            for (String key : new String[] {"ecdsa-p256", "rsa-2048"}) {
                String row = "handshake|" + protocol + "|" + key;
                appendRow(md, protocol + " | " + key, scores, row, 0.0, 0.0);
            }
        }

        md.append("\n## Bulk: records per second (wrap on the client + unwrap on the server, "
                + "same engine both sides)\n\n");
        md.append("TLS 1.3, TLS_AES_128_GCM_SHA256, one record of the given plaintext size per "
                + "operation. Targets: 16 KiB >= 1.5x JDK and >= 1.0x tcnative; 1 KiB >= 2x "
                + "JDK.\n\n");
        md.append("| record | buffers | tlsctx | JDK | tcnative | tlsctx/JDK | "
                + "tlsctx/tcnative | tlsctx MiB/s |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (String size : new String[] {"1024", "16384"}) {
            for (String buffer : new String[] {"direct", "heap"}) {
                String row = "record|" + size + "|" + buffer;
                boolean large = size.equals("16384");
                appendRow(md, (large ? "16 KiB" : "1 KiB") + " | " + buffer, scores, row,
                        large ? 1.5 : 2.0, large ? 1.0 : 0.0);
                // Drop the row's newline to add the throughput column.
                Double tlsctx = scores.get(row + "|TLSCTX");
                md.setLength(md.length() - 1);
                md.append(tlsctx == null ? " - |" : String.format(Locale.ROOT, " %.0f |",
                        tlsctx * Integer.parseInt(size) / (1024.0 * 1024.0)));
                md.append('\n');
            }
        }

        appendNetty(md, nettyLines, scores);
        appendIdleMemory(md, idleLines);

        if (!rotationLines.isEmpty()) {
            md.append("\n## Native memory per rotation\n\n");
            md.append("Resident memory (VmRSS) growth per 1,000 rotations in one JVM with a "
                    + "fixed, pre-touched heap, read after full GCs, the first reading after "
                    + "1,000 rotations of warm-up. netty-openssl: a new "
                    + "`SslProvider.OPENSSL` context per rotation, the old one dropped without "
                    + "`release()` (the broker's reload); netty-openssl-refcnt: the same with "
                    + "`OPENSSL_REFCNT`; tlsctx: `ReloadingTlsContext.reload()` swapping a new "
                    + "generation. Each rotation also opens and closes one server engine.\n\n");
            md.append("| context | rotations | VmRSS before (MiB) | after (MiB) "
                    + "| MiB per 1,000 rotations |\n");
            md.append("| --- | ---: | ---: | ---: | ---: |\n");
            for (String line : rotationLines) {
                String[] f = line.trim().split(" ");
                if (f.length != 6 || !f[0].equals("rotation")) {
                    continue;
                }
                md.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %s |%n", f[1],
                        f[2], Long.parseLong(f[3]) / 1024.0, Long.parseLong(f[4]) / 1024.0,
                        f[5]));
            }
        }

        System.out.print(md);
        Files.writeString(Path.of(args[2]), md.toString());
    }

    /**
     * The section of {@link NettyHandshakes} lines: wall-clock and per-server-CPU handshake
     * rates, each with tlsctx's ratios and the handshake targets.
     */
    private static void appendNetty(StringBuilder md, List<String> lines,
            Map<String, Double> scores) {
        String client = null;
        String setup = null;
        long failures = 0;
        for (String line : lines) {
            String[] f = line.trim().split(" ");
            if (f.length != 11 || !f[0].equals("netty")) {
                continue;
            }
            String row = f[2] + "|" + f[3] + "|" + f[1];
            scores.put("netty|" + row, Double.parseDouble(f[8]));
            scores.put("netty-cpu|" + row, Double.parseDouble(f[9]));
            failures += Long.parseLong(f[10]);
            client = f[4];
            setup = f[5] + " connections in flight, median of " + f[7] + " windows of " + f[6]
                    + " s after a warm-up";
        }
        if (client == null) {
            return;
        }
        md.append("\n## Handshakes per second through Netty on loopback\n\n");
        md.append("A Netty 4.2 server (NIO, one event loop thread that accepts and serves every "
                + "connection) on 127.0.0.1 whose `SslHandler` engine varies: tlsctx through "
                + "`TlsNettyContext`, the JDK's through `SslProvider.JDK`, tcnative through "
                + "`SslProvider.OPENSSL`. The same client for all three: a Netty client with "
                + "the ").append(client.equals("jdk") ? "JDK" : "netty-tcnative")
                .append(" engine on one more event loop thread, not verifying the server "
                + "(verification is client work), keeping ").append(setup)
                .append(". Each connection connects, waits for its handshake, and closes; "
                + "clients never resume, so every handshake is a full one. Same identities, "
                + "versions and suites as the in-memory tables. Targets: tlsctx >= 5x JDK and "
                + ">= 1.0x tcnative.\n\n");
        md.append("Handshakes completed by the server per second of wall-clock time. On a "
                + "machine with few cores the client shares the CPU, so a fast server shows "
                + "less than its own speed here:\n\n");
        appendHandshakeTable(md, scores, "netty|");
        md.append("\nHandshakes per second of CPU time of the server's event loop thread (TCP "
                + "accept and close, Netty's pipeline and the engine), over all windows; this "
                + "does not depend on the client:\n\n");
        appendHandshakeTable(md, scores, "netty-cpu|");
        if (failures > 0) {
            md.append("\n").append(failures).append(" handshakes failed during these runs.\n");
        }
    }

    private static void appendHandshakeTable(StringBuilder md, Map<String, Double> scores,
            String prefix) {
        md.append("| protocol | key | tlsctx | JDK | tcnative | tlsctx/JDK | tlsctx/tcnative |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
            for (String key : new String[] {"ecdsa-p256", "rsa-2048"}) {
                String row = prefix + protocol + "|" + key;
                if (scores.containsKey(row + "|TLSCTX") || scores.containsKey(row + "|JDK")
                        || scores.containsKey(row + "|TCNATIVE")) {
                    appendRow(md, protocol + " | " + key, scores, row, 5.0, 1.0);
                }
            }
        }
    }

    /**
     * The section of {@link IdleMemory} lines: native and heap bytes per idle connection of
     * each engine, and whether tlsctx holds less native memory than tcnative.
     */
    private static void appendIdleMemory(StringBuilder md, List<String> lines) {
        // protocol|key|buffers -> engine -> {heap, native, direct}
        Map<String, Map<String, long[]>> rows = new LinkedHashMap<>();
        String connections = null;
        for (String line : lines) {
            String[] f = line.trim().split(" ");
            if (f.length != 11 || !f[0].equals("idle")) {
                continue;
            }
            connections = f[5];
            rows.computeIfAbsent(f[2] + "|" + f[3] + "|" + f[4], k -> new HashMap<>())
                    .put(f[1], new long[] {Long.parseLong(f[6]), Long.parseLong(f[7]),
                        Long.parseLong(f[8])});
        }
        if (rows.isEmpty()) {
            return;
        }
        md.append("\n## Memory per idle connection\n\n");
        md.append("Each engine in its own JVM (`-Xms512m -Xmx512m -XX:+AlwaysPreTouch "
                + "-XX:TieredStopAtLevel=1`): ")
                .append(String.format(Locale.ROOT, "%,d", Long.parseLong(connections)))
                .append(" server engines handshake in memory with a JDK client each, then stay "
                + "referenced and idle; each client is dropped after its handshake and holds "
                + "no native memory, so only servers are counted. Readings after full GCs, "
                + "after a quarter of the connections and after all of them; their difference "
                + "is divided by the connections opened in between. **Native**: growth "
                + "of resident memory (VmRSS); the heap is pre-touched, so this is memory "
                + "outside it: the engine's native state (BoringSSL, rustls) and direct "
                + "buffers. **Direct buffers**: the part of native held in direct "
                + "`ByteBuffer`s. **Heap**: growth of used Java heap. *buffers* is the kind of "
                + "buffer the handshake passed to `wrap`/`unwrap`: Netty's `SslHandler` hands "
                + "a tlsctx or JDK engine buffers from the channel's allocator, direct by "
                + "default, so *direct* is the Netty case. Server-side session "
                + "caches, where an engine keeps one, are included. The JDK's native figure, "
                + "zero but for noise (JIT, allocator arenas), shows the noise. ECDSA P-256 "
                + "identity. Target: tlsctx native < tcnative native. KiB per connection:\n\n");
        md.append("| protocol | key | buffers | tlsctx native (direct buffers) | JDK native "
                + "| tcnative native | tlsctx heap | JDK heap | tcnative heap "
                + "| tlsctx native < tcnative |\n");
        md.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Map.Entry<String, Map<String, long[]>> entry : rows.entrySet()) {
            Map<String, long[]> byEngine = entry.getValue();
            long[] tlsctx = byEngine.get("TLSCTX");
            long[] jdk = byEngine.get("JDK");
            long[] tcnative = byEngine.get("TCNATIVE");
            md.append("| ").append(entry.getKey().replace("|", " | ")).append(" |");
            md.append(tlsctx == null ? " - |" : String.format(Locale.ROOT, " %s (%s) |",
                    kib(tlsctx[1]), kib(tlsctx[2])));
            md.append(jdk == null ? " - |" : " " + kib(jdk[1]) + " |");
            md.append(tcnative == null ? " - |" : " " + kib(tcnative[1]) + " |");
            for (long[] figures : new long[][] {tlsctx, jdk, tcnative}) {
                md.append(figures == null ? " - |" : " " + kib(figures[0]) + " |");
            }
            if (tlsctx == null || tcnative == null) {
                md.append(" - |\n");
            } else {
                md.append(tlsctx[1] < tcnative[1] ? " met" : " **missed**")
                        .append(String.format(Locale.ROOT, " (%.2fx) |%n",
                                tlsctx[1] / (double) Math.max(tcnative[1], 1)));
            }
        }
    }

    private static String kib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1024.0);
    }

    private static List<String> readLines(String[] args, int index) throws IOException {
        if (args.length <= index || args[index].equals("-")
                || !Files.exists(Path.of(args[index]))) {
            return List.of();
        }
        return Files.readAllLines(Path.of(args[index]));
    }

    /**
     * Appends one table row: ops/s of each engine and tlsctx's two ratios, each ratio marked
     * "(miss)" when under its target (a target of 0 means none).
     */
    private static void appendRow(StringBuilder md, String label, Map<String, Double> scores,
            String row, double jdkTarget, double tcnativeTarget) {
        md.append("| ").append(label).append(" |");
        for (String engine : ENGINES) {
            Double score = scores.get(row + "|" + engine);
            md.append(score == null ? " - |" : String.format(Locale.ROOT, " %,.0f |", score));
        }
        Double tlsctx = scores.get(row + "|TLSCTX");
        md.append(ratio(tlsctx, scores.get(row + "|JDK"), jdkTarget));
        md.append(ratio(tlsctx, scores.get(row + "|TCNATIVE"), tcnativeTarget));
        md.append('\n');
    }

    private static String ratio(Double tlsctx, Double other, double target) {
        if (tlsctx == null || other == null) {
            return " - |";
        }
        double ratio = tlsctx / other;
        String mark = target > 0 && ratio < target
                ? String.format(Locale.ROOT, " (miss: target %.1fx)", target)
                : "";
        return String.format(Locale.ROOT, " %.2fx%s |", ratio, mark);
    }

    /**
     * Reads JMH's {@code -rf csv} output into scores keyed by
     * {@code method|param|param|engine}, the parameters in the order the tables use.
     */
    private static Map<String, Double> readJmhCsv(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        List<String> header = split(lines.get(0));
        Map<String, Double> scores = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            List<String> cells = split(line);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < header.size() && i < cells.size(); i++) {
                row.put(header.get(i), cells.get(i));
            }
            String benchmark = row.get("Benchmark");
            String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
            String key;
            if (method.startsWith("handshake")) {
                key = method + "|" + row.get("Param: protocol") + "|" + row.get("Param: key");
            } else if (method.equals("record")) {
                key = "record|" + row.get("Param: size") + "|" + row.get("Param: buffer");
            } else {
                continue;
            }
            scores.put(key + "|" + row.get("Param: engine"),
                    Double.parseDouble(row.get("Score")));
        }

        // Server-side rate: handshakes over the seconds spent in the server engine.
        Map<String, Double> serverSide = new HashMap<>();
        for (Map.Entry<String, Double> entry : scores.entrySet()) {
            if (entry.getKey().startsWith("handshake:handshakes|")) {
                String rest = entry.getKey().substring("handshake:handshakes|".length());
                Double nanos = scores.get("handshake:serverNanos|" + rest);
                if (nanos != null && nanos > 0) {
                    serverSide.put("server|" + rest, entry.getValue() / (nanos / 1e9));
                }
            }
        }
        scores.putAll(serverSide);
        return scores;
    }

    private static List<String> split(String csvLine) {
        List<String> cells = new ArrayList<>();
        for (String cell : csvLine.split(",", -1)) {
            cells.add(cell.replace("\"", ""));
        }
        return cells;
    }

    private static String cpuModel() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "unknown CPU";
    }
}

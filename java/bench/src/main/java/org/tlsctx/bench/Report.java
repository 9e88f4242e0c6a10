package org.tlsctx.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns JMH's CSV results (and the rotation lines of {@link RotationMemory}) into one Markdown
 * table of engine figures and tlsctx's ratios to the JDK and netty-tcnative, with the targets of
 * the performance issue marked met or missed. Prints it and writes it to a file.
 *
 * <p>Usage: {@code Report <jmh.csv> <rotation.txt or -> <output.md> <jmh settings>}.
 */
public final class Report {
    private static final String[] ENGINES = {"TLSCTX", "JDK", "TCNATIVE"};

    private Report() {}

    public static void main(String[] args) throws IOException {
        Map<String, Double> scores = readJmhCsv(Path.of(args[0]));
        List<String> rotationLines = args[1].equals("-") || !Files.exists(Path.of(args[1]))
                ? List.of()
                : Files.readAllLines(Path.of(args[1]));
        String settings = args[3];

        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks\n\n");
        md.append("Produced by `make bench` on ").append(LocalDate.now()).append(": ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores (`nproc`), ")
                .append(cpuModel()).append(", Java ").append(System.getProperty("java.version"))
                .append(".\nJMH 1.37, ").append(settings).append(".\n\n");
        md.append("Engines: **tlsctx** `TlsEngine` (rustls, aws-lc-rs), **JDK** 17 `SSLEngine`, "
                + "**tcnative** netty-tcnative-boringssl-static 2.0.84.Final through Netty "
                + "4.2.18.Final (`SslProvider.OPENSSL`). All in memory, one thread, no sockets.\n\n");

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

        if (!rotationLines.isEmpty()) {
            md.append("\n## Native memory per rotation\n\n");
            md.append("Resident memory (VmRSS) growth per 1,000 rotations in one JVM with a "
                    + "fixed, pre-touched heap, read after full GCs. netty-openssl: a new "
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

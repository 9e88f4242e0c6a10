package org.tlsctx.bench;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * Memory held per idle connection by one server engine implementation, in its own JVM: it
 * opens {@code connections} server engines, runs each one's handshake in memory against a JDK
 * client, keeps the server engines referenced and idle, and reads how much Java heap and native
 * memory they added.
 *
 * <p>Only the server engines are counted. Every client is a JDK engine, which holds nothing
 * outside the Java heap, and is dropped once its handshake is over; the full GCs before each
 * reading collect it. Its session cache keeps one session (see {@link Engines}).
 *
 * <p>Run it with a fixed, pre-touched heap ({@code -Xms512m -Xmx512m -XX:+AlwaysPreTouch}):
 * the heap is then resident from the start, and the growth of resident memory (VmRSS) is native
 * memory: what the engine's native library allocates (BoringSSL's or rustls' state, with the
 * allocator's own overhead), and the direct {@code ByteBuffer}s the engine keeps, also shown on
 * their own. The heap figure is the growth of used heap after full GCs. A warm-up of
 * handshakes whose engines are closed and freed comes first, so that compiled code, native
 * library state and allocator pools that every connection shares are in place; running with C1
 * only ({@code -XX:TieredStopAtLevel=1}) ends compilation within it. The figures are the growth
 * between two readings, after a quarter of the connections and after all of them, divided by
 * the connections opened in between. The JDK engine's native figure, which would be zero
 * without noise, shows what is left of it.
 *
 * <p>Usage: {@code IdleMemory <TLSCTX|JDK|TCNATIVE> <TLSv1.3|TLSv1.2> <ecdsa-p256|rsa-2048>
 * <heap|direct> <connections>}, with {@code -Dtlsctx.bench.cases} naming the case directory.
 * {@code heap} or {@code direct} is the kind of the buffers the handshake passes to
 * {@code wrap} and {@code unwrap}. Prints one line: {@code idle <engine> <protocol> <key>
 * <buffers> <connections> <heap-bytes-each> <native-bytes-each> <direct-buffer-bytes-each>
 * <rss-before-kib> <rss-after-kib>}.
 */
public final class IdleMemory {
    private static final int WARM_UP_HANDSHAKES = 300;

    private IdleMemory() {}

    public static void main(String[] args) throws Exception {
        Engines.Implementation implementation = Engines.Implementation.valueOf(args[0]);
        String protocol = args[1];
        String key = args[2];
        boolean direct = args[3].equals("direct");
        int connections = Integer.parseInt(args[4]);

        try (Engines engines = new Engines(implementation, Engines.Material.forKey(key),
                protocol, HandshakeBenchmark.suiteFor(protocol, key))) {
            EnginePair.Buffers buffers = new EnginePair.Buffers(direct);
            for (int i = 0; i < WARM_UP_HANDSHAKES; i++) {
                EnginePair pair = new EnginePair(engines.jdkClient(), engines.server(), buffers);
                pair.handshake();
                pair.close();
                Engines.release(pair.server);
            }

            // The first handshakes after a full GC cost a fixed amount that is not per
            // connection (the first reading starts the management beans, caches the GC emptied
            // fill again): the figures are the growth from a quarter of the connections to all.
            List<SSLEngine> idle = new ArrayList<>(connections);
            int first = Math.max(1, connections / 4);
            for (int i = 0; i < first; i++) {
                idle.add(handshake(engines, buffers, protocol));
            }
            Reading before = Reading.take();
            for (int i = first; i < connections; i++) {
                idle.add(handshake(engines, buffers, protocol));
            }
            Reading after = Reading.take();

            int counted = connections - first;
            System.out.printf(Locale.ROOT, "idle %s %s %s %s %d %d %d %d %d %d%n",
                    implementation, protocol, key, direct ? "direct" : "heap", connections,
                    (after.heapBytes - before.heapBytes) / counted,
                    (after.residentKib - before.residentKib) * 1024 / counted,
                    (after.directBytes - before.directBytes) / counted,
                    before.residentKib, after.residentKib);

            // The engines must stay reachable through the second reading.
            Reference.reachabilityFence(idle);
            for (SSLEngine server : idle) {
                Engines.release(server);
            }
        }
    }

    /** One server engine that has finished its handshake, its client already let go. */
    private static SSLEngine handshake(Engines engines, EnginePair.Buffers buffers,
            String protocol) throws SSLException {
        EnginePair pair = new EnginePair(engines.jdkClient(), engines.server(), buffers);
        pair.handshake();
        String negotiated = pair.server.getSession().getProtocol();
        if (!negotiated.equals(protocol)) {
            throw new SSLException("negotiated " + negotiated + ", not " + protocol);
        }
        return pair.server;
    }

    /** Used heap, resident memory and direct buffer memory, after full GCs. */
    private static final class Reading {
        final long heapBytes;
        final long residentKib;
        final long directBytes;

        private Reading(long heapBytes, long residentKib, long directBytes) {
            this.heapBytes = heapBytes;
            this.residentKib = residentKib;
            this.directBytes = directBytes;
        }

        static Reading take() throws IOException, InterruptedException {
            // Several rounds, so that cleaners and finalizers released by one GC have run and
            // their objects are gone by the last.
            for (int i = 0; i < 4; i++) {
                System.gc();
                Thread.sleep(250);
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            long direct = 0;
            for (BufferPoolMXBean pool
                    : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    direct = pool.getMemoryUsed();
                }
            }
            return new Reading(heap, residentKib(), direct);
        }

        private static long residentKib() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            throw new IOException("no VmRSS in /proc/self/status");
        }
    }
}

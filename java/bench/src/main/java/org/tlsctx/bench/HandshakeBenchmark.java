package org.tlsctx.bench;

import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Full handshakes per second, in memory, with a JDK client as the peer of every server engine,
 * so that only the server differs between rows. Each operation creates both engines, runs the
 * handshake to quiescence (TLS 1.3 session tickets included), and closes both.
 *
 * <p>The primary score is for the pair, client work included; the client is the same JDK
 * engine in every row, so a faster server shows as a smaller, not a proportional, gain. The
 * {@link ServerTime} counters isolate the server: handshakes divided by the time spent inside
 * the server engine's calls (creation, every wrap and unwrap, close) give server-side
 * handshakes per second of CPU.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HandshakeBenchmark {
    @Param({"TLSCTX", "JDK", "TCNATIVE"})
    public String engine;

    @Param({"TLSv1.3", "TLSv1.2"})
    public String protocol;

    @Param({"ecdsa-p256", "rsa-2048"})
    public String key;

    private Engines engines;
    private EnginePair.Buffers buffers;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        engines = new Engines(Engines.Implementation.valueOf(engine),
                Engines.Material.forKey(key), protocol, suiteFor(protocol, key));
        buffers = new EnginePair.Buffers(false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engines.close();
    }

    @Benchmark
    public SSLEngine handshake(ServerTime time) throws Exception {
        SSLEngine client = engines.jdkClient();
        long start = System.nanoTime();
        SSLEngine server = engines.server();
        long creation = System.nanoTime() - start;
        EnginePair pair = new EnginePair(client, server, buffers);
        try {
            pair.handshake();
        } finally {
            pair.close();
            start = System.nanoTime();
            Engines.release(server);
            time.serverNanos += creation + pair.serverNanos + System.nanoTime() - start;
        }
        time.handshakes++;
        return server;
    }

    /**
     * Summed over the measurement iterations, JMH reports both as secondary results of the
     * benchmark; their quotient is the server-side rate.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class ServerTime {
        public long serverNanos;
        public long handshakes;

        @Setup(Level.Iteration)
        public void reset() {
            serverNanos = 0;
            handshakes = 0;
        }
    }

    /** The AES-128-GCM suite of the version and key type, which every engine supports. */
    static String suiteFor(String protocol, String key) {
        if (protocol.equals("TLSv1.3")) {
            return "TLS_AES_128_GCM_SHA256";
        }
        return key.startsWith("ecdsa")
                ? "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
                : "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    }
}

package org.tlsctx.bench;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
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
 * Records per second through a connected pair of engines of one implementation: the client
 * wraps one record of {@code size} plaintext bytes and the server unwraps it. TLS 1.3 with
 * TLS_AES_128_GCM_SHA256 and an ECDSA P-256 identity; the handshake happens once, in setup.
 *
 * <p>Both engines are the implementation under test, so an operation is one wrap and one unwrap
 * of that implementation. Multiply by {@code size} for plaintext bytes per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BulkBenchmark {
    @Param({"TLSCTX", "JDK", "TCNATIVE"})
    public String engine;

    @Param({"1024", "16384"})
    public int size;

    @Param({"direct", "heap"})
    public String buffer;

    private Engines engines;
    private EnginePair pair;
    private ByteBuffer plaintext;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        engines = new Engines(Engines.Implementation.valueOf(engine),
                Engines.Material.forKey("ecdsa-p256"), "TLSv1.3", "TLS_AES_128_GCM_SHA256");
        boolean direct = buffer.equals("direct");
        pair = new EnginePair(engines.sameKindClient(), engines.server(),
                new EnginePair.Buffers(direct));
        pair.handshake();
        plaintext = EnginePair.Buffers.allocate(size, direct);
        for (int i = 0; i < size; i++) {
            plaintext.put((byte) i);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pair.close();
        Engines.release(pair.client);
        Engines.release(pair.server);
        engines.close();
    }

    @Benchmark
    public int record() throws Exception {
        plaintext.clear();
        return pair.clientToServerRecord(plaintext);
    }
}

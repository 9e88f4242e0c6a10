package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The buffer contract JSSE callers rely on: one record per unwrap, overflow loses nothing. */
class EngineBufferTest {
    private static final Path B05 = TestMaterial.caseDir("B05");

    private ReloadingTlsContext serverTls;
    private SSLEngine jdkClient;
    private SSLEngine server;

    @BeforeEach
    void handshake() throws Exception {
        serverTls = NettyInteropTest.serverContext();
        jdkClient = TestMaterial.jdkClientContext(B05.resolve("ca.crt"))
                .createSSLEngine("localhost", 1);
        jdkClient.setUseClientMode(true);
        server = TlsSslContext.forServer(serverTls).createSSLEngine();
        new MemoryPipe(jdkClient, server, false).handshake();
    }

    @AfterEach
    void close() {
        serverTls.close();
    }

    @Test
    void bytesLeftAfterTheConnectionWasFreedAreWrittenIntoSmallDestinations() throws Exception {
        SSLEngine client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"))
                .createSSLEngine("localhost", 1);
        client.setUseClientMode(true);
        SSLEngine fresh = TlsSslContext.forServer(serverTls).createSSLEngine();
        fresh.setUseClientMode(false);
        ByteBuffer hello = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(ByteBuffer.allocate(0), hello);
        hello.flip();
        fresh.unwrap(hello, ByteBuffer.allocate(fresh.getSession().getApplicationBufferSize()));
        // Both directions closed with the server's first flight unsent: the engine frees its
        // connection and keeps the flight to be written.
        assertThrows(SSLException.class, fresh::closeInbound);
        fresh.closeOutbound();
        assertEquals(SSLEngineResult.HandshakeStatus.NEED_WRAP, fresh.getHandshakeStatus());

        ByteBuffer written = ByteBuffer.allocate(1 << 16);
        ByteBuffer small = ByteBuffer.allocate(100);
        SSLEngineResult result;
        int calls = 0;
        do {
            small.clear();
            result = fresh.wrap(ByteBuffer.allocate(0), small);
            assertTrue(result.bytesProduced() > 0 && result.bytesProduced() <= 100,
                    result.toString());
            small.flip();
            written.put(small);
            calls++;
            if (result.getStatus() == Status.OK) {
                assertEquals(SSLEngineResult.HandshakeStatus.NEED_WRAP,
                        result.getHandshakeStatus());
            }
        } while (result.getStatus() == Status.OK);
        assertEquals(Status.CLOSED, result.getStatus());
        assertEquals(SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING, result.getHandshakeStatus());
        assertTrue(fresh.isOutboundDone());
        assertEquals(0, fresh.wrap(ByteBuffer.allocate(0), small).bytesProduced());

        // What came out, in pieces, is whole TLS records starting with the ServerHello.
        written.flip();
        assertEquals(22, written.get(0), "a handshake record first");
        assertEquals(2, written.get(5), "holding the ServerHello");
        int records = 0;
        int at = 0;
        while (at < written.limit()) {
            assertTrue(at + 5 <= written.limit(), "a whole record header at " + at);
            at += 5 + (((written.get(at + 3) & 0xFF) << 8) | (written.get(at + 4) & 0xFF));
            records++;
        }
        assertEquals(written.limit(), at, "no record cut off");
        assertTrue(records >= 2, "the flight is several records: " + records);
        assertEquals((written.limit() + 99) / 100, calls, "each call filled its 100 bytes");
    }

    @Test
    void unwrapReadsOneRecordPerCall() throws Exception {
        ByteBuffer net = ByteBuffer.allocateDirect(40_000);
        SSLEngineResult first = jdkClient.wrap(ByteBuffer.wrap(new byte[] {1, 2, 3}), net);
        SSLEngineResult second = jdkClient.wrap(ByteBuffer.wrap(new byte[] {4, 5}), net);
        net.flip();

        ByteBuffer plain = ByteBuffer.allocateDirect(32_768);
        SSLEngineResult result = server.unwrap(net, plain);
        assertEquals(Status.OK, result.getStatus());
        assertEquals(first.bytesProduced(), result.bytesConsumed());
        assertEquals(3, result.bytesProduced());
        result = server.unwrap(net, plain);
        assertEquals(second.bytesProduced(), result.bytesConsumed());
        assertEquals(2, result.bytesProduced());
        assertEquals(0, net.remaining());
        plain.flip();
        byte[] received = new byte[plain.remaining()];
        plain.get(received);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, received);
    }

    @Test
    void partialRecordIsAnUnderflowThatConsumesNothing() throws Exception {
        ByteBuffer net = ByteBuffer.allocate(40_000);
        jdkClient.wrap(ByteBuffer.wrap(new byte[100]), net);
        net.flip();
        int whole = net.remaining();
        net.limit(whole - 1);

        SSLEngineResult result = server.unwrap(net, ByteBuffer.allocate(32_768));
        assertEquals(Status.BUFFER_UNDERFLOW, result.getStatus());
        assertEquals(0, result.bytesConsumed());
        assertEquals(0, net.position());

        net.limit(whole);
        result = server.unwrap(net, ByteBuffer.allocate(32_768));
        assertEquals(Status.OK, result.getStatus());
        assertEquals(100, result.bytesProduced());
    }

    @Test
    void tooSmallDestinationOverflowsWithoutLosingTheRecord() throws Exception {
        byte[] data = new byte[1000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        ByteBuffer net = ByteBuffer.allocate(40_000);
        jdkClient.wrap(ByteBuffer.wrap(data), net);
        net.flip();

        SSLEngineResult result = server.unwrap(net, ByteBuffer.allocate(10));
        assertEquals(Status.BUFFER_OVERFLOW, result.getStatus());
        assertEquals(0, result.bytesConsumed());
        assertEquals(0, result.bytesProduced());

        ByteBuffer plain = ByteBuffer.allocate(server.getSession().getApplicationBufferSize());
        result = server.unwrap(net, plain);
        assertEquals(Status.OK, result.getStatus());
        assertEquals(1000, result.bytesProduced());
        assertArrayEquals(data, java.util.Arrays.copyOf(plain.array(), 1000));
    }

    @Test
    void wrapIntoTooSmallDestinationOverflows() throws Exception {
        ByteBuffer plain = ByteBuffer.wrap(new byte[1000]);
        SSLEngineResult result = server.wrap(plain, ByteBuffer.allocate(50));
        assertEquals(Status.BUFFER_OVERFLOW, result.getStatus());
        assertEquals(0, result.bytesConsumed());
        assertEquals(0, result.bytesProduced());
        assertEquals(1000, plain.remaining());

        ByteBuffer net = ByteBuffer.allocate(server.getSession().getPacketBufferSize());
        result = server.wrap(plain, net);
        assertEquals(Status.OK, result.getStatus());
        assertEquals(1000, result.bytesConsumed());
    }

    @Test
    void wrapTakesAtMostOneRecordOfPlaintext() throws Exception {
        ByteBuffer plain = ByteBuffer.allocateDirect(40_000);
        ByteBuffer net = ByteBuffer.allocateDirect(100_000);
        SSLEngineResult result = server.wrap(plain, net);
        assertEquals(Status.OK, result.getStatus());
        assertEquals(16_384, result.bytesConsumed());
        assertEquals(result.bytesProduced(), net.position());
    }

    /** How a test lays out a buffer: each kind reaches the native side by a different route. */
    enum Kind {
        DIRECT,
        HEAP,
        /** A heap slice whose array offset is not 0. */
        HEAP_SLICE,
        /** Read-only heap: no array to pin, so the engine copies. */
        READ_ONLY_HEAP,
        /** Read-only direct: read by address, and never decrypted in. */
        READ_ONLY_DIRECT;

        boolean readOnly() {
            return this == READ_ONLY_HEAP || this == READ_ONLY_DIRECT;
        }

        /** A buffer of {@code capacity} bytes holding {@code bytes} after a 7-byte lead. */
        ByteBuffer holding(byte[] bytes, int capacity) {
            ByteBuffer buffer = empty(capacity);
            buffer.position(7);
            buffer.put(bytes).flip().position(7);
            return readOnly() ? buffer.asReadOnlyBuffer() : buffer;
        }

        /** An empty buffer of {@code capacity} bytes, positioned past a 7-byte lead. */
        ByteBuffer empty(int capacity) {
            ByteBuffer buffer;
            switch (this) {
                case DIRECT:
                case READ_ONLY_DIRECT:
                    buffer = ByteBuffer.allocateDirect(capacity + 7);
                    break;
                case HEAP_SLICE:
                    buffer = ByteBuffer.allocate(capacity + 20).position(13).slice();
                    break;
                default:
                    buffer = ByteBuffer.allocate(capacity + 7);
            }
            return buffer.position(7);
        }
    }

    /**
     * Records of 1,000 bytes are copied through scratch buffers when on the heap; records of
     * 5,000 bytes are read and written in place (heap arrays pinned).
     */
    @ParameterizedTest(name = "{0} to {1}, {2} bytes")
    @MethodSource("kindPairs")
    void recordsRoundTripThroughEveryBufferKind(Kind source, Kind destination, int size)
            throws Exception {
        byte[] sent = new byte[size];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) (i * 31);
        }

        // Server to client: the server wraps from `source` into `destination`.
        ByteBuffer plain = source.holding(sent, sent.length);
        ByteBuffer net = destination.readOnly()
                ? Kind.HEAP.empty(20_000)
                : destination.empty(20_000);
        SSLEngineResult wrapped = server.wrap(plain, net);
        assertEquals(Status.OK, wrapped.getStatus());
        assertEquals(sent.length, wrapped.bytesConsumed());
        assertEquals(7 + sent.length, plain.position());
        assertEquals(7 + wrapped.bytesProduced(), net.position());
        net.flip().position(7);
        ByteBuffer received = ByteBuffer.allocate(20_000);
        assertEquals(Status.OK, jdkClient.unwrap(net, received).getStatus());
        assertArrayEquals(sent, Arrays.copyOf(received.array(), received.position()));

        // Client to server: the server unwraps from `source` into `destination`.
        ByteBuffer record = ByteBuffer.allocate(20_000);
        jdkClient.wrap(ByteBuffer.wrap(sent), record);
        record.flip();
        byte[] recordBytes = Arrays.copyOf(record.array(), record.limit());
        ByteBuffer tls = source.holding(recordBytes, recordBytes.length);
        ByteBuffer out = destination.readOnly()
                ? Kind.HEAP.empty(20_000)
                : destination.empty(20_000);
        SSLEngineResult unwrapped = server.unwrap(tls, out);
        assertEquals(Status.OK, unwrapped.getStatus());
        assertEquals(recordBytes.length, unwrapped.bytesConsumed());
        assertEquals(sent.length, unwrapped.bytesProduced());
        assertEquals(7 + recordBytes.length, tls.position());
        assertEquals(7 + sent.length, out.position());
        out.flip().position(7);
        byte[] plaintext = new byte[out.remaining()];
        out.get(plaintext);
        assertArrayEquals(sent, plaintext);
        // A writable source handed over in place (direct, or a pinned heap record of 4 KiB or
        // more) is decrypted where it lies, as the JDK's engine does; a read-only one is copied
        // first and keeps its bytes.
        byte[] after = new byte[recordBytes.length];
        tls.position(7);
        tls.get(after);
        if (source.readOnly()) {
            assertArrayEquals(recordBytes, after);
        } else if (source == Kind.DIRECT || size >= 4096) {
            assertTrue(!Arrays.equals(recordBytes, after), "the record was decrypted in place");
        }
    }

    static Stream<Arguments> kindPairs() {
        return Stream.of(1_000, 5_000).flatMap(size -> Arrays.stream(Kind.values())
                .flatMap(source -> Arrays.stream(Kind.values())
                        .map(destination -> Arguments.of(source, destination, size))));
    }

    @Test
    void disjointSlicesOfOneArrayServeAsSourceAndDestination() throws Exception {
        byte[] shared = new byte[40_000];
        for (int i = 0; i < 6_000; i++) {
            shared[i] = (byte) i;
        }
        ByteBuffer plain = ByteBuffer.wrap(shared, 0, 6_000);
        ByteBuffer net = ByteBuffer.wrap(shared, 10_000, 20_000).slice();
        SSLEngineResult result = server.wrap(plain, net);
        assertEquals(Status.OK, result.getStatus());
        assertEquals(6_000, result.bytesConsumed());

        net.flip();
        ByteBuffer received = ByteBuffer.allocate(20_000);
        assertEquals(Status.OK, jdkClient.unwrap(net, received).getStatus());
        assertArrayEquals(Arrays.copyOf(shared, 6_000),
                Arrays.copyOf(received.array(), received.position()));
    }

    @Test
    void overlappingSourceAndDestinationInOneArrayAreCopiedFirst() throws Exception {
        byte[] shared = new byte[40_000];
        for (int i = 0; i < 6_000; i++) {
            shared[i] = (byte) (i * 7);
        }
        byte[] sent = Arrays.copyOf(shared, 6_000);
        ByteBuffer plain = ByteBuffer.wrap(shared, 0, 6_000);
        ByteBuffer net = ByteBuffer.wrap(shared, 1_000, 20_000).slice();
        SSLEngineResult result = server.wrap(plain, net);
        assertEquals(Status.OK, result.getStatus());
        assertEquals(6_000, result.bytesConsumed());

        net.flip();
        ByteBuffer received = ByteBuffer.allocate(20_000);
        assertEquals(Status.OK, jdkClient.unwrap(net, received).getStatus());
        assertArrayEquals(sent, Arrays.copyOf(received.array(), received.position()));
    }

    @Test
    void overlappingDirectViewsAreRefused() throws Exception {
        ByteBuffer memory = ByteBuffer.allocateDirect(40_000);
        ByteBuffer plain = memory.duplicate().position(0).limit(6_000);
        ByteBuffer net = memory.duplicate().position(1_000).slice();
        SSLException refused = assertThrows(SSLException.class, () -> server.wrap(plain, net));
        assertTrue(refused.getMessage().contains("overlap"), refused.getMessage());
    }
}

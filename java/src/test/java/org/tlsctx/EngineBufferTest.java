package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
}

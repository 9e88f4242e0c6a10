package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The tlsctx engine against the JDK's own SSLEngine, in memory. */
class EngineInteropTest {
    private static final Path B05 = TestMaterial.caseDir("B05");

    private ReloadingTlsContext reloading;

    @AfterEach
    void closeContext() {
        if (reloading != null) {
            reloading.close();
        }
    }

    @Test
    void serverEngineTalksTls13ToJdkClient() throws Exception {
        reloading = serverContext();
        TlsEngine server = (TlsEngine) TlsSslContext.forServer(reloading).createSSLEngine();
        server.setUseClientMode(false);
        SSLEngine client = jdkClient("TLSv1.3", "TLSv1.2");
        MemoryPipe pipe = new MemoryPipe(client, server, false);

        assertEquals(HandshakeStatus.NOT_HANDSHAKING, server.getHandshakeStatus());
        pipe.handshake();

        assertEquals(1, pipe.serverFinished);
        // The JDK client reports FINISHED again after each post-handshake session ticket.
        assertTrue(pipe.clientFinished >= 1);
        assertEquals("TLSv1.3", server.getSession().getProtocol());
        assertEquals("TLSv1.3", client.getSession().getProtocol());
        assertEquals(client.getSession().getCipherSuite(), server.getSession().getCipherSuite());
        assertEquals("h2", server.getApplicationProtocol());
        assertEquals("h2", client.getApplicationProtocol());
        assertEquals(1, server.generation());
        X509Certificate served = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                TestMaterial.fingerprint(served));
        assertEquals(TestMaterial.fingerprint(served),
                TestMaterial.fingerprint(server.getSession().getLocalCertificates()[0]));
        assertThrows(SSLPeerUnverifiedException.class,
                () -> server.getSession().getPeerCertificates());

        exchangeAndClose(pipe, server);
    }

    @Test
    void serverEngineTalksTls12ToJdkClientWithDirectBuffers() throws Exception {
        reloading = serverContext();
        TlsEngine server = (TlsEngine) TlsSslContext.forServer(reloading).createSSLEngine();
        server.setUseClientMode(false);
        SSLEngine client = jdkClient("TLSv1.2");
        MemoryPipe pipe = new MemoryPipe(client, server, true);

        pipe.handshake();

        assertEquals(1, pipe.serverFinished);
        assertEquals(1, pipe.clientFinished);
        assertEquals("TLSv1.2", server.getSession().getProtocol());
        assertEquals("TLSv1.2", client.getSession().getProtocol());
        assertEquals(client.getSession().getCipherSuite(), server.getSession().getCipherSuite());
        assertTrue(server.getSession().getCipherSuite().startsWith("TLS_ECDHE_RSA_WITH_"),
                server.getSession().getCipherSuite());
        assertEquals("h2", server.getApplicationProtocol());
        assertEquals("h2", client.getApplicationProtocol());

        exchangeAndClose(pipe, server);
    }

    @Test
    void clientEngineTalksToJdkServer() throws Exception {
        reloading = TlsConfig.client()
                .trustBundle(B05.resolve("ca.crt"))
                .applicationProtocols("h2", "http/1.1")
                .pollInterval(Duration.ZERO)
                .reloading();
        SSLEngine client = TlsSslContext.forClient(reloading).createSSLEngine("localhost", 443);
        client.setUseClientMode(true);
        SSLContext jdk = TestMaterial.jdkServerContext(B05.resolve("server.crt"),
                B05.resolve("server-pkcs8.key"));
        SSLEngine server = jdk.createSSLEngine();
        server.setUseClientMode(false);
        SSLParameters params = server.getSSLParameters();
        params.setApplicationProtocols(new String[] {"h2"});
        server.setSSLParameters(params);
        MemoryPipe pipe = new MemoryPipe(client, server, false);

        assertEquals(HandshakeStatus.NOT_HANDSHAKING, client.getHandshakeStatus());
        pipe.handshake();

        assertEquals(1, pipe.clientFinished);
        assertEquals("TLSv1.3", client.getSession().getProtocol());
        assertEquals("h2", client.getApplicationProtocol());
        assertEquals("h2", server.getApplicationProtocol());
        X509Certificate served = (X509Certificate) client.getSession().getPeerCertificates()[0];
        assertEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                TestMaterial.fingerprint(served));
        assertEquals("localhost", client.getSession().getPeerHost());
        assertNull(client.getSession().getLocalCertificates());

        byte[] request = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        pipe.send(true, request);
        assertArrayEquals(request, pipe.received(false));
        byte[] response = new byte[40_000];
        for (int i = 0; i < response.length; i++) {
            response[i] = (byte) (i * 31);
        }
        pipe.send(false, response);
        assertArrayEquals(response, pipe.received(true));

        pipe.closeFrom(true);
        if (!server.isOutboundDone()) {
            pipe.closeFrom(false);
        }
        assertTrue(client.isInboundDone());
        assertTrue(client.isOutboundDone());
    }

    @Test
    void tlsctxEnginesGatherAndScatterAcrossBuffers() throws Exception {
        reloading = serverContext();
        try (ReloadingTlsContext clientTls = TlsConfig.client()
                .trustBundle(B05.resolve("ca.crt"))
                .applicationProtocols("http/1.1")
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine client = TlsSslContext.forClient(clientTls)
                    .createSSLEngine("127.0.0.1", 8443);
            SSLEngine server = TlsSslContext.forServer(reloading).createSSLEngine();
            MemoryPipe pipe = new MemoryPipe(client, server, false);
            pipe.handshake();
            assertEquals(1, pipe.clientFinished);
            assertEquals(1, pipe.serverFinished);
            assertEquals("http/1.1", client.getApplicationProtocol());
            assertEquals("http/1.1", server.getApplicationProtocol());

            ByteBuffer[] parts = {
                ByteBuffer.wrap(bytes("hello ")),
                ByteBuffer.allocate(0),
                ByteBuffer.allocateDirect(9).put(bytes("gathered ")).flip(),
                ByteBuffer.wrap(bytes("world"))
            };
            ByteBuffer net = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
            var wrapped = client.wrap(parts, net);
            assertEquals(javax.net.ssl.SSLEngineResult.Status.OK, wrapped.getStatus());
            assertEquals(20, wrapped.bytesConsumed());
            assertEquals(net.position(), wrapped.bytesProduced());
            for (ByteBuffer part : parts) {
                assertEquals(0, part.remaining());
            }

            net.flip();
            ByteBuffer head = ByteBuffer.allocate(5);
            ByteBuffer tail = ByteBuffer.allocateDirect(100);
            var unwrapped = server.unwrap(net, new ByteBuffer[] {head, tail});
            assertEquals(javax.net.ssl.SSLEngineResult.Status.OK, unwrapped.getStatus());
            assertEquals(20, unwrapped.bytesProduced());
            assertEquals(0, net.remaining());
            assertArrayEquals(bytes("hello"), head.array());
            tail.flip();
            byte[] rest = new byte[tail.remaining()];
            tail.get(rest);
            assertArrayEquals(bytes(" gathered world"), rest);

            pipe.closeFrom(false);
            pipe.closeFrom(true);
            assertTrue(client.isInboundDone() && client.isOutboundDone());
            assertTrue(server.isInboundDone() && server.isOutboundDone());
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void serverSelectorPicksTheProtocol() throws Exception {
        reloading = serverContext();
        SSLEngine server = TlsSslContext.forServer(reloading).createSSLEngine();
        List<List<String>> offers = new java.util.ArrayList<>();
        server.setHandshakeApplicationProtocolSelector((engine, offered) -> {
            offers.add(offered);
            return offered.contains("http/1.1") ? "http/1.1" : null;
        });
        SSLEngine client = jdkClient("TLSv1.3");
        MemoryPipe pipe = new MemoryPipe(client, server, false);

        pipe.handshake();

        assertEquals(List.of(List.of("h2", "http/1.1")), offers);
        assertEquals("http/1.1", server.getApplicationProtocol());
        assertEquals("http/1.1", client.getApplicationProtocol());
    }

    @Test
    void serverSelectorReturningNullFailsTheHandshake() throws Exception {
        reloading = serverContext();
        SSLEngine server = TlsSslContext.forServer(reloading).createSSLEngine();
        server.setHandshakeApplicationProtocolSelector((engine, offered) -> null);
        SSLEngine client = jdkClient("TLSv1.3");
        MemoryPipe pipe = new MemoryPipe(client, server, false);

        assertThrows(SSLHandshakeException.class, pipe::handshake);
        assertTrue(server.isInboundDone());
        assertNull(server.getApplicationProtocol());
    }

    @Test
    void untrustedServerFailsTheClientHandshake() throws Exception {
        reloading = TlsConfig.client()
                .trustBundle(TestMaterial.caseDir("B01").resolve("ca.crt"))
                .pollInterval(Duration.ZERO)
                .reloading();
        SSLEngine client = TlsSslContext.forClient(reloading).createSSLEngine("localhost", 443);
        SSLEngine server = TestMaterial.jdkServerContext(B05.resolve("server.crt"),
                B05.resolve("server-pkcs8.key")).createSSLEngine();
        server.setUseClientMode(false);
        MemoryPipe pipe = new MemoryPipe(client, server, false);

        SSLHandshakeException error = assertThrows(SSLHandshakeException.class, pipe::handshake);
        assertTrue(error.getCause() instanceof TlsException, String.valueOf(error.getCause()));
        assertTrue(client.isInboundDone());
        // The alert for the server is still written before the engine reports CLOSED.
        ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        var result = client.wrap(ByteBuffer.allocate(0), out);
        assertTrue(result.bytesProduced() > 0, "alert bytes after the failure");
        assertEquals(javax.net.ssl.SSLEngineResult.Status.CLOSED, result.getStatus());
        assertTrue(client.isOutboundDone());
    }

    @Test
    void engineModeIsFixedByTheContext() throws Exception {
        reloading = serverContext();
        SSLEngine server = TlsSslContext.forServer(reloading).createSSLEngine();
        server.setUseClientMode(false);
        assertThrows(IllegalArgumentException.class, () -> server.setUseClientMode(true));
        assertThrows(IllegalArgumentException.class,
                () -> server.setEnabledCipherSuites(new String[] {"TLS_RSA_WITH_NULL_SHA"}));
        server.setEnabledCipherSuites(new String[] {"TLS_AES_128_GCM_SHA256"});
        assertEquals(9, server.getEnabledCipherSuites().length);
        assertThrows(IllegalArgumentException.class,
                () -> server.setEnabledProtocols(new String[] {"TLSv1.1"}));
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(server.getEnabledProtocols()));
        assertEquals("NONE", server.getSession().getProtocol());
        assertEquals("SSL_NULL_WITH_NULL_NULL", server.getSession().getCipherSuite());
        assertEquals(16709, server.getSession().getPacketBufferSize());
        assertEquals(16384, server.getSession().getApplicationBufferSize());
        assertNull(server.getDelegatedTask());
        SSLContext context = TlsSslContext.forServer(reloading);
        context.init(null, null, null);
        UnsupportedOperationException noSockets =
                assertThrows(UnsupportedOperationException.class, context::getSocketFactory);
        assertTrue(noSockets.getMessage().contains("only SSLEngine"), noSockets.getMessage());
    }

    @Test
    void clientEngineWithoutHostFailsAtHandshakeStart() throws Exception {
        reloading = TlsConfig.client()
                .trustBundle(B05.resolve("ca.crt"))
                .pollInterval(Duration.ZERO)
                .reloading();
        SSLEngine client = TlsSslContext.forClient(reloading).createSSLEngine();
        assertThrows(IllegalStateException.class, client::beginHandshake);
        assertThrows(IllegalArgumentException.class, () -> client.setUseClientMode(false));
    }

    private void exchangeAndClose(MemoryPipe pipe, TlsEngine server) throws SSLException {
        byte[] request = "hello from the JDK client".getBytes(StandardCharsets.US_ASCII);
        pipe.send(true, request);
        assertArrayEquals(request, pipe.received(false));

        byte[] response = new byte[50_000];
        for (int i = 0; i < response.length; i++) {
            response[i] = (byte) (i % 251);
        }
        pipe.send(false, response);
        assertArrayEquals(response, pipe.received(true));

        pipe.closeFrom(true);
        assertTrue(server.isInboundDone());
        pipe.closeFrom(false);
        assertTrue(server.isOutboundDone());
        assertTrue(pipe.client.isInboundDone());
        assertEquals(1, reloading.liveGenerations());
    }

    private ReloadingTlsContext serverContext() {
        return TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs1.key"))
                .applicationProtocols("h2", "http/1.1")
                .pollInterval(Duration.ZERO)
                .reloading();
    }

    private static SSLEngine jdkClient(String... protocols) throws Exception {
        SSLContext jdk = TestMaterial.jdkClientContext(B05.resolve("ca.crt"));
        SSLEngine client = jdk.createSSLEngine("localhost", 443);
        client.setUseClientMode(true);
        SSLParameters params = client.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        params.setProtocols(protocols);
        params.setApplicationProtocols(new String[] {"h2", "http/1.1"});
        client.setSSLParameters(params);
        return client;
    }
}

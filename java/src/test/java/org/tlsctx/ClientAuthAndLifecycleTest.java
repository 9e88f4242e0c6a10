package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client certificates, engines closed early, and engines dropped without closing. */
class ClientAuthAndLifecycleTest {
    private static final Path B01 = TestMaterial.caseDir("B01");
    private static final Path B05 = TestMaterial.caseDir("B05");

    @Test
    void requiredClientCertificateIsVerifiedAndVisible() throws Exception {
        try (ReloadingTlsContext serverTls = TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .trustBundle(B05.resolve("ca.crt"))
                .clientAuth(ClientAuth.REQUIRE)
                .pollInterval(Duration.ZERO)
                .reloading();
                ReloadingTlsContext clientTls = TlsConfig.client()
                        .certificateChain(B05.resolve("client.crt"))
                        .privateKey(B05.resolve("client-pkcs1.key"))
                        .trustBundle(B05.resolve("ca.crt"))
                        .pollInterval(Duration.ZERO)
                        .reloading()) {
            SSLEngine client = TlsSslContext.forClient(clientTls).createSSLEngine("localhost", 1);
            SSLEngine server = TlsSslContext.forServer(serverTls).createSSLEngine();
            MemoryPipe pipe = new MemoryPipe(client, server, true);
            pipe.handshake();

            String clientLeaf = TestMaterial.fingerprint(B05.resolve("client.crt"));
            assertEquals(clientLeaf,
                    TestMaterial.fingerprint(server.getSession().getPeerCertificates()[0]));
            assertEquals(clientLeaf,
                    TestMaterial.fingerprint(client.getSession().getLocalCertificates()[0]));
            assertEquals("localhost", ((javax.net.ssl.SNIHostName) ((javax.net.ssl
                    .ExtendedSSLSession) server.getSession()).getRequestedServerNames().get(0))
                    .getAsciiName());
        }
    }

    @Test
    void missingClientCertificateFailsTheHandshake() throws Exception {
        try (ReloadingTlsContext serverTls = TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .trustBundle(B05.resolve("ca.crt"))
                .clientAuth(ClientAuth.REQUIRE)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"))
                    .createSSLEngine("localhost", 1);
            client.setUseClientMode(true);
            SSLEngine server = TlsSslContext.forServer(serverTls).createSSLEngine();
            MemoryPipe pipe = new MemoryPipe(client, server, false);

            assertThrows(SSLException.class, pipe::handshake);
            assertTrue(server.isInboundDone());
            assertNull(server.getApplicationProtocol());
        }
    }

    @Test
    void serverWithoutCommonAlpnContinuesWithoutIt() throws Exception {
        try (ReloadingTlsContext serverTls = NettyInteropTest.serverContext()) {
            SSLEngine client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"))
                    .createSSLEngine("localhost", 1);
            client.setUseClientMode(true);
            SSLParameters params = client.getSSLParameters();
            params.setApplicationProtocols(new String[] {"spdy/3"});
            client.setSSLParameters(params);
            SSLEngine server = TlsSslContext.forServer(serverTls).createSSLEngine();
            server.setHandshakeApplicationProtocolSelector((engine, offered) -> "");
            MemoryPipe pipe = new MemoryPipe(client, server, false);
            pipe.handshake();
            assertEquals("", server.getApplicationProtocol());
            assertEquals("", client.getApplicationProtocol());
        }
    }

    @Test
    void engineClosedBeforeItsHandshakeNeverStarts() throws Exception {
        try (ReloadingTlsContext serverTls = NettyInteropTest.serverContext()) {
            SSLEngine server = TlsSslContext.forServer(serverTls).createSSLEngine();
            server.closeInbound();
            server.closeOutbound();
            assertTrue(server.isInboundDone());
            assertTrue(server.isOutboundDone());
            SSLEngineResult result = server.wrap(ByteBuffer.allocate(0), ByteBuffer.allocate(100));
            assertEquals(SSLEngineResult.Status.CLOSED, result.getStatus());
            assertEquals(0, result.bytesProduced());
            assertThrows(SSLException.class, server::beginHandshake);
        }
    }

    @Test
    void closingInboundWithoutCloseNotifyIsReportedAndFreesTheConnection(@TempDir Path dir)
            throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs8.key"), key);
        try (ReloadingTlsContext serverTls = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"),
                    B01.resolve("ca.crt")).createSSLEngine("localhost", 1);
            client.setUseClientMode(true);
            SSLEngine server = TlsSslContext.forServer(serverTls).createSSLEngine();
            new MemoryPipe(client, server, false).handshake();
            swapTo(B01, chain, key, serverTls);
            assertEquals(2, serverTls.liveGenerations());

            server.closeOutbound();
            SSLException truncated = assertThrows(SSLException.class, server::closeInbound);
            assertEquals("Inbound closed before receiving peer's close_notify",
                    truncated.getMessage());
            assertEquals(1, serverTls.liveGenerations());
            // The close_notify queued before the connection was freed is still written.
            ByteBuffer out = ByteBuffer.allocate(server.getSession().getPacketBufferSize());
            SSLEngineResult result = server.wrap(ByteBuffer.allocate(0), out);
            assertEquals(SSLEngineResult.Status.CLOSED, result.getStatus());
            assertTrue(result.bytesProduced() > 0);
            assertTrue(server.isOutboundDone());
        }
    }

    @Test
    void droppedEngineReleasesItsGenerationAfterGarbageCollection(@TempDir Path dir)
            throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs8.key"), key);
        try (ReloadingTlsContext serverTls = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            handshakeAndDrop(serverTls);
            swapTo(B01, chain, key, serverTls);
            assertEquals(2, serverTls.liveGenerations());

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (serverTls.liveGenerations() != 1 && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(50);
            }
            assertEquals(1, serverTls.liveGenerations());
        }
    }

    private static void handshakeAndDrop(ReloadingTlsContext serverTls) throws Exception {
        SSLEngine client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"))
                .createSSLEngine("localhost", 1);
        client.setUseClientMode(true);
        SSLEngine server = TlsSslContext.forServer(serverTls).createSSLEngine();
        new MemoryPipe(client, server, false).handshake();
        assertEquals(1, ((TlsEngine) server).generation());
    }

    private static void swapTo(Path caseDir, Path chain, Path key, ReloadingTlsContext tls)
            throws Exception {
        Files.copy(caseDir.resolve("server.crt"), chain, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(caseDir.resolve("server.key"), key, StandardCopyOption.REPLACE_EXISTING);
        assertEquals(ReloadResult.SWAPPED, tls.reload());
    }
}

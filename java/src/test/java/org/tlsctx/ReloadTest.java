package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlsctx.netty.TlsNettyContext;

/** A Netty server keeps serving through a certificate rotation and a failed reload. */
class ReloadTest {
    private static final Path B01 = TestMaterial.caseDir("B01");
    private static final Path B05 = TestMaterial.caseDir("B05");
    private static final Path B19 = TestMaterial.caseDir("B19");

    @Test
    void reloadSwapsForNewConnectionsAndReleasesTheOldGenerationAfterItsLastConnection(
            @TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        replace(B05.resolve("server.crt"), chain);
        replace(B05.resolve("server-pkcs8.key"), key);
        String oldFingerprint = TestMaterial.fingerprint(B05.resolve("server.crt"));
        String newFingerprint = TestMaterial.fingerprint(B01.resolve("server.crt"));
        assertNotEquals(oldFingerprint, newFingerprint);
        SSLContext client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"),
                B01.resolve("ca.crt"));

        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .applicationProtocols("h2", "http/1.1")
                .pollInterval(Duration.ZERO)
                .reloading();
                NettyEchoServer server =
                        new NettyEchoServer(TlsNettyContext.forServer(reloading))) {
            SSLSocket first = NettyInteropTest.connect(client, server.port(), "h2");
            assertEquals(oldFingerprint, servedFingerprint(first));
            assertArrayEquals(bytes("before reload"), NettyInteropTest.echo(first,
                    bytes("before reload")));
            assertEquals(1, reloading.liveGenerations());

            replace(B01.resolve("server.crt"), chain);
            replace(B01.resolve("server.key"), key);
            assertEquals(ReloadResult.SWAPPED, reloading.reload());
            assertEquals(2, reloading.generation());
            assertEquals(2, reloading.liveGenerations());
            try (TlsContext current = reloading.current()) {
                assertEquals(newFingerprint, current.fingerprint());
            }

            assertArrayEquals(bytes("after reload"), NettyInteropTest.echo(first,
                    bytes("after reload")));
            // A fresh client: a client that resumes its earlier session keeps that session's
            // (older) certificate, which is correct TLS but hides the new leaf.
            SSLContext freshClient = TestMaterial.jdkClientContext(B05.resolve("ca.crt"),
                    B01.resolve("ca.crt"));
            try (SSLSocket second = NettyInteropTest.connect(freshClient, server.port(), "h2")) {
                assertEquals(newFingerprint, servedFingerprint(second));
                assertArrayEquals(bytes("second"), NettyInteropTest.echo(second,
                        bytes("second")));
            }

            first.close();
            awaitValue(1, reloading::liveGenerations);
            awaitValue(0, server.openChannels::get);

            assertEquals(ReloadResult.UNCHANGED, reloading.reload());
            assertEquals(2, reloading.generation());
        }
    }

    @Test
    void aConnectionTheServerClosesReleasesItsGenerationWithoutWaitingForGarbageCollection(
            @TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        replace(B05.resolve("server.crt"), chain);
        replace(B05.resolve("server-pkcs8.key"), key);
        SSLContext client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"),
                B01.resolve("ca.crt"));

        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading();
                NettyEchoServer server =
                        new NettyEchoServer(TlsNettyContext.forServer(reloading))) {
            server.closeAfterEcho = true;
            try (SSLSocket socket = NettyInteropTest.connect(client, server.port())) {
                replace(B01.resolve("server.crt"), chain);
                replace(B01.resolve("server.key"), key);
                assertEquals(ReloadResult.SWAPPED, reloading.reload());
                assertEquals(2, reloading.liveGenerations());

                // The server closes after this echo; the client keeps its socket open, so only
                // the server's own close can release generation 1.
                assertArrayEquals(bytes("last words"), NettyInteropTest.echo(socket,
                        bytes("last words")));
                awaitValue(0, server.openChannels::get);
                awaitValue(1, reloading::liveGenerations);
            }
        }
    }

    @Test
    void failedReloadKeepsServingTheCurrentGeneration(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        replace(B19.resolve("server.crt"), chain);
        replace(B19.resolve("server.key"), key);
        String fingerprint = TestMaterial.fingerprint(B19.resolve("server.crt"));
        SSLContext client = TestMaterial.jdkClientContext(B19.resolve("ca.crt"));

        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading();
                NettyEchoServer server =
                        new NettyEchoServer(TlsNettyContext.forServer(reloading))) {
            replace(B19.resolve("other-rsa.key"), key);
            TlsException error = assertThrows(TlsException.class, reloading::reload);
            assertTrue(error.getMessage().contains(key.toString()), error.getMessage());
            assertTrue(error.getMessage().contains("does not match"), error.getMessage());
            String lastError = reloading.lastError();
            assertTrue(lastError != null && lastError.contains(key.toString()), lastError);
            assertEquals(1, reloading.generation());
            assertEquals(1, reloading.liveGenerations());

            try (SSLSocket socket = NettyInteropTest.connect(client, server.port())) {
                assertEquals(fingerprint, servedFingerprint(socket));
                assertArrayEquals(bytes("still serving"), NettyInteropTest.echo(socket,
                        bytes("still serving")));
            }

            replace(B19.resolve("server.key"), key);
            assertEquals(ReloadResult.UNCHANGED, reloading.reload());
            assertEquals(1, reloading.generation());
        }
    }

    @Test
    void watcherPicksUpChangedFilesAndReportsBadOnes(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        replace(B05.resolve("server.crt"), chain);
        replace(B05.resolve("server-pkcs8.key"), key);
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ofMillis(100))
                .reloading()) {
            assertEquals(1, reloading.generation());

            replace(B01.resolve("server.key"), key);
            replace(B01.resolve("server.crt"), chain);
            awaitValue(2, reloading::generation);
            try (TlsContext current = reloading.current()) {
                assertEquals(TestMaterial.fingerprint(B01.resolve("server.crt")),
                        current.fingerprint());
            }

            // The watcher may have seen the new key with the old certificate in between: only
            // an error that differs from that one comes from the corrupt key written now.
            String errorBefore = reloading.lastError();
            Path corrupt = dir.resolve("corrupt.key");
            Files.writeString(corrupt, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n"
                    + "-----END PRIVATE KEY-----\n");
            replace(corrupt, key);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            String lastError = reloading.lastError();
            while ((lastError == null || lastError.equals(errorBefore))
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
                lastError = reloading.lastError();
            }
            assertTrue(lastError != null && !lastError.equals(errorBefore)
                    && lastError.contains(key.toString()), lastError);
            assertEquals(2, reloading.generation());
        }
    }

    /**
     * A session reports the chain of the generation its connection was served from, though
     * sessions share parsed chains: one from before a reload, read only after a session of the
     * new generation, still shows the old leaf.
     */
    @Test
    void sessionsReportTheLocalChainOfTheirOwnGeneration(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        replace(B05.resolve("server.crt"), chain);
        replace(B05.resolve("server-pkcs8.key"), key);
        SSLContext client = TestMaterial.jdkClientContext(B05.resolve("ca.crt"),
                B01.resolve("ca.crt"));

        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine before = servedEngine(reloading, client);
            replace(B01.resolve("server.crt"), chain);
            replace(B01.resolve("server.key"), key);
            assertEquals(ReloadResult.SWAPPED, reloading.reload());
            SSLEngine after = servedEngine(reloading, client);
            SSLEngine alsoAfter = servedEngine(reloading, client);

            Certificate[] afterChain = after.getSession().getLocalCertificates();
            assertEquals(TestMaterial.fingerprint(B01.resolve("server.crt")),
                    TestMaterial.fingerprint(afterChain[0]));
            Certificate[] beforeChain = before.getSession().getLocalCertificates();
            assertEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                    TestMaterial.fingerprint(beforeChain[0]));
            assertEquals(TestMaterial.certificate(B05.resolve("server.crt"))
                    .getSubjectX500Principal(), before.getSession().getLocalPrincipal());
            // The new generation's chain, parsed for `after`, is the same objects here.
            assertSame(afterChain[0], alsoAfter.getSession().getLocalCertificates()[0]);
        }
    }

    /** A tlsctx server engine after a handshake with a JDK client from {@code client}. */
    private static SSLEngine servedEngine(ReloadingTlsContext server, SSLContext client)
            throws Exception {
        SSLEngine clientEngine = client.createSSLEngine("localhost", 1);
        clientEngine.setUseClientMode(true);
        SSLEngine serverEngine = TlsSslContext.forServer(server).createSSLEngine();
        new MemoryPipe(clientEngine, serverEngine, false).handshake();
        return serverEngine;
    }

    private static String servedFingerprint(SSLSocket socket) throws Exception {
        return TestMaterial.fingerprint(socket.getSession().getPeerCertificates()[0]);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static void replace(Path from, Path to) throws Exception {
        Path temporary = to.resolveSibling(to.getFileName() + ".tmp");
        Files.copy(from, temporary, StandardCopyOption.REPLACE_EXISTING);
        Files.move(temporary, to, StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Waits until {@code value} reports {@code expected}: connection closes are asynchronous.
     * The bound is generous; the test checks that the value is reached, not how fast.
     */
    private static void awaitValue(long expected, LongSupplier value) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long seen = value.getAsLong();
        while (seen != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            seen = value.getAsLong();
        }
        assertEquals(expected, seen);
    }
}

package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsContextTest {
    private static final Path B05 = TestMaterial.caseDir("B05");
    private static final Path B19 = TestMaterial.caseDir("B19");

    @Test
    void referenceCountingReleasesTheGenerationExactlyOnce(@TempDir Path dir) throws Exception {
        // A reloading context's own count, not the process-wide one: engines that other tests
        // leave to the garbage collector may be freed at any moment.
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs1.key"), key);
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            TlsContext context = reloading.current();
            assertEquals(1, context.refCnt());
            Files.copy(B19.resolve("server.crt"), chain, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(B19.resolve("server.key"), key, StandardCopyOption.REPLACE_EXISTING);
            assertEquals(ReloadResult.SWAPPED, reloading.reload());
            assertEquals(2, reloading.liveGenerations(), "the handle keeps generation 1");
            assertTrue(TlsContext.liveGenerations() >= 2, "the process holds at least these");

            assertTrue(context.retain() == context);
            context.retain(2);
            assertEquals(4, context.refCnt());
            assertFalse(context.release());
            assertFalse(context.release(2));
            assertEquals(1, context.refCnt());
            assertEquals(2, reloading.liveGenerations());

            assertTrue(context.release());
            assertEquals(0, context.refCnt());
            assertEquals(1, reloading.liveGenerations());

            IllegalStateException released = assertThrows(IllegalStateException.class,
                    context::fingerprint);
            assertEquals("TlsContext already released", released.getMessage());
            assertThrows(IllegalStateException.class, context::generation);
            assertThrows(IllegalStateException.class, context::retain);
            assertThrows(IllegalStateException.class, context::release);
            assertThrows(IllegalStateException.class, context::close);
            assertEquals(1, reloading.liveGenerations());
        }
    }

    @Test
    void releaseRejectsMoreThanIsHeld() {
        try (TlsContext context = TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .load()) {
            assertThrows(IllegalStateException.class, () -> context.release(2));
            assertThrows(IllegalArgumentException.class, () -> context.retain(0));
            assertEquals(1, context.refCnt());
        }
    }

    @Test
    void certificateDetailsDescribeTheLeaf() throws Exception {
        try (TlsContext context = TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .load()) {
            java.security.cert.X509Certificate leaf =
                    TestMaterial.certificate(B05.resolve("server.crt"));
            assertEquals(TestMaterial.fingerprint(leaf), context.fingerprint());
            assertEquals(leaf.getSerialNumber().toString(16), context.serialNumber());
            assertEquals(leaf.getNotBefore().toInstant(), context.notBefore());
            assertEquals(leaf.getNotAfter().toInstant(), context.notAfter());
            assertEquals(Instant.parse("2048-12-31T00:00:00Z").getEpochSecond() / 86400,
                    context.notAfter().getEpochSecond() / 86400);
            assertTrue(context.subject().contains("CN=b05-server"), context.subject());
            assertEquals(1, context.generation());
        }
    }

    @Test
    void clientWithoutCertificateHasNoLeafDetails() {
        try (TlsContext context = TlsConfig.client()
                .trustBundle(B05.resolve("ca.crt"))
                .load()) {
            assertNull(context.fingerprint());
            assertNull(context.subject());
            assertNull(context.serialNumber());
            assertNull(context.notBefore());
            assertNull(context.notAfter());
        }
    }

    @Test
    void mismatchedKeyIsRejectedNamingTheKeyFile() {
        Path key = B19.resolve("other-rsa.key");
        TlsException error = assertThrows(TlsException.class, () -> TlsConfig.server()
                .certificateChain(B19.resolve("server.crt"))
                .privateKey(key)
                .load());
        assertTrue(error.getMessage().contains(key.toString()), error.getMessage());
        assertTrue(error.getMessage().contains("does not match"), error.getMessage());
        assertTrue(error.code() != 0);
    }

    @Test
    void missingFileIsRejectedNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-chain.crt");
        TlsException error = assertThrows(TlsException.class, () -> TlsConfig.server()
                .certificateChain(missing)
                .privateKey(B05.resolve("server-pkcs8.key"))
                .load());
        assertTrue(error.getMessage().contains(missing.toString()), error.getMessage());
    }

    @Test
    void reloadingContextRejectsUseAfterClose() {
        ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .pollInterval(Duration.ZERO)
                .reloading();
        assertEquals(1, reloading.generation());
        assertEquals(1, reloading.liveGenerations());
        assertNull(reloading.lastError());
        assertEquals(ReloadResult.UNCHANGED, reloading.reload());

        reloading.close();
        reloading.close();
        assertTrue(reloading.isClosed());
        IllegalStateException error =
                assertThrows(IllegalStateException.class, reloading::current);
        assertEquals("ReloadingTlsContext already closed", error.getMessage());
        assertThrows(IllegalStateException.class, reloading::reload);
    }

    @Test
    void configRejectsUnknownProtocolVersions() {
        TlsConfig config = TlsConfig.server();
        assertThrows(IllegalArgumentException.class, () -> config.protocols("TLSv1.1"));
        assertThrows(IllegalArgumentException.class, () -> config.protocols("SSLv3"));
        config.protocols("TLSv1.2", "TLSv1.3");
        assertEquals(java.util.List.of("TLSv1.3", "TLSv1.2"), config.protocols());
        config.protocols("TLSv1.2");
        assertEquals(java.util.List.of("TLSv1.2"), config.protocols());
    }

    @Test
    void serverConfigWithoutKeyIsIncomplete() {
        assertThrows(IllegalStateException.class,
                () -> TlsConfig.server().certificateChain(B05.resolve("server.crt")).load());
    }
}

package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tlsctx.TlsException.Reason;

/**
 * The configuration surface of {@link TlsConfig}: cipher suites, test mode, certificates by
 * server name, broker properties files, in-memory material, key store import, expired leaves,
 * and the typed exception each misconfiguration is reported with.
 */
class ConfigurationTest {
    private static final Path B01 = TestMaterial.caseDir("B01");
    private static final Path B05 = TestMaterial.caseDir("B05");
    private static final Path B19 = TestMaterial.caseDir("B19");

    // ---- cipher suites -------------------------------------------------------------------------

    @Test
    void chosenTls13CipherSuiteIsNegotiatedWithTheJdkClient() throws Exception {
        try (ReloadingTlsContext server = b05Server()
                .cipherSuites("TLS_CHACHA20_POLY1305_SHA256")
                .reloading()) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B05.resolve("ca.crt")));
            assertEquals("TLS_CHACHA20_POLY1305_SHA256", session.getCipherSuite());
            assertArrayEquals(new String[] {"TLS_CHACHA20_POLY1305_SHA256"},
                    TlsSslContext.forServer(server).createSSLEngine().getEnabledCipherSuites());
        }
    }

    @Test
    void chosenTls12CipherSuiteIsNegotiatedAndUnofferedNamesAreSkipped() throws Exception {
        try (ReloadingTlsContext server = b05Server()
                .protocols("TLSv1.2")
                .cipherSuites("TLS_RSA_WITH_AES_128_CBC_SHA",
                        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
                .reloading()) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B05.resolve("ca.crt")),
                    params -> params.setProtocols(new String[] {"TLSv1.2"}));
            assertEquals("TLSv1.2", session.getProtocol());
            assertEquals("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", session.getCipherSuite());
        }
    }

    @Test
    void noOfferedCipherSuiteIsAConfigurationError() {
        TlsConfigException error = assertThrows(TlsConfigException.class, () -> b05Server()
                .cipherSuites("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")
                .load());
        assertEquals(Reason.INVALID_CONFIG, error.reason());
        assertEquals(213, error.code());
        assertTrue(error.getMessage().startsWith("invalid configuration: none of the cipher "
                + "suites TLS_RSA_WITH_AES_128_CBC_SHA, TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 is "
                + "offered; offered are "), error.getMessage());
        assertTrue(error.getMessage().contains("TLS_CHACHA20_POLY1305_SHA256"),
                error.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.server().cipherSuites(new String[0]));
        assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.server().cipherSuites(List.of("")));
    }

    // ---- test mode -----------------------------------------------------------------------------

    @Test
    void testModeServerWithoutFilesServesASelfSignedLocalhostCertificate() throws Exception {
        try (ReloadingTlsContext server = TlsConfig.server()
                .testMode(true)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLSession session = Handshakes.jdkClientTo(server, Handshakes.jdkClientTrustingAll());
            X509Certificate leaf = (X509Certificate) session.getPeerCertificates()[0];
            assertEquals(1, session.getPeerCertificates().length);
            assertEquals(leaf.getSubjectX500Principal(), leaf.getIssuerX500Principal());
            assertEquals(List.of(List.of(2, "localhost"), List.of(7, "127.0.0.1")),
                    List.copyOf(leaf.getSubjectAlternativeNames()));
            // The generated identity is kept for the configuration's life: a reload is a no-op.
            assertEquals(ReloadResult.UNCHANGED, server.reload());
        }
    }

    @Test
    void testModeClientAcceptsAnyServer() throws Exception {
        try (ReloadingTlsContext server = b05Server().reloading();
                ReloadingTlsContext client = TlsConfig.client()
                        .testMode(true)
                        .pollInterval(Duration.ZERO)
                        .reloading()) {
            assertFalse(client.config().verifyServer());
            SSLEngine serverEngine = Handshakes.tlsctxClientTo(server, client);
            assertEquals("TLSv1.3", serverEngine.getSession().getProtocol());
        }
    }

    // ---- certificates by server name -----------------------------------------------------------

    @Test
    void serverNamePicksTheCertificateForThatName() throws Exception {
        try (ReloadingTlsContext server = b05Server()
                .identityForName("b01.example", B01.resolve("server.crt"),
                        B01.resolve("server.key"))
                .reloading()) {
            SSLContext jdk = TestMaterial.jdkClientContext(B05.resolve("ca.crt"),
                    B01.resolve("ca.crt"));
            // Both leaves are for localhost only, so the name is not checked against them.
            SSLSession named = Handshakes.jdkClientTo(server, jdk, params -> {
                params.setEndpointIdentificationAlgorithm(null);
                params.setServerNames(List.of(new SNIHostName("B01.Example")));
            });
            assertEquals(TestMaterial.fingerprint(B01.resolve("server.crt")),
                    Handshakes.servedLeaf(named));

            SSLSession other = Handshakes.jdkClientTo(server, jdk);
            assertEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                    Handshakes.servedLeaf(other));
        }
    }

    @Test
    void serverNameIdentityIsCheckedAtLoad() {
        Path key = B19.resolve("other-rsa.key");
        PrivateKeyException error = assertThrows(PrivateKeyException.class, () -> b05Server()
                .identityForName("b19.example", B19.resolve("server.crt"), key)
                .load());
        assertEquals(Reason.KEY_MISMATCH, error.reason());
        assertTrue(error.getMessage().startsWith(key + ": "), error.getMessage());
        assertThrows(IllegalStateException.class, () -> TlsConfig.client()
                .identityForName("a.example", B01.resolve("server.crt"),
                        B01.resolve("server.key")));
    }

    // ---- broker properties ---------------------------------------------------------------------

    @Test
    void brokerPropertiesWithTestModeOffServeTheConfiguredLeaf(@TempDir Path dir)
            throws Exception {
        Path properties = properties(dir, "tls.test.mode.enable=false",
                "tls.server.certPath=" + B05.resolve("server.crt"),
                "tls.server.keyPath=" + B05.resolve("server-pkcs1.key"),
                "tls.server.need.client.auth=none");
        try (ReloadingTlsContext server = TlsConfig.fromBrokerProperties(properties, true)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B05.resolve("ca.crt")));
            assertEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                    Handshakes.servedLeaf(session));
            assertEquals(properties, server.config().brokerProperties());
        }
    }

    @Test
    void brokerPropertiesDefaultToTestModeLikeRocketMq(@TempDir Path dir) throws Exception {
        Path properties = properties(dir,
                "tls.server.certPath=" + B05.resolve("server.crt"),
                "tls.server.keyPath=" + B05.resolve("server-pkcs1.key"));
        try (TlsContext context = TlsConfig.fromBrokerProperties(properties, true).load()) {
            // Test mode ignores the server paths and serves a generated certificate.
            assertNotEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                    context.fingerprint());
            assertEquals("CN=rcgen self signed cert", context.subject());
        }
    }

    @Test
    void javaSettersApplyOnTopOfBrokerProperties(@TempDir Path dir) throws Exception {
        Path properties = properties(dir, "tls.test.mode.enable=false",
                "tls.server.certPath=" + B05.resolve("server.crt"),
                "tls.server.keyPath=" + B05.resolve("server-pkcs8.key"));
        try (ReloadingTlsContext server = TlsConfig.fromBrokerProperties(properties, true)
                .trustBundle(B05.resolve("ca.crt"))
                .clientAuth(ClientAuth.REQUIRE)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLContext withoutCertificate = TestMaterial.jdkClientContext(B05.resolve("ca.crt"));
            assertThrows(SSLException.class,
                    () -> Handshakes.jdkClientTo(server, withoutCertificate));
        }
    }

    @Test
    void invalidBrokerPropertyIsAConfigurationErrorNamingTheKey(@TempDir Path dir)
            throws Exception {
        Path properties = properties(dir, "tls.test.mode.enable=false",
                "tls.server.need.client.auth=maybe");
        TlsConfigException error = assertThrows(TlsConfigException.class,
                () -> TlsConfig.fromBrokerProperties(properties, true).load());
        assertEquals(Reason.INVALID_CONFIG, error.reason());
        assertEquals("invalid configuration: " + properties + ": tls.server.need.client.auth="
                + "maybe is not valid; expected none, optional or require", error.getMessage());

        Path missing = dir.resolve("absent.properties");
        CertificateFileException notFound = assertThrows(CertificateFileException.class,
                () -> TlsConfig.fromBrokerProperties(missing, false).load());
        assertEquals(Reason.FILE_NOT_FOUND, notFound.reason());
        assertEquals(missing + ": file not found", notFound.getMessage());
    }

    // ---- in-memory material and key stores -----------------------------------------------------

    @Test
    void inMemoryMaterialLoadsAndIsNamedInErrors() throws Exception {
        byte[] chain = Files.readAllBytes(B05.resolve("server.crt"));
        byte[] key = Files.readAllBytes(B05.resolve("server-pkcs1.key"));
        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain("vault tls/chain", chain)
                .privateKey("vault tls/key", key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            assertEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                    Handshakes.servedLeaf(Handshakes.jdkClientTo(server,
                            TestMaterial.jdkClientContext(B05.resolve("ca.crt")))));
            assertEquals(ReloadResult.UNCHANGED, server.reload());
        }
        try (ReloadingTlsContext client = TlsConfig.client()
                .trustBundle("vault tls/ca", Files.readAllBytes(B05.resolve("ca.crt")))
                .pollInterval(Duration.ZERO)
                .reloading();
                ReloadingTlsContext server = b05Server().reloading()) {
            Handshakes.tlsctxClientTo(server, client);
        }

        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .certificateChain("vault tls/chain", chain)
                        .privateKey("vault tls/key", chain)
                        .load());
        assertEquals(Reason.NO_PRIVATE_KEY, error.reason());
        assertEquals("vault tls/key: no private key found (found a certificate)",
                error.getMessage());

        CertificateFileException empty = assertThrows(CertificateFileException.class,
                () -> TlsConfig.server()
                        .certificateChain("vault tls/chain", chain)
                        .privateKey("vault tls/key", new byte[0])
                        .load());
        assertEquals(Reason.FILE_EMPTY, empty.reason());
        assertEquals("vault tls/key: file is empty", empty.getMessage());
    }

    @Test
    void jksKeyStoreImportServesTheEntryAndItsChain(@TempDir Path dir) throws Exception {
        KeyStore jks = Handshakes.keyStore("JKS", "broker", B01.resolve("fullchain-mixed.crt"),
                B01.resolve("server.key"), "RSA");
        Path file = dir.resolve("broker.jks");
        try (var out = Files.newOutputStream(file)) {
            jks.store(out, Handshakes.STORE_PASSWORD);
        }
        try (ReloadingTlsContext server = TlsConfig.server()
                .keyStore(file, "JKS", Handshakes.STORE_PASSWORD, "broker")
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B01.resolve("ca.crt")));
            assertEquals(List.of(TestMaterial.fingerprint(B01.resolve("server.crt")),
                    TestMaterial.fingerprint(B01.resolve("ca.crt"))),
                    Handshakes.fingerprints(session.getPeerCertificates()));
            assertEquals(ReloadResult.UNCHANGED, server.reload());
        }
    }

    @Test
    void keyStoreEntriesThatHoldNoUsableKeyAreNamed(@TempDir Path dir) throws Exception {
        KeyStore store = Handshakes.keyStore("PKCS12", "broker", B05.resolve("server.crt"),
                B05.resolve("server-pkcs8.key"), "RSA");
        store.setCertificateEntry("ca", TestMaterial.certificate(B05.resolve("ca.crt")));

        PrivateKeyException noEntry = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server().keyStore(store, "absent", Handshakes.STORE_PASSWORD)
                        .load());
        assertEquals(Reason.NO_PRIVATE_KEY, noEntry.reason());
        assertEquals("keystore alias \"absent\": no such entry (the key store holds [broker, "
                + "ca])", noEntry.getMessage());

        PrivateKeyException trusted = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server().keyStore(store, "ca", Handshakes.STORE_PASSWORD)
                        .load());
        assertEquals(Reason.NO_PRIVATE_KEY, trusted.reason());
        assertEquals("keystore alias \"ca\": no private key found (found a trusted certificate)",
                trusted.getMessage());

        PrivateKeyException wrongPassword = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server().keyStore(store, "broker", "wrong".toCharArray())
                        .load());
        assertEquals(Reason.WRONG_PASSWORD, wrongPassword.reason());
        assertEquals("keystore alias \"broker\": wrong password for the private key entry",
                wrongPassword.getMessage());

        Path missing = dir.resolve("absent.p12");
        CertificateFileException notFound = assertThrows(CertificateFileException.class,
                () -> TlsConfig.server()
                        .keyStore(missing, "PKCS12", Handshakes.STORE_PASSWORD, "broker")
                        .load());
        assertEquals(Reason.FILE_NOT_FOUND, notFound.reason());
        assertEquals(missing + ": file not found", notFound.getMessage());

        KeyStore unloaded = KeyStore.getInstance("PKCS12");
        assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.server().keyStore(unloaded, "broker", null).load());
    }

    // ---- leaf validity -------------------------------------------------------------------------

    @Test
    void expiredLeafIsRefusedUnlessAllowedAtTheFirstLoad(@TempDir Path dir) throws Exception {
        Path expired = selfSigned(dir, "expired", "20200101000000Z", "20200102000000Z");
        Path key = dir.resolve("expired.key");

        CertificateValidityException error = assertThrows(CertificateValidityException.class,
                () -> TlsConfig.server().certificateChain(expired).privateKey(key).load());
        assertEquals(Reason.CERTIFICATE_EXPIRED, error.reason());
        assertTrue(error.getMessage().startsWith(expired + ": certificate expired: valid until "
                + "Jan  2 00:00:00 2020 +00:00, now "), error.getMessage());

        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain(expired)
                .privateKey(key)
                .allowExpiredLeaf(true)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            try (TlsContext current = server.current()) {
                assertEquals(Instant.parse("2020-01-02T00:00:00Z"), current.notAfter());
            }
            // A reload never swaps to an expired leaf, even one allowed at the first load.
            selfSigned(dir, "expired", "20200101000000Z", "20200103000000Z");
            CertificateValidityException onReload =
                    assertThrows(CertificateValidityException.class, server::reload);
            assertEquals(Reason.CERTIFICATE_EXPIRED, onReload.reason());
            assertEquals(1, server.generation());
        }
    }

    @Test
    void leafNotYetValidIsRefused(@TempDir Path dir) throws Exception {
        Path future = selfSigned(dir, "future", "20400101000000Z", "20410101000000Z");
        CertificateValidityException error = assertThrows(CertificateValidityException.class,
                () -> TlsConfig.server()
                        .certificateChain(future)
                        .privateKey(dir.resolve("future.key"))
                        .load());
        assertEquals(Reason.CERTIFICATE_NOT_YET_VALID, error.reason());
        assertTrue(error.getMessage().startsWith(future + ": certificate not yet valid: valid "
                + "from Jan  1 00:00:00 2040 +00:00, now "), error.getMessage());
    }

    // ---- other typed failures ------------------------------------------------------------------

    @Test
    void unreadableFileIsACertificateFileException(@TempDir Path dir) {
        CertificateFileException error = assertThrows(CertificateFileException.class,
                () -> TlsConfig.server()
                        .certificateChain(dir)
                        .privateKey(B05.resolve("server-pkcs8.key"))
                        .load());
        assertEquals(Reason.FILE_UNREADABLE, error.reason());
        assertTrue(error.getMessage().startsWith(dir + ": file cannot be read: "),
                error.getMessage());
    }

    @Test
    void unparsableCertificateIsAnInvalidCertificate(@TempDir Path dir) throws Exception {
        Path garbage = dir.resolve("garbage.crt");
        Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
                + "-----END CERTIFICATE-----\n", StandardCharsets.US_ASCII);
        CertificateFileException error = assertThrows(CertificateFileException.class,
                () -> TlsConfig.server()
                        .certificateChain(garbage)
                        .privateKey(B05.resolve("server-pkcs8.key"))
                        .load());
        assertEquals(Reason.INVALID_CERTIFICATE, error.reason());
        assertTrue(error.getMessage().startsWith(garbage + ": invalid certificate: "),
                error.getMessage());
    }

    @Test
    void untrustedServerFailsTheHandshakeWithATlsProtocolError() throws Exception {
        try (ReloadingTlsContext server = b05Server().reloading();
                ReloadingTlsContext client = TlsConfig.client()
                        .trustBundle(B01.resolve("ca.crt"))
                        .pollInterval(Duration.ZERO)
                        .reloading()) {
            SSLException error = assertThrows(SSLException.class,
                    () -> Handshakes.tlsctxClientTo(server, client));
            TlsException cause = (TlsException) error.getCause();
            assertEquals(Reason.TLS_PROTOCOL, cause.reason());
            assertEquals(TlsException.class, cause.getClass());
            assertTrue(cause.getMessage().startsWith("TLS error: invalid peer certificate: "),
                    cause.getMessage());
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static TlsConfig b05Server() {
        return TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .pollInterval(Duration.ZERO);
    }

    private static Path properties(Path dir, String... lines) throws Exception {
        Path file = dir.resolve("tls.properties");
        Files.write(file, List.of(lines), StandardCharsets.ISO_8859_1);
        return file;
    }

    /**
     * Writes {@code name.crt} (self-signed, EC P-256, for localhost) and {@code name.key} with
     * the given validity, in openssl's {@code YYYYMMDDHHMMSSZ} form. {@code openssl ca} is the
     * OpenSSL 3.0 command that sets both dates.
     */
    private static Path selfSigned(Path dir, String name, String notBefore, String notAfter)
            throws Exception {
        Path work = Files.createTempDirectory(dir, "ca-");
        Files.writeString(work.resolve("ca.cnf"), String.join("\n",
                "[ca]", "default_ca = test",
                "[test]", "database = index.txt", "new_certs_dir = .", "serial = serial",
                "default_md = sha256", "policy = any", "x509_extensions = leaf",
                "[any]", "commonName = supplied",
                "[leaf]", "subjectAltName = DNS:localhost,IP:127.0.0.1", ""));
        Files.writeString(work.resolve("index.txt"), "");
        Files.writeString(work.resolve("serial"), "01\n");
        Path key = dir.resolve(name + ".key");
        Path certificate = dir.resolve(name + ".crt");
        Handshakes.run(work, "openssl", "req", "-new", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(),
                "-subj", "/CN=" + name, "-out", "request.csr");
        Handshakes.run(work, "openssl", "ca", "-batch", "-config", "ca.cnf", "-selfsign",
                "-keyfile", key.toString(), "-in", "request.csr", "-out", certificate.toString(),
                "-startdate", notBefore, "-enddate", notAfter, "-notext");
        return certificate;
    }
}

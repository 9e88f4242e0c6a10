package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.tlsctx.TlsException.Reason;

/**
 * The acceptance cases on certificate material through the Java binding: line endings (B01),
 * text around PEM blocks (B03), PKCS#1 keys (B05), EdDSA keys (B12), empty and wrong files
 * (B16), DER files (B18), mismatched keys (B19) and PKCS#12 given as PEM (B21).
 */
class MaterialCasesTest {
    private static final Path B01 = TestMaterial.caseDir("B01");
    private static final Path B03 = TestMaterial.caseDir("B03");
    private static final Path B05 = TestMaterial.caseDir("B05");
    private static final Path B12 = TestMaterial.caseDir("B12");
    private static final Path B16 = TestMaterial.caseDir("B16");
    private static final Path B18 = TestMaterial.caseDir("B18");
    private static final Path B19 = TestMaterial.caseDir("B19");
    private static final Path B21 = TestMaterial.caseDir("B21");

    // ---- B01: CRLF and CR-only line endings ----------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"server-crlf", "server-cr-only"})
    void b01LineEndingsLoadAndServeTheSameLeaf(String name) throws Exception {
        try (ReloadingTlsContext server = serving(B01, name + ".crt", name + ".key")) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B01.resolve("ca.crt")));
            assertEquals(TestMaterial.fingerprint(B01.resolve("server.crt")),
                    Handshakes.servedLeaf(session));
            assertEquals("TLSv1.3", session.getProtocol());
        }
    }

    @Test
    void b01MixedLineEndingFullChainIsServedInFileOrder() throws Exception {
        try (ReloadingTlsContext server = serving(B01, "fullchain-mixed.crt", "server.key")) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B01.resolve("ca.crt")));
            assertEquals(List.of(TestMaterial.fingerprint(B01.resolve("server.crt")),
                    TestMaterial.fingerprint(B01.resolve("ca.crt"))),
                    Handshakes.fingerprints(session.getPeerCertificates()));
        }
    }

    @Test
    void b01CrlfTrustBundleVerifiesClientCertificates() throws Exception {
        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain(B01.resolve("server.crt"))
                .privateKey(B01.resolve("server.key"))
                .trustBundle(B01.resolve("ca-crlf.crt"))
                .clientAuth(ClientAuth.REQUIRE)
                .pollInterval(Duration.ZERO)
                .reloading();
                ReloadingTlsContext client = TlsConfig.client()
                        .certificateChain(B01.resolve("client.crt"))
                        .privateKey(B01.resolve("client.key"))
                        .trustBundle(B01.resolve("ca.crt"))
                        .pollInterval(Duration.ZERO)
                        .reloading()) {
            SSLEngine serverEngine = Handshakes.tlsctxClientTo(server, client);
            assertEquals(TestMaterial.fingerprint(B01.resolve("client.crt")),
                    TestMaterial.fingerprint(serverEngine.getSession().getPeerCertificates()[0]));

            SSLContext withoutCertificate = TestMaterial.jdkClientContext(B01.resolve("ca.crt"));
            assertThrows(SSLException.class,
                    () -> Handshakes.jdkClientTo(server, withoutCertificate));
        }
    }

    @Test
    void b01ReloadFromLfToCrlfFilesOfTheSameMaterialIsNoError(@TempDir Path dir)
            throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        copy(B01.resolve("server.crt"), chain);
        copy(B01.resolve("server.key"), key);
        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            copy(B01.resolve("server-crlf.crt"), chain);
            copy(B01.resolve("server-crlf.key"), key);
            // The bytes differ, so the reload builds a new generation of the same leaf.
            assertEquals(ReloadResult.SWAPPED, server.reload());
            assertNull(server.lastError());
            assertEquals(2, server.generation());
            try (TlsContext current = server.current()) {
                assertEquals(TestMaterial.fingerprint(B01.resolve("server.crt")),
                        current.fingerprint());
            }
        }
    }

    // ---- B03: text before BEGIN ----------------------------------------------------------------

    @Test
    void b03BagAttributesBeforeChainAndKeyAreIgnored() throws Exception {
        try (ReloadingTlsContext server =
                serving(B03, "chain-bagattrs.crt", "key-bagattrs.pem")) {
            assertServesLeafAndCa(server, B03);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"chain-subject-lines.crt", "server-with-text-dump.crt"})
    void b03TextBeforeCertificatesIsIgnored(String chain) throws Exception {
        try (ReloadingTlsContext server = serving(B03, chain, "server.key")) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B03.resolve("ca.crt")));
            assertEquals(TestMaterial.fingerprint(B03.resolve("server.crt")),
                    Handshakes.servedLeaf(session));
        }
    }

    @Test
    void b03KeyStoreImportOfTheBagAttributeMaterialServesLeafAndCa() throws Exception {
        // server.key and key-bagattrs.pem hold an unencrypted PKCS#8 RSA key.
        KeyStore store = Handshakes.keyStore("PKCS12", "b03", B03.resolve("chain-bagattrs.crt"),
                B03.resolve("key-bagattrs.pem"), "RSA");
        try (ReloadingTlsContext server = TlsConfig.server()
                .keyStore(store, "b03", Handshakes.STORE_PASSWORD)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            assertServesLeafAndCa(server, B03);
        }
    }

    @Test
    void b03KeyStoreImportOfTheEncryptedTraditionalKeyServesTheLeaf(@TempDir Path dir)
            throws Exception {
        // The operator's route for a key the JDK cannot read: openssl packs it into PKCS#12.
        String password = Files.readString(B03.resolve("password.txt"));
        Path p12 = dir.resolve("b03.p12");
        Handshakes.run(dir, "openssl", "pkcs12", "-export",
                "-in", B03.resolve("chain-bagattrs.crt").toString(),
                "-inkey", B03.resolve("key-bagattrs-trad-des3.pem").toString(),
                "-passin", "pass:" + password, "-passout", "pass:" + password,
                "-name", "b03", "-out", p12.toString());
        try (ReloadingTlsContext server = TlsConfig.server()
                .keyStore(p12, "PKCS12", password.toCharArray(), "b03")
                .pollInterval(Duration.ZERO)
                .reloading()) {
            assertServesLeafAndCa(server, B03);
        }
    }

    // ---- B05: PKCS#1 RSA keys ------------------------------------------------------------------

    @Test
    void b05Pkcs1KeyLoadsWithoutBouncyCastle() throws Exception {
        assertThrows(ClassNotFoundException.class,
                () -> Class.forName("org.bouncycastle.jce.provider.BouncyCastleProvider"));
        try (ReloadingTlsContext server = serving(B05, "server.crt", "server-pkcs1.key")) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B05.resolve("ca.crt")));
            assertEquals(TestMaterial.fingerprint(B05.resolve("server.crt")),
                    Handshakes.servedLeaf(session));
        }
    }

    @Test
    void b05ClientWithPkcs1KeyIsAcceptedByAJdkServerRequiringClientCertificates()
            throws Exception {
        KeyStore serverIdentity = Handshakes.keyStore("PKCS12", "server",
                B05.resolve("server.crt"), B05.resolve("server-pkcs8.key"), "RSA");
        SSLEngine server = Handshakes.jdkContext(serverIdentity, B05.resolve("ca.crt"))
                .createSSLEngine();
        server.setUseClientMode(false);
        server.setNeedClientAuth(true);
        try (ReloadingTlsContext client = TlsConfig.client()
                .certificateChain(B05.resolve("client.crt"))
                .privateKey(B05.resolve("client-pkcs1.key"))
                .trustBundle(B05.resolve("ca.crt"))
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine clientEngine =
                    TlsSslContext.forClient(client).createSSLEngine("localhost", 1);
            new MemoryPipe(clientEngine, server, false).handshake();
            assertEquals(TestMaterial.fingerprint(B05.resolve("client.crt")),
                    TestMaterial.fingerprint(server.getSession().getPeerCertificates()[0]));
        }
    }

    // ---- B12: Ed25519 and Ed448 ----------------------------------------------------------------

    @Test
    void b12Ed25519ServerHandshakesWithTheJdkClientOverTls13() throws Exception {
        try (ReloadingTlsContext server =
                serving(B12, "server-ed25519.crt", "server-ed25519.key")) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B12.resolve("ca.crt")));
            assertEquals("TLSv1.3", session.getProtocol());
            assertEquals(TestMaterial.fingerprint(B12.resolve("server-ed25519.crt")),
                    Handshakes.servedLeaf(session));
        }
    }

    @Test
    void b12Ed25519ClientCertificateIsAccepted() throws Exception {
        KeyStore clientIdentity = Handshakes.keyStore("PKCS12", "client",
                B12.resolve("client-ed25519.crt"), B12.resolve("client-ed25519.key"), "Ed25519");
        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain(B12.resolve("server-ed25519.crt"))
                .privateKey(B12.resolve("server-ed25519.key"))
                .trustBundle(B12.resolve("ca.crt"))
                .clientAuth(ClientAuth.REQUIRE)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine client = Handshakes.jdkContext(clientIdentity, B12.resolve("ca.crt"))
                    .createSSLEngine("localhost", 1);
            client.setUseClientMode(true);
            SSLEngine serverEngine = TlsSslContext.forServer(server).createSSLEngine();
            new MemoryPipe(client, serverEngine, false).handshake();
            assertEquals(TestMaterial.fingerprint(B12.resolve("client-ed25519.crt")),
                    TestMaterial.fingerprint(serverEngine.getSession().getPeerCertificates()[0]));
        }
    }

    @Test
    void b12Ed448IsRefusedAtLoadAsAnUnsupportedKeyType() throws Exception {
        Path key = B12.resolve("server-ed448.key");
        PrivateKeyException fromFile = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .certificateChain(B12.resolve("server-ed448.crt"))
                        .privateKey(key)
                        .load());
        assertEquals(Reason.UNSUPPORTED_KEY, fromFile.reason());
        assertEquals(210, fromFile.code());
        assertEquals(key + ": unsupported private key: unsupported key type Ed448",
                fromFile.getMessage());

        PrivateKeyException fromMemory = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .certificateChain("ed448 chain",
                                Files.readAllBytes(B12.resolve("server-ed448.crt")))
                        .privateKey("ed448 key", Files.readAllBytes(key))
                        .load());
        assertEquals(Reason.UNSUPPORTED_KEY, fromMemory.reason());
        assertEquals("ed448 key: unsupported private key: unsupported key type Ed448",
                fromMemory.getMessage());

        KeyStore store = Handshakes.keyStore("PKCS12", "ed448",
                B12.resolve("server-ed448.crt"), key, "Ed448");
        PrivateKeyException fromKeyStore = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server().keyStore(store, "ed448", Handshakes.STORE_PASSWORD)
                        .load());
        assertEquals(Reason.UNSUPPORTED_KEY, fromKeyStore.reason());
        assertEquals("keystore alias \"ed448\": unsupported private key: unsupported key type "
                + "Ed448", fromKeyStore.getMessage());
    }

    // ---- B16: empty files and the wrong kind of object -----------------------------------------

    /** Each bad input: the slot it goes in, the file, the reason and the message after the path. */
    static Stream<Arguments> b16BadInputs() {
        return Stream.of(
                Arguments.of("key", "empty.key", Reason.FILE_EMPTY, "file is empty"),
                Arguments.of("key", "blank.key", Reason.FILE_EMPTY, "file is empty"),
                Arguments.of("cert", "empty.crt", Reason.FILE_EMPTY, "file is empty"),
                Arguments.of("key", "key-slot-contains-cert.pem", Reason.NO_PRIVATE_KEY,
                        "no private key found (found a certificate)"),
                Arguments.of("cert", "cert-slot-contains-key.pem", Reason.NO_CERTIFICATE,
                        "no certificate found (found a private key)"),
                Arguments.of("cert", "csr-in-cert-slot.pem", Reason.NO_CERTIFICATE,
                        "no certificate found (found a certificate request)"),
                Arguments.of("key", "two-keys.key", Reason.MULTIPLE_PRIVATE_KEYS,
                        "expected one private key, found 2"),
                Arguments.of("cert", "empty-block.crt", Reason.MALFORMED_PEM,
                        "malformed PEM: empty CERTIFICATE block"));
    }

    @ParameterizedTest
    @MethodSource("b16BadInputs")
    void b16BadInputIsRefusedAtLoadNamingThePath(String slot, String file, Reason reason,
            String problem) {
        Path bad = B16.resolve(file);
        boolean keySlot = slot.equals("key");
        TlsException error = assertThrows(TlsException.class, () -> TlsConfig.server()
                .certificateChain(keySlot ? B16.resolve("server.crt") : bad)
                .privateKey(keySlot ? bad : B16.resolve("server.key"))
                .load());
        assertEquals(reason, error.reason());
        assertEquals(bad + ": " + problem, error.getMessage());
        assertTrue(reason == Reason.NO_PRIVATE_KEY || reason == Reason.MULTIPLE_PRIVATE_KEYS
                ? error instanceof PrivateKeyException
                : error instanceof CertificateFileException, error.getClass().getName());
    }

    @Test
    void b16EveryBadInputKeepsTheOldContextOnReloadAndRestoringReloadsCleanly(
            @TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        copy(B16.resolve("server.crt"), chain);
        copy(B16.resolve("server.key"), key);
        String leaf = TestMaterial.fingerprint(B16.resolve("server.crt"));
        SSLContext jdk = TestMaterial.jdkClientContext(B16.resolve("ca.crt"));
        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            for (Arguments input : (Iterable<Arguments>) b16BadInputs()::iterator) {
                Object[] values = input.get();
                Path target = values[0].equals("key") ? key : chain;
                copy(B16.resolve((String) values[1]), target);

                TlsException error = assertThrows(TlsException.class, server::reload);
                assertEquals(values[2], error.reason(), (String) values[1]);
                assertEquals(target + ": " + values[3], error.getMessage());
                assertEquals(error.getMessage(), server.lastError());
                assertEquals(1, server.generation());
                assertEquals(leaf, Handshakes.servedLeaf(Handshakes.jdkClientTo(server, jdk)));

                copy(B16.resolve(target == key ? "server.key" : "server.crt"), target);
                assertEquals(ReloadResult.UNCHANGED, server.reload());
                assertEquals(1, server.generation());
            }
            assertEquals(1, server.liveGenerations());
        }
    }

    // ---- B18: DER where PEM is expected --------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"server-key-pkcs8.der", "server-key-pkcs1.der"})
    void b18DerCertificateAndKeyAreDetectedByContent(String key) throws Exception {
        try (ReloadingTlsContext server = serving(B18, "server.der", key)) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B18.resolve("ca.crt")));
            assertEquals(TestMaterial.fingerprint(B18.resolve("server.crt")),
                    Handshakes.servedLeaf(session));
        }
    }

    @Test
    void b18DerTrustBundleVerifiesTheServer() throws Exception {
        try (ReloadingTlsContext server = serving(B18, "server.crt", "server.key");
                ReloadingTlsContext client = TlsConfig.client()
                        .trustBundle(B18.resolve("ca.der"))
                        .pollInterval(Duration.ZERO)
                        .reloading();
                ReloadingTlsContext clientAuthServer = TlsConfig.server()
                        .certificateChain(B18.resolve("server.der"))
                        .privateKey(B18.resolve("server-key-pkcs8.der"))
                        .trustBundle(B18.resolve("ca.der"))
                        .clientAuth(ClientAuth.OPTIONAL)
                        .pollInterval(Duration.ZERO)
                        .reloading()) {
            SSLEngine serverEngine = Handshakes.tlsctxClientTo(server, client);
            assertEquals("TLSv1.3", serverEngine.getSession().getProtocol());
            SSLSession session = Handshakes.jdkClientTo(clientAuthServer,
                    TestMaterial.jdkClientContext(B18.resolve("ca.crt")));
            assertEquals(TestMaterial.fingerprint(B18.resolve("server.crt")),
                    Handshakes.servedLeaf(session));
        }
    }

    @Test
    void b18BareBase64IsRefusedForWantOfArmour() {
        Path bare = B18.resolve("server-bare-base64.txt");
        CertificateFileException error = assertThrows(CertificateFileException.class,
                () -> TlsConfig.server()
                        .certificateChain(bare)
                        .privateKey(B18.resolve("server.key"))
                        .load());
        assertEquals(Reason.MALFORMED_PEM, error.reason());
        assertEquals(bare + ": malformed PEM: no PEM BEGIN/END armour found", error.getMessage());
    }

    // ---- B19: key does not match the certificate -----------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"other-rsa.key", "other-ec.key"})
    void b19MismatchedServerKeyIsRefusedAtLoad(String otherKey) {
        Path key = B19.resolve(otherKey);
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .certificateChain(B19.resolve("server.crt"))
                        .privateKey(key)
                        .load());
        assertEquals(Reason.KEY_MISMATCH, error.reason());
        assertEquals(key + ": private key does not match the certificate's public key "
                + "(certificate " + B19.resolve("server.crt") + ")", error.getMessage());
    }

    @Test
    void b19MismatchedClientKeyIsRefusedAtLoad() {
        Path key = B19.resolve("client-other.key");
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.client()
                        .certificateChain(B19.resolve("client.crt"))
                        .privateKey(key)
                        .trustBundle(B19.resolve("ca.crt"))
                        .load());
        assertEquals(Reason.KEY_MISMATCH, error.reason());
        assertEquals(key + ": private key does not match the certificate's public key "
                + "(certificate " + B19.resolve("client.crt") + ")", error.getMessage());
    }

    @Test
    void b19MismatchedKeyOnReloadKeepsTheOldContext(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        copy(B19.resolve("server.crt"), chain);
        copy(B19.resolve("server.key"), key);
        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            copy(B19.resolve("other-rsa.key"), key);
            PrivateKeyException error = assertThrows(PrivateKeyException.class, server::reload);
            assertEquals(Reason.KEY_MISMATCH, error.reason());
            assertEquals(1, server.generation());
            assertEquals(TestMaterial.fingerprint(B19.resolve("server.crt")),
                    Handshakes.servedLeaf(Handshakes.jdkClientTo(server,
                            TestMaterial.jdkClientContext(B19.resolve("ca.crt")))));
        }
    }

    @Test
    void b19KeyStoreImportOfAMismatchedKeyIsRefusedAtLoad() throws Exception {
        // The JDK stores a key entry without checking that the key fits the certificate.
        KeyStore store = Handshakes.keyStore("PKCS12", "server", B19.resolve("server.crt"),
                B19.resolve("other-rsa.key"), "RSA");
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server().keyStore(store, "server", Handshakes.STORE_PASSWORD)
                        .load());
        assertEquals(Reason.KEY_MISMATCH, error.reason());
        assertEquals("keystore alias \"server\": private key does not match the certificate's "
                + "public key (certificate keystore alias \"server\")", error.getMessage());
    }

    // ---- B21: PKCS#12 bundles ------------------------------------------------------------------

    @Test
    void b21Pkcs12GivenToThePemApiIsNamedAsPkcs12() {
        Path p12 = B21.resolve("server-openssl3-default.p12");
        CertificateFileException asChain = assertThrows(CertificateFileException.class,
                () -> TlsConfig.server()
                        .certificateChain(p12)
                        .privateKey(B21.resolve("server.key"))
                        .load());
        assertEquals(Reason.MALFORMED_PEM, asChain.reason());
        assertEquals(p12 + ": malformed PEM: file is PKCS#12, not PEM", asChain.getMessage());

        CertificateFileException asKey = assertThrows(CertificateFileException.class,
                () -> TlsConfig.server()
                        .certificateChain(B21.resolve("server.crt"))
                        .privateKey(p12)
                        .load());
        assertEquals(Reason.MALFORMED_PEM, asKey.reason());
        assertEquals(p12 + ": malformed PEM: file is PKCS#12, not PEM", asKey.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"server-openssl3-default.p12", "server-legacy-3des-rc2.p12",
        "server-nomac.p12"})
    void b21EachPkcs12ImportsThroughTheKeyStorePath(String file) throws Exception {
        char[] password = Files.readString(B21.resolve("password.txt")).toCharArray();
        assertServesB21Leaf(TlsConfig.server()
                .keyStore(B21.resolve(file), "PKCS12", password, "server"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"server-openssl3-default.p12", "server-legacy-3des-rc2.p12",
        "server-nomac.p12"})
    void b21EachPkcs12LoadsNativelyWhateverTheJreSupports(String file) throws Exception {
        String password = Files.readString(B21.resolve("password.txt"));
        assertServesB21Leaf(TlsConfig.server().pkcs12(B21.resolve(file)).keyPassword(password));
    }

    /** A JDK client trusting B21's CA is served B21's server.crt. */
    private static void assertServesB21Leaf(TlsConfig config) throws Exception {
        try (ReloadingTlsContext server = config.pollInterval(Duration.ZERO).reloading()) {
            SSLSession session = Handshakes.jdkClientTo(server,
                    TestMaterial.jdkClientContext(B21.resolve("ca.crt")));
            assertEquals(TestMaterial.fingerprint(B21.resolve("server.crt")),
                    Handshakes.servedLeaf(session));
        }
    }

    @Test
    void b21WrongPasswordForANativePkcs12IsAWrongPassword() {
        Path p12 = B21.resolve("server-openssl3-default.p12");
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server().pkcs12(p12).keyPassword("not-the-password").load());
        assertEquals(Reason.WRONG_PASSWORD, error.reason());
        assertTrue(error.getMessage().startsWith(p12.toString()), error.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"server-openssl3-default.p12", "server-legacy-3des-rc2.p12"})
    void b21WrongPkcs12PasswordIsAWrongPassword(String file) {
        Path p12 = B21.resolve(file);
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .keyStore(p12, "PKCS12", "not-the-password".toCharArray(), "server")
                        .load());
        assertEquals(Reason.WRONG_PASSWORD, error.reason());
        assertTrue(error.getMessage().startsWith(p12 + ": wrong password for the PKCS12 key "
                + "store"), error.getMessage());
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static ReloadingTlsContext serving(Path caseDir, String chain, String key) {
        return TlsConfig.server()
                .certificateChain(caseDir.resolve(chain))
                .privateKey(caseDir.resolve(key))
                .pollInterval(Duration.ZERO)
                .reloading();
    }

    private static void assertServesLeafAndCa(ReloadingTlsContext server, Path caseDir)
            throws Exception {
        SSLSession session = Handshakes.jdkClientTo(server,
                TestMaterial.jdkClientContext(caseDir.resolve("ca.crt")));
        assertEquals(List.of(TestMaterial.fingerprint(caseDir.resolve("server.crt")),
                TestMaterial.fingerprint(caseDir.resolve("ca.crt"))),
                Handshakes.fingerprints(session.getPeerCertificates()));
    }

    private static void copy(Path from, Path to) throws Exception {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
}

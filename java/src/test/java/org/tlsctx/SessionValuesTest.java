package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The values a server session reports once the handshake ends, each compared with what the JDK
 * client negotiated or sent: names of versions and suites, the chain we served (chosen by SNI
 * name, and across a reload), the SNI name and the ALPN protocol.
 */
class SessionValuesTest {
    private static final Path B05 = TestMaterial.caseDir("B05");
    private static final Path B01 = TestMaterial.caseDir("B01");
    private static final Path B16 = TestMaterial.caseDir("B16");

    @ParameterizedTest
    @CsvSource({
        "TLSv1.3, TLS_AES_128_GCM_SHA256, B05",
        "TLSv1.3, TLS_AES_256_GCM_SHA384, B05",
        "TLSv1.3, TLS_CHACHA20_POLY1305_SHA256, B05",
        "TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, B05",
        "TLSv1.2, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, B05",
        "TLSv1.2, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, B05",
        "TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, B16",
        "TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, B16",
        "TLSv1.2, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, B16",
    })
    void sessionNamesTheNegotiatedVersionAndSuite(String protocol, String suite, String identity)
            throws Exception {
        Path dir = TestMaterial.caseDir(identity);
        Path key = identity.equals("B05") ? dir.resolve("server-pkcs8.key")
                : dir.resolve("server.key");
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(dir.resolve("server.crt"))
                .privateKey(key)
                .protocols(protocol)
                .cipherSuites(suite)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine client = jdkClient(dir, protocol, null);
            params(client, p -> p.setCipherSuites(new String[] {suite}));
            TlsEngine server = handshake(reloading, client);

            SSLSession session = server.getSession();
            assertEquals(protocol, session.getProtocol());
            assertEquals(suite, session.getCipherSuite());
            assertEquals(client.getSession().getCipherSuite(), session.getCipherSuite());
            assertEquals("", server.getApplicationProtocol());
            assertThrows(SSLPeerUnverifiedException.class, session::getPeerCertificates);
        }
    }

    @Test
    void sessionReportsTheSniNameOnlyWhenTheClientSentOne() throws Exception {
        try (ReloadingTlsContext reloading = serverContext(B05.resolve("server.crt"),
                B05.resolve("server-pkcs8.key"))) {
            TlsEngine named = handshake(reloading, jdkClient(B05, "TLSv1.3", "www.example.com"));
            assertEquals(List.of(new SNIHostName("www.example.com")),
                    ((ExtendedSSLSession) named.getSession()).getRequestedServerNames());

            TlsEngine unnamed = handshake(reloading, jdkClient(B05, "TLSv1.3", null));
            assertEquals(List.of(),
                    ((ExtendedSSLSession) unnamed.getSession()).getRequestedServerNames());
        }
    }

    @Test
    void sessionReportsTheNegotiatedApplicationProtocol() throws Exception {
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .applicationProtocols("h2", "http/1.1")
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine http11 = jdkClient(B05, "TLSv1.3", null);
            params(http11, p -> p.setApplicationProtocols(new String[] {"http/1.1"}));
            TlsEngine server = handshake(reloading, http11);
            assertEquals("http/1.1", server.getApplicationProtocol());
            assertEquals("http/1.1", http11.getApplicationProtocol());

            SSLEngine h2 = jdkClient(B05, "TLSv1.2", null);
            params(h2, p -> p.setApplicationProtocols(new String[] {"h2", "http/1.1"}));
            server = handshake(reloading, h2);
            assertEquals("h2", server.getApplicationProtocol());
            assertEquals("TLSv1.2", server.getSession().getProtocol());

            SSLEngine none = jdkClient(B05, "TLSv1.3", null);
            server = handshake(reloading, none);
            assertEquals("", server.getApplicationProtocol());
        }
    }

    @Test
    void localCertificatesAreTheChainChosenByTheClientsSniName() throws Exception {
        String main = TestMaterial.fingerprint(B05.resolve("server.crt"));
        String named = TestMaterial.fingerprint(B01.resolve("server.crt"));
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .identityForName("www.example.com", B01.resolve("server.crt"),
                        B01.resolve("server.key"))
                .pollInterval(Duration.ZERO)
                .reloading()) {
            SSLEngine byName = jdkClient(B01, "TLSv1.3", "WWW.example.com");
            TlsEngine first = handshake(reloading, byName);
            SSLEngine unnamed = jdkClient(B05, "TLSv1.3", null);
            TlsEngine second = handshake(reloading, unnamed);
            SSLEngine otherName = jdkClient(B05, "TLSv1.2", "other.example.com");
            TlsEngine third = handshake(reloading, otherName);
            TlsEngine fourth = handshake(reloading, jdkClient(B01, "TLSv1.2", "www.example.com"));

            assertEquals(named, leaf(first));
            assertEquals(TestMaterial.fingerprint(byName.getSession().getPeerCertificates()[0]),
                    leaf(first), "what the client was served");
            assertEquals(main, leaf(second));
            assertEquals(main, leaf(third));
            assertEquals(named, leaf(fourth));
            // Each identity's chain is parsed once per generation, however the names alternate.
            assertSame(first.getSession().getLocalCertificates()[0],
                    fourth.getSession().getLocalCertificates()[0]);
            assertSame(second.getSession().getLocalCertificates()[0],
                    third.getSession().getLocalCertificates()[0]);
        }
    }

    @Test
    void localCertificatesFollowTheGenerationOfEachSession(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(B05.resolve("server-pkcs8.key"), key, StandardCopyOption.REPLACE_EXISTING);
        String before = TestMaterial.fingerprint(B05.resolve("server.crt"));
        String after = TestMaterial.fingerprint(B01.resolve("server.crt"));

        try (ReloadingTlsContext reloading = serverContext(chain, key)) {
            TlsEngine first = handshake(reloading, jdkClient(B05, "TLSv1.3", null));
            TlsEngine second = handshake(reloading, jdkClient(B05, "TLSv1.3", null));
            assertEquals(before, leaf(first));

            Files.copy(B01.resolve("server.crt"), chain, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(B01.resolve("server.key"), key, StandardCopyOption.REPLACE_EXISTING);
            assertEquals(ReloadResult.SWAPPED, reloading.reload());

            TlsEngine third = handshake(reloading, jdkClient(B01, "TLSv1.3", null));
            assertEquals(2, third.generation());
            assertEquals(after, leaf(third));
            // A session made before the reload keeps the chain it was served with, also when it
            // is first asked after the reload and after a session of the new generation was.
            assertEquals(1, second.generation());
            assertEquals(before, leaf(second));
            assertEquals(before, leaf(first));
        }
    }

    private static ReloadingTlsContext serverContext(Path chain, Path key) {
        return TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading();
    }

    private static TlsEngine handshake(ReloadingTlsContext reloading, SSLEngine client)
            throws Exception {
        TlsEngine server = (TlsEngine) TlsSslContext.forServer(reloading).createSSLEngine();
        server.setUseClientMode(false);
        new MemoryPipe(client, server, false).handshake();
        return server;
    }

    private static String leaf(SSLEngine engine) throws Exception {
        return TestMaterial.fingerprint(engine.getSession().getLocalCertificates()[0]);
    }

    /** A JDK client trusting the case's CA, sending {@code serverName} as SNI when not null. */
    private static SSLEngine jdkClient(Path caseDir, String protocol, String serverName)
            throws Exception {
        SSLEngine client = TestMaterial.jdkClientContext(caseDir.resolve("ca.crt"))
                .createSSLEngine();
        client.setUseClientMode(true);
        params(client, p -> {
            p.setProtocols(new String[] {protocol});
            p.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
        });
        return client;
    }

    private static void params(SSLEngine engine, java.util.function.Consumer<SSLParameters> edit) {
        SSLParameters params = engine.getSSLParameters();
        edit.accept(params);
        engine.setSSLParameters(params);
    }
}

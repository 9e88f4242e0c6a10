package org.tlsctx.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import org.tlsctx.ReloadingTlsContext;
import org.tlsctx.TlsConfig;
import org.tlsctx.TlsSslContext;

/**
 * Makes client and server engines of the three implementations compared, all from the same
 * certificate chain and private key. Close it to free the native contexts.
 */
final class Engines implements AutoCloseable {
    /** Host the clients verify; the benchmark certificates name it. */
    static final String HOST = "localhost";
    static final int PORT = 8443;

    private final Implementation implementation;
    private final String protocol;
    private final String cipherSuite;
    private final ReloadingTlsContext tlsctxServer;
    private final ReloadingTlsContext tlsctxClient;
    private final SSLContext serverContext;
    private final SSLContext clientContext;
    private final SslContext nettyServer;
    private final SslContext nettyClient;

    /**
     * @param material the certificate, key and the CA that issued the certificate
     * @param protocol {@code TLSv1.3} or {@code TLSv1.2}; clients offer only this version
     * @param cipherSuite the one suite clients offer, so every server negotiates the same
     */
    Engines(Implementation implementation, Material material, String protocol, String cipherSuite)
            throws IOException, GeneralSecurityException {
        this.implementation = implementation;
        this.protocol = protocol;
        this.cipherSuite = cipherSuite;

        PrivateKey key = material.privateKey();
        X509Certificate certificate = material.certificate();
        X509Certificate authority = material.authority();
        KeyStore identity = KeyStore.getInstance("PKCS12");
        identity.load(null, null);
        identity.setKeyEntry("server", key, new char[0], new Certificate[] {certificate});
        // The default algorithm (SunX509), as Netty's SslProvider.JDK uses: it reads the key
        // once. The PKIX key manager takes it from the PKCS#12 store on every handshake,
        // running the store's PBKDF2 each time, which would bill the JDK server for work a
        // broker's JDK server does not do.
        KeyManagerFactory keys = KeyManagerFactory.getInstance(
                KeyManagerFactory.getDefaultAlgorithm());
        keys.init(identity, new char[0]);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", authority);
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
        trustManagers.init(trust);

        // The JDK client is the peer of every server in the handshake benchmark.
        clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, trustManagers.getTrustManagers(), null);
        // Clients never resume (they have no peer host), but the JDK still caches every session
        // they receive, 20,480 by default: one is enough, so the client's heap stays flat.
        clientContext.getClientSessionContext().setSessionCacheSize(1);

        switch (implementation) {
            case TLSCTX:
                tlsctxServer = TlsConfig.server()
                        .certificateChain(material.certificatePath)
                        .privateKey(material.privateKeyPath)
                        .protocols(protocol)
                        .cipherSuites(cipherSuite)
                        .pollInterval(Duration.ZERO)
                        .reloading();
                tlsctxClient = TlsConfig.client()
                        .trustBundle(material.authorityPath)
                        .protocols(protocol)
                        .cipherSuites(cipherSuite)
                        .pollInterval(Duration.ZERO)
                        .reloading();
                serverContext = TlsSslContext.forServer(tlsctxServer);
                nettyServer = null;
                nettyClient = null;
                break;
            case JDK:
                serverContext = SSLContext.getInstance("TLS");
                serverContext.init(keys.getKeyManagers(), null, null);
                tlsctxServer = null;
                tlsctxClient = null;
                nettyServer = null;
                nettyClient = null;
                break;
            case TCNATIVE:
                nettyServer = SslContextBuilder.forServer(key, certificate)
                        .sslProvider(SslProvider.OPENSSL)
                        .protocols(protocol)
                        .ciphers(java.util.List.of(cipherSuite))
                        .build();
                nettyClient = SslContextBuilder.forClient()
                        .sslProvider(SslProvider.OPENSSL)
                        .trustManager(authority)
                        .protocols(protocol)
                        .ciphers(java.util.List.of(cipherSuite))
                        .build();
                tlsctxServer = null;
                tlsctxClient = null;
                serverContext = null;
                break;
            default:
                throw new IllegalArgumentException(implementation.toString());
        }
    }

    /** A server engine of the implementation under test. */
    SSLEngine server() {
        switch (implementation) {
            case TCNATIVE:
                return nettyServer.newEngine(ByteBufAllocator.DEFAULT);
            default:
                SSLEngine engine = serverContext.createSSLEngine();
                engine.setUseClientMode(false);
                return engine;
        }
    }

    /**
     * A JDK client engine offering only the chosen version and suite. It has no peer host, so it
     * never offers to resume a session: every handshake is a full one.
     */
    SSLEngine jdkClient() {
        SSLEngine engine = clientContext.createSSLEngine();
        engine.setUseClientMode(true);
        engine.setEnabledProtocols(new String[] {protocol});
        engine.setEnabledCipherSuites(new String[] {cipherSuite});
        return engine;
    }

    /** A client engine of the implementation under test, for the bulk benchmark. */
    SSLEngine sameKindClient() throws GeneralSecurityException {
        switch (implementation) {
            case TLSCTX:
                return TlsSslContext.forClient(tlsctxClient).createSSLEngine(HOST, PORT);
            case TCNATIVE:
                return nettyClient.newEngine(ByteBufAllocator.DEFAULT, HOST, PORT);
            default:
                SSLEngine engine = jdkClient();
                return engine;
        }
    }

    /** Frees what a native engine holds beyond its close. */
    static void release(SSLEngine engine) {
        ReferenceCountUtil.release(engine);
    }

    @Override
    public void close() {
        if (tlsctxServer != null) {
            tlsctxServer.close();
        }
        if (tlsctxClient != null) {
            tlsctxClient.close();
        }
        ReferenceCountUtil.release(nettyServer);
        ReferenceCountUtil.release(nettyClient);
    }

    /** The server engines compared. */
    enum Implementation {
        TLSCTX,
        JDK,
        TCNATIVE
    }

    /** A server identity read from PEM files, and the CA that issued it. */
    static final class Material {
        final Path certificatePath;
        final Path privateKeyPath;
        final Path authorityPath;

        Material(Path certificatePath, Path privateKeyPath, Path authorityPath) {
            this.certificatePath = certificatePath;
            this.privateKeyPath = privateKeyPath;
            this.authorityPath = authorityPath;
        }

        /**
         * The material of a case directory under {@code -Dtlsctx.bench.cases}: B16 holds the
         * ECDSA P-256 identity, B05 the RSA-2048 one (its key in PKCS#8 form).
         */
        static Material forKey(String keyType) {
            Path cases = Path.of(System.getProperty("tlsctx.bench.cases", "../shared/cases"));
            switch (keyType) {
                case "ecdsa-p256":
                    Path b16 = cases.resolve("B16");
                    return new Material(b16.resolve("server.crt"), b16.resolve("server.key"),
                            b16.resolve("ca.crt"));
                case "rsa-2048":
                    Path b05 = cases.resolve("B05");
                    return new Material(b05.resolve("server.crt"),
                            b05.resolve("server-pkcs8.key"), b05.resolve("ca.crt"));
                default:
                    throw new IllegalArgumentException("unknown key type " + keyType);
            }
        }

        X509Certificate certificate() throws IOException, GeneralSecurityException {
            return readCertificate(certificatePath);
        }

        X509Certificate authority() throws IOException, GeneralSecurityException {
            return readCertificate(authorityPath);
        }

        /** Reads an unencrypted PKCS#8 PEM key, RSA or EC. */
        PrivateKey privateKey() throws IOException, GeneralSecurityException {
            String pem = Files.readString(privateKeyPath);
            String body = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "")
                    .replaceAll("\\s", "");
            PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body));
            try {
                return KeyFactory.getInstance("EC").generatePrivate(spec);
            } catch (GeneralSecurityException notEc) {
                return KeyFactory.getInstance("RSA").generatePrivate(spec);
            }
        }

        private static X509Certificate readCertificate(Path path)
                throws IOException, GeneralSecurityException {
            try (InputStream in = Files.newInputStream(path)) {
                return (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(in);
            }
        }
    }
}

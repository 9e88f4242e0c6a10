package org.tlsctx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Certificates and JDK contexts for the tests, from the acceptance cases under shared/. */
final class TestMaterial {
    private static final char[] STORE_PASSWORD = "test-only".toCharArray();

    private TestMaterial() {}

    /** The acceptance-case folder {@code Bxx}. */
    static Path caseDir(String name) {
        Path cases = Paths.get(System.getProperty("tlsctx.cases", "../../shared/cases"));
        Path dir = cases.resolve(name).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("acceptance case folder not found: " + dir
                    + " (set -Dtlsctx.cases)");
        }
        return dir;
    }

    static X509Certificate certificate(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(in);
        }
    }

    /** Lowercase hex SHA-256 of a certificate's DER encoding. */
    static String fingerprint(Certificate certificate) throws GeneralSecurityException {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
        return HexFormat.of().formatHex(digest);
    }

    static String fingerprint(Path pem) throws IOException, GeneralSecurityException {
        return fingerprint(certificate(pem));
    }

    /** A JDK client context trusting exactly the given CA certificates. */
    static SSLContext jdkClientContext(Path... caCertificates)
            throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (int i = 0; i < caCertificates.length; i++) {
            trust.setCertificateEntry("ca-" + i, certificate(caCertificates[i]));
        }
        TrustManagerFactory tmf =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** A JDK server context presenting {@code certificate} with an unencrypted PKCS#8 key. */
    static SSLContext jdkServerContext(Path certificate, Path pkcs8Key)
            throws IOException, GeneralSecurityException {
        String pem = Files.readString(pkcs8Key, StandardCharsets.US_ASCII);
        String body = pem.replace("-----BEGIN PRIVATE KEY-----", "")
                .replace("-----END PRIVATE KEY-----", "")
                .replaceAll("\\s", "");
        PrivateKey key = KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
        KeyStore identity = KeyStore.getInstance("PKCS12");
        identity.load(null, null);
        identity.setKeyEntry("server", key, STORE_PASSWORD,
                new Certificate[] {certificate(certificate)});
        KeyManagerFactory kmf =
                KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(identity, STORE_PASSWORD);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return context;
    }
}

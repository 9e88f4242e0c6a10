package org.tlsctx;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Handshakes between a tlsctx engine and a JDK engine in memory, and the JDK key stores the
 * tests build from the acceptance cases' PEM files.
 */
final class Handshakes {
    static final char[] STORE_PASSWORD = "test-only".toCharArray();

    private static final Pattern PEM_BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

    private Handshakes() {}

    /**
     * A TLS 1.3 handshake from a JDK client (verifying the name {@code localhost}) to a tlsctx
     * server.
     *
     * @return the client's session: the served chain is its peer certificates
     */
    static SSLSession jdkClientTo(ReloadingTlsContext server, SSLContext jdk) throws Exception {
        return jdkClientTo(server, jdk, params -> params.setProtocols(new String[] {"TLSv1.3"}));
    }

    /** A handshake from a JDK client, its parameters adjusted by {@code tweak}. */
    static SSLSession jdkClientTo(ReloadingTlsContext server, SSLContext jdk,
            Consumer<SSLParameters> tweak) throws Exception {
        SSLEngine client = jdk.createSSLEngine("localhost", 1);
        client.setUseClientMode(true);
        SSLParameters params = client.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        tweak.accept(params);
        client.setSSLParameters(params);
        SSLEngine serverEngine = TlsSslContext.forServer(server).createSSLEngine();
        new MemoryPipe(client, serverEngine, false).handshake();
        return client.getSession();
    }

    /** A handshake between a tlsctx client and a tlsctx server; returns the server engine. */
    static SSLEngine tlsctxClientTo(ReloadingTlsContext server, ReloadingTlsContext client)
            throws Exception {
        SSLEngine clientEngine = TlsSslContext.forClient(client).createSSLEngine("localhost", 1);
        SSLEngine serverEngine = TlsSslContext.forServer(server).createSSLEngine();
        new MemoryPipe(clientEngine, serverEngine, true).handshake();
        return serverEngine;
    }

    /** The SHA-256 fingerprints of a chain, in order. */
    static List<String> fingerprints(Certificate[] chain) throws GeneralSecurityException {
        List<String> fingerprints = new ArrayList<>();
        for (Certificate certificate : chain) {
            fingerprints.add(TestMaterial.fingerprint(certificate));
        }
        return fingerprints;
    }

    /** The fingerprint of the leaf a session's peer presented. */
    static String servedLeaf(SSLSession session) throws Exception {
        return TestMaterial.fingerprint(session.getPeerCertificates()[0]);
    }

    /** A JDK client context that accepts any server certificate. */
    static SSLContext jdkClientTrustingAll() throws GeneralSecurityException {
        X509TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {trustAll}, null);
        return context;
    }

    /** A JDK context presenting the key store's entries and trusting the CA certificates. */
    static SSLContext jdkContext(KeyStore identity, Path... caCertificates)
            throws IOException, GeneralSecurityException {
        KeyManagerFactory kmf =
                KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(identity, STORE_PASSWORD);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (int i = 0; i < caCertificates.length; i++) {
            trust.setCertificateEntry("ca-" + i, TestMaterial.certificate(caCertificates[i]));
        }
        TrustManagerFactory tmf =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    /**
     * A key store of {@code type} holding one entry {@code alias}: the unencrypted PKCS#8 key
     * of {@code keyFile} (text around the PEM block is ignored) with the certificates of
     * {@code chainFile}, protected by {@link #STORE_PASSWORD}.
     */
    static KeyStore keyStore(String type, String alias, Path chainFile, Path keyFile,
            String keyAlgorithm) throws IOException, GeneralSecurityException {
        byte[] pkcs8 = pemBlocks(keyFile, "PRIVATE KEY").get(0);
        PrivateKey key = KeyFactory.getInstance(keyAlgorithm)
                .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        KeyStore store = KeyStore.getInstance(type);
        store.load(null, null);
        store.setKeyEntry(alias, key, STORE_PASSWORD, certificates(chainFile));
        return store;
    }

    /** The certificates of a PEM file, in file order, whatever text surrounds them. */
    static Certificate[] certificates(Path pem) throws IOException, GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<Certificate> chain = new ArrayList<>();
        for (byte[] der : pemBlocks(pem, "CERTIFICATE")) {
            chain.add(factory.generateCertificate(new java.io.ByteArrayInputStream(der)));
        }
        return chain.toArray(new Certificate[0]);
    }

    /** The DER contents of the PEM blocks labelled {@code label}, in file order. */
    static List<byte[]> pemBlocks(Path pem, String label) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        List<byte[]> blocks = new ArrayList<>();
        Matcher matcher = PEM_BLOCK.matcher(text);
        while (matcher.find()) {
            if (matcher.group(1).equals(label)) {
                blocks.add(Base64.getMimeDecoder().decode(matcher.group(2)));
            }
        }
        return blocks;
    }

    /** Runs a command to its end and fails with its output when it does not exit with 0. */
    static void run(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(),
                StandardCharsets.UTF_8);
        int exit = process.waitFor();
        if (exit != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + exit
                    + ":\n" + output);
        }
    }
}

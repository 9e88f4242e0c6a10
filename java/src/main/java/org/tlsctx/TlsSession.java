package org.tlsctx;

import java.io.ByteArrayInputStream;
import java.security.Principal;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSessionBindingEvent;
import javax.net.ssl.SSLSessionBindingListener;
import javax.net.ssl.SSLSessionContext;

/**
 * The session of one {@link TlsEngine}. Its values are copied from the native connection once,
 * when the handshake ends, so they stay readable after the connection is freed.
 *
 * <p>There is no session id (resumption is done by rustls) and {@link #invalidate()} does
 * nothing.
 */
final class TlsSession extends ExtendedSSLSession {
    /** The largest TLS record on the wire: 5 header bytes + 2^14 + 256 expansion + slack. */
    static final int PACKET_BUFFER_SIZE = 16709;
    /** The largest plaintext of one record. */
    static final int APPLICATION_BUFFER_SIZE = 16384;

    private static final X509Certificate[] NO_CERTIFICATES = new X509Certificate[0];

    private final TlsEngine engine;
    private final SSLSessionContext context;
    private final long creationTime = System.currentTimeMillis();
    private final Map<String, Object> values = new ConcurrentHashMap<>();

    private volatile String protocol = "NONE";
    private volatile String cipherSuite = "SSL_NULL_WITH_NULL_NULL";
    private volatile X509Certificate[] peerCertificates = NO_CERTIFICATES;
    /** Our chain as the connection reported it; parsed on first use into localCertificates. */
    private volatile byte[][] localDers;
    private volatile X509Certificate[] localCertificates = NO_CERTIFICATES;
    private volatile List<SNIServerName> requestedServerNames = List.of();
    private volatile long lastAccessedTime = creationTime;

    TlsSession(TlsEngine engine, SSLSessionContext context) {
        this.engine = engine;
        this.context = context;
    }

    /** Copies the negotiated values from {@code connection}; called once the handshake ends. */
    void capture(NativeConnection connection, boolean server) throws CertificateException {
        String negotiatedProtocol = connection.protocol();
        String negotiatedSuite = connection.cipherSuite();
        X509Certificate[] peer = parse(connection.peerCertificates());
        byte[][] local = connection.localCertificates();
        String sni = server ? connection.serverName() : null;

        protocol = negotiatedProtocol == null ? "NONE" : negotiatedProtocol;
        cipherSuite = negotiatedSuite == null ? "SSL_NULL_WITH_NULL_NULL" : negotiatedSuite;
        peerCertificates = peer;
        localCertificates = null;
        localDers = local;
        requestedServerNames = serverNames(sni);
        lastAccessedTime = System.currentTimeMillis();
    }

    @Override
    public byte[] getId() {
        return new byte[0];
    }

    @Override
    public SSLSessionContext getSessionContext() {
        return context;
    }

    @Override
    public long getCreationTime() {
        return creationTime;
    }

    @Override
    public long getLastAccessedTime() {
        return lastAccessedTime;
    }

    /** Does nothing: resumption is managed by rustls, outside this session object. */
    @Override
    public void invalidate() {}

    @Override
    public boolean isValid() {
        return true;
    }

    @Override
    public void putValue(String name, Object value) {
        if (name == null || value == null) {
            throw new IllegalArgumentException("name and value must not be null");
        }
        Object previous = values.put(name, value);
        if (value instanceof SSLSessionBindingListener) {
            ((SSLSessionBindingListener) value).valueBound(new SSLSessionBindingEvent(this, name));
        }
        if (previous instanceof SSLSessionBindingListener) {
            ((SSLSessionBindingListener) previous)
                    .valueUnbound(new SSLSessionBindingEvent(this, name));
        }
    }

    @Override
    public Object getValue(String name) {
        if (name == null) {
            throw new IllegalArgumentException("name must not be null");
        }
        return values.get(name);
    }

    @Override
    public void removeValue(String name) {
        if (name == null) {
            throw new IllegalArgumentException("name must not be null");
        }
        Object previous = values.remove(name);
        if (previous instanceof SSLSessionBindingListener) {
            ((SSLSessionBindingListener) previous)
                    .valueUnbound(new SSLSessionBindingEvent(this, name));
        }
    }

    @Override
    public String[] getValueNames() {
        return values.keySet().toArray(new String[0]);
    }

    @Override
    public Certificate[] getPeerCertificates() throws SSLPeerUnverifiedException {
        X509Certificate[] peer = peerCertificates;
        if (peer.length == 0) {
            throw new SSLPeerUnverifiedException("the peer presented no certificate");
        }
        return peer.clone();
    }

    @Override
    public Certificate[] getLocalCertificates() {
        X509Certificate[] local = localChain();
        return local.length == 0 ? null : local.clone();
    }

    /**
     * Not supported: the {@code javax.security.cert} API was removed from use in Java 15.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    @Deprecated
    @SuppressWarnings("removal")
    public javax.security.cert.X509Certificate[] getPeerCertificateChain() {
        throw new UnsupportedOperationException(
                "javax.security.cert is not supported: use getPeerCertificates()");
    }

    @Override
    public Principal getPeerPrincipal() throws SSLPeerUnverifiedException {
        X509Certificate[] peer = peerCertificates;
        if (peer.length == 0) {
            throw new SSLPeerUnverifiedException("the peer presented no certificate");
        }
        return peer[0].getSubjectX500Principal();
    }

    @Override
    public Principal getLocalPrincipal() {
        X509Certificate[] local = localChain();
        return local.length == 0 ? null : local[0].getSubjectX500Principal();
    }

    @Override
    public String getCipherSuite() {
        return cipherSuite;
    }

    @Override
    public String getProtocol() {
        return protocol;
    }

    @Override
    public String getPeerHost() {
        return engine.getPeerHost();
    }

    @Override
    public int getPeerPort() {
        return engine.getPeerPort();
    }

    @Override
    public int getPacketBufferSize() {
        return PACKET_BUFFER_SIZE;
    }

    @Override
    public int getApplicationBufferSize() {
        return APPLICATION_BUFFER_SIZE;
    }

    /** Not recorded: rustls chooses the signature scheme itself. Always empty. */
    @Override
    public String[] getLocalSupportedSignatureAlgorithms() {
        return new String[0];
    }

    /** Not recorded: rustls chooses the signature scheme itself. Always empty. */
    @Override
    public String[] getPeerSupportedSignatureAlgorithms() {
        return new String[0];
    }

    /** The SNI host name the client sent (server side), once the handshake has ended. */
    @Override
    public List<SNIServerName> getRequestedServerNames() {
        return requestedServerNames;
    }

    /**
     * Our certificate chain, parsed when first asked for: every connection on a generation
     * presents the same chain, so it is parsed once per chain ({@link LocalChain}), not once per
     * handshake.
     */
    private X509Certificate[] localChain() {
        X509Certificate[] local = localCertificates;
        if (local == null) {
            local = LocalChain.of(localDers);
            localCertificates = local;
        }
        return local;
    }

    /** The last local chain parsed, shared by the sessions that present the same DER bytes. */
    private static final class LocalChain {
        private static volatile LocalChain last;

        private final byte[][] ders;
        private final X509Certificate[] certificates;

        private LocalChain(byte[][] ders, X509Certificate[] certificates) {
            this.ders = ders;
            this.certificates = certificates;
        }

        static X509Certificate[] of(byte[][] ders) {
            if (ders == null || ders.length == 0) {
                return NO_CERTIFICATES;
            }
            LocalChain chain = last;
            if (chain != null && Arrays.deepEquals(chain.ders, ders)) {
                return chain.certificates;
            }
            X509Certificate[] certificates;
            try {
                certificates = parse(ders);
            } catch (CertificateException e) {
                // rustls and our loader parsed these certificates before serving them.
                throw new IllegalStateException("the local certificate chain does not parse", e);
            }
            last = new LocalChain(ders, certificates);
            return certificates;
        }
    }

    private static X509Certificate[] parse(byte[][] ders) throws CertificateException {
        if (ders == null || ders.length == 0) {
            return NO_CERTIFICATES;
        }
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        X509Certificate[] certificates = new X509Certificate[ders.length];
        for (int i = 0; i < ders.length; i++) {
            certificates[i] = (X509Certificate) factory.generateCertificate(
                    new ByteArrayInputStream(ders[i]));
        }
        return certificates;
    }

    private static List<SNIServerName> serverNames(String sni) {
        if (sni == null || sni.isEmpty()) {
            return List.of();
        }
        try {
            return List.of(new SNIHostName(sni));
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }
}

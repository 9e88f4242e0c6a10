package org.tlsctx;

import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

/**
 * The certificate chain one identity of one generation presents, leaf first: copied from the
 * native side once and parsed when a session is first asked for it. Every connection of the
 * generation that was served this identity shares the object, so neither happens per handshake.
 */
final class ServedChain {
    static final X509Certificate[] NO_CERTIFICATES = new X509Certificate[0];

    private final long generation;
    private final byte[][] ders;
    private volatile X509Certificate[] certificates;

    ServedChain(long generation, byte[][] ders) {
        this.generation = generation;
        this.ders = ders;
    }

    long generation() {
        return generation;
    }

    /** The chain, parsed on the first call; callers must not modify the array. */
    X509Certificate[] certificates() {
        X509Certificate[] parsed = certificates;
        if (parsed == null) {
            try {
                parsed = parse(ders);
            } catch (CertificateException e) {
                // rustls and our loader parsed these certificates before serving them.
                throw new IllegalStateException("the local certificate chain does not parse", e);
            }
            certificates = parsed;
        }
        return parsed;
    }

    /** Parses DER certificates, leaf first; none for null or empty. */
    static X509Certificate[] parse(byte[][] ders) throws CertificateException {
        if (ders == null || ders.length == 0) {
            return NO_CERTIFICATES;
        }
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        X509Certificate[] parsed = new X509Certificate[ders.length];
        for (int i = 0; i < ders.length; i++) {
            parsed[i] = (X509Certificate) factory.generateCertificate(
                    new ByteArrayInputStream(ders[i]));
        }
        return parsed;
    }
}

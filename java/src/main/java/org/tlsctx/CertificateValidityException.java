package org.tlsctx;

/**
 * The leaf certificate is outside its validity period: it has expired, or it is not valid yet,
 * beyond the clock skew tlsctx tolerates.
 *
 * <p>{@link #reason()} is {@link Reason#CERTIFICATE_EXPIRED} or
 * {@link Reason#CERTIFICATE_NOT_YET_VALID}; the message names the certificate chain's path, the
 * date that was crossed and the current date. A first load may serve an expired leaf when
 * {@link TlsConfig#allowExpiredLeaf(boolean)} is set; a reload never does.
 */
public class CertificateValidityException extends TlsException {
    private static final long serialVersionUID = 1L;

    CertificateValidityException(int code, String message) {
        super(code, message);
    }
}

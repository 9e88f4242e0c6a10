package org.tlsctx;

/**
 * Certificate material cannot be used as read: a certificate chain, private key or trust bundle
 * file is missing, unreadable, empty or not PEM/DER, or a certificate in it cannot be parsed.
 *
 * <p>{@link #reason()} is one of {@link Reason#FILE_NOT_FOUND}, {@link Reason#FILE_UNREADABLE},
 * {@link Reason#FILE_EMPTY}, {@link Reason#MALFORMED_PEM}, {@link Reason#NO_CERTIFICATE} or
 * {@link Reason#INVALID_CERTIFICATE}; the message starts with the path (or, for material handed
 * over in memory, its name).
 */
public class CertificateFileException extends TlsException {
    private static final long serialVersionUID = 1L;

    CertificateFileException(int code, String message) {
        super(code, message);
    }
}

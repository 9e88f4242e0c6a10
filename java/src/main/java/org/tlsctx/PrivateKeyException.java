package org.tlsctx;

/**
 * The private key cannot be used: none or several in the file, encrypted without a password or
 * with a different one, an encryption scheme or key type that is not supported, or a key that
 * does not belong to the leaf certificate.
 *
 * <p>{@link #reason()} is one of {@link Reason#NO_PRIVATE_KEY},
 * {@link Reason#MULTIPLE_PRIVATE_KEYS}, {@link Reason#KEY_ENCRYPTED},
 * {@link Reason#WRONG_PASSWORD}, {@link Reason#UNSUPPORTED_ENCRYPTION},
 * {@link Reason#UNSUPPORTED_KEY} or {@link Reason#KEY_MISMATCH}; the message starts with the
 * key's path (or, for material handed over in memory, its name).
 */
public class PrivateKeyException extends TlsException {
    private static final long serialVersionUID = 1L;

    PrivateKeyException(int code, String message) {
        super(code, message);
    }
}

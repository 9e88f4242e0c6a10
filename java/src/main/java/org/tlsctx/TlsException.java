package org.tlsctx;

/**
 * A failure reported by the native library: loading, reloading, or a TLS protocol error.
 *
 * <p>{@link #code()} is the native result code (the {@code tls_result} values of the C header)
 * and {@link #reason()} the same code as a {@link Reason} to switch on; the message names the
 * file and the problem. Failures are thrown as one of the subclasses by category:
 * {@link CertificateFileException} (a file that cannot be read or holds no usable certificate),
 * {@link PrivateKeyException} (the private key is missing, encrypted, unsupported or does not
 * match), {@link CertificateValidityException} (the leaf is outside its validity period) and
 * {@link TlsConfigException} (settings that cannot work together); other failures are thrown as
 * {@code TlsException} itself.
 */
public class TlsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The native result code; part of the serialized form. */
    private final int code;

    /**
     * Creates an exception with a native result code and a message. The native library throws
     * through {@link #fromNative(int, String)}, which picks the subclass for the code.
     *
     * @param code the native result code
     * @param message what failed, naming the file where one is involved
     */
    public TlsException(int code, String message) {
        super(message);
        this.code = code;
    }

    /**
     * Creates the exception for a native failure, as the subclass of the code's category. The
     * native library calls this factory for every error it throws.
     *
     * @param code the native result code
     * @param message what failed, naming the file where one is involved
     * @return the exception to throw
     */
    static TlsException fromNative(int code, String message) {
        switch (Reason.of(code)) {
            case FILE_NOT_FOUND:
            case FILE_UNREADABLE:
            case FILE_EMPTY:
            case MALFORMED_PEM:
            case NO_CERTIFICATE:
            case INVALID_CERTIFICATE:
                return new CertificateFileException(code, message);
            case NO_PRIVATE_KEY:
            case MULTIPLE_PRIVATE_KEYS:
            case KEY_ENCRYPTED:
            case WRONG_PASSWORD:
            case UNSUPPORTED_ENCRYPTION:
            case UNSUPPORTED_KEY:
            case KEY_MISMATCH:
                return new PrivateKeyException(code, message);
            case CERTIFICATE_EXPIRED:
            case CERTIFICATE_NOT_YET_VALID:
                return new CertificateValidityException(code, message);
            case INVALID_ARGUMENT:
            case WRONG_ROLE:
            case INVALID_CONFIG:
                return new TlsConfigException(code, message);
            default:
                return new TlsException(code, message);
        }
    }

    /**
     * The native result code, as listed in {@code include/tlsctx.h}.
     *
     * @return the code, never 0
     */
    public int code() {
        return code;
    }

    /**
     * The kind of failure, from the native result code.
     *
     * @return the reason; {@link Reason#UNKNOWN} for a code this version does not know
     */
    public Reason reason() {
        return Reason.of(code);
    }

    /**
     * The kinds of failure, one per native result code ({@code tls_result} in
     * {@code include/tlsctx.h}), so callers can switch on {@link TlsException#reason()}.
     */
    public enum Reason {
        /** A required argument was null (100). */
        NULL_ARGUMENT(100),
        /** An argument is outside its allowed values (101). */
        INVALID_ARGUMENT(101),
        /** A handle was released or never issued (102). */
        INVALID_HANDLE(102),
        /** A server context was used for a client connection, or the reverse (103). */
        WRONG_ROLE(103),
        /** The native library caught a panic; the call had no effect (104). */
        PANIC(104),
        /** A connection was used in a way its state does not allow (105). */
        INVALID_STATE(105),
        /** A caller's buffer was too small for the result (106). */
        BUFFER_TOO_SMALL(106),
        /** A configured file does not exist (200). */
        FILE_NOT_FOUND(200),
        /** A configured file exists but cannot be read (201). */
        FILE_UNREADABLE(201),
        /** A configured file is empty or holds only whitespace (202). */
        FILE_EMPTY(202),
        /** A file is neither PEM nor DER, or a PEM block is malformed (203). */
        MALFORMED_PEM(203),
        /** The certificate chain holds no certificate (204). */
        NO_CERTIFICATE(204),
        /** The private key file holds no private key (205). */
        NO_PRIVATE_KEY(205),
        /** The private key file holds more than one private key (206). */
        MULTIPLE_PRIVATE_KEYS(206),
        /** The private key is encrypted and no password was given (207). */
        KEY_ENCRYPTED(207),
        /** The password does not decrypt the private key (208). */
        WRONG_PASSWORD(208),
        /** The private key is encrypted with a scheme tlsctx cannot decrypt (209). */
        UNSUPPORTED_ENCRYPTION(209),
        /** The private key's algorithm or parameters are not supported (210). */
        UNSUPPORTED_KEY(210),
        /** The private key does not match the leaf certificate's public key (211). */
        KEY_MISMATCH(211),
        /** A certificate cannot be parsed (212). */
        INVALID_CERTIFICATE(212),
        /** The configuration is incomplete or contradictory (213). */
        INVALID_CONFIG(213),
        /** The leaf certificate's notAfter has passed (214). */
        CERTIFICATE_EXPIRED(214),
        /** The leaf certificate's notBefore is still ahead (215). */
        CERTIFICATE_NOT_YET_VALID(215),
        /** A TLS protocol error on a connection: a bad message, an alert, a failed check (300). */
        TLS_PROTOCOL(300),
        /** A code this version of the binding does not know; {@link #code()} is -1. */
        UNKNOWN(-1);

        private static final Reason[] KNOWN = values();

        private final int code;

        Reason(int code) {
            this.code = code;
        }

        /**
         * The native result code of this reason.
         *
         * @return the code, or -1 for {@link #UNKNOWN}
         */
        public int code() {
            return code;
        }

        /**
         * The reason for a native result code.
         *
         * @param code a native result code
         * @return its reason, or {@link #UNKNOWN} when the code is not one of the known ones
         */
        public static Reason of(int code) {
            for (Reason reason : KNOWN) {
                if (reason.code == code && reason != UNKNOWN) {
                    return reason;
                }
            }
            return UNKNOWN;
        }
    }
}

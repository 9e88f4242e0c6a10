package org.tlsctx;

/**
 * A failure reported by the native library: loading, reloading, or a TLS protocol error.
 *
 * <p>{@link #code()} is the native result code (the {@code tls_result} values of the C header);
 * the message names the file and the problem.
 */
public class TlsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;

    /**
     * Creates an exception with the native result code and message. The native library calls
     * this constructor.
     *
     * @param code the native result code
     * @param message what failed, naming the file where one is involved
     */
    public TlsException(int code, String message) {
        super(message);
        this.code = code;
    }

    /**
     * Creates the exception for a native failure. The native library calls this factory for
     * every error it throws.
     *
     * @param code the native result code
     * @param message what failed, naming the file where one is involved
     * @return the exception to throw
     */
    static TlsException fromNative(int code, String message) {
        return new TlsException(code, message);
    }

    /**
     * The native result code, as listed in {@code include/tlsctx.h}.
     *
     * @return the code, never 0
     */
    public int code() {
        return code;
    }
}

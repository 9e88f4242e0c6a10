package org.tlsctx;

/**
 * The settings cannot work: they are incomplete or contradictory (client authentication without
 * a trust bundle, no offered cipher suite left, an invalid value in a properties file), an
 * argument is out of range, or a context of one role was used for the other.
 *
 * <p>{@link #reason()} is {@link Reason#INVALID_CONFIG}, {@link Reason#INVALID_ARGUMENT} or
 * {@link Reason#WRONG_ROLE}.
 */
public class TlsConfigException extends TlsException {
    private static final long serialVersionUID = 1L;

    TlsConfigException(int code, String message) {
        super(code, message);
    }
}

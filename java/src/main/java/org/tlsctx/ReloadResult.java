package org.tlsctx;

/** The outcome of a successful {@link ReloadingTlsContext#reload()}. */
public enum ReloadResult {
    /** The files changed and a new generation now serves every new connection. */
    SWAPPED,
    /** The files have the same content as the current generation; nothing was built. */
    UNCHANGED
}

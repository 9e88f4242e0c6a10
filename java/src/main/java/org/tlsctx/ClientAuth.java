package org.tlsctx;

/** Whether a server asks TLS clients for a certificate, and whether it insists on one. */
public enum ClientAuth {
    /** No client certificate is requested. */
    NONE(Native.CLIENT_AUTH_NONE),
    /** A client certificate is requested and verified against the trust bundle when presented. */
    OPTIONAL(Native.CLIENT_AUTH_OPTIONAL),
    /** A client certificate verified against the trust bundle is required. */
    REQUIRE(Native.CLIENT_AUTH_REQUIRE);

    private final int nativeCode;

    ClientAuth(int nativeCode) {
        this.nativeCode = nativeCode;
    }

    int nativeCode() {
        return nativeCode;
    }
}

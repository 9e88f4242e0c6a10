package org.tlsctx;

import java.lang.ref.Cleaner;

/**
 * Owns one native TLS connection pointer and frees it exactly once: by {@link #free()}, or by
 * the cleaner when the connection becomes unreachable without having been freed.
 *
 * <p>Every native call passes this object as its owner, so it (and so its cleaner) stays
 * reachable for the whole call. Not thread-safe: {@link TlsEngine} serializes every call,
 * including {@link #free()}, on its own lock.
 */
final class NativeConnection {
    private final long pointer;
    private final Cleaner.Cleanable freer;
    private boolean freed;

    private NativeConnection(long pointer) {
        this.pointer = pointer;
        this.freer = NativeLibrary.CLEANER.register(this, new ConnectionFree(pointer));
    }

    /** Creates a connection on the current generation of the reloader {@code reloader}. */
    static NativeConnection open(long reloader, boolean client, String serverName, String[] alpn,
            boolean selectAlpn) {
        return new NativeConnection(
                Native.connNew(reloader, client, serverName, alpn, selectAlpn));
    }

    /** See {@link Native#connUnwrap}; each side is a direct buffer or a byte array. */
    long unwrap(Object src, long srcPosition, int srcLength, Object dst, long dstPosition,
            int dstLength, int kinds) {
        return Native.connUnwrap(live(), this, src, srcPosition, srcLength, dst, dstPosition,
                dstLength, kinds);
    }

    /** See {@link Native#connWrap}; each side is a direct buffer or a byte array. */
    long wrap(Object src, long srcPosition, int srcLength, Object dst, long dstPosition,
            int dstLength, int kinds) {
        return Native.connWrap(live(), this, src, srcPosition, srcLength, dst, dstPosition,
                dstLength, kinds);
    }

    int flags() {
        return Native.connFlags(live(), this);
    }

    void closeOutbound() {
        Native.connCloseOutbound(live(), this);
    }

    String[] offeredAlpn() {
        return Native.connOfferedAlpn(live(), this);
    }

    void accept(String protocol) {
        Native.connAccept(live(), this, protocol);
    }

    String alpn() {
        return Native.connAlpn(live(), this);
    }

    long session() {
        return Native.connSession(live(), this);
    }

    String protocol() {
        return Native.connProtocol(live(), this);
    }

    String cipherSuite() {
        return Native.connCipherSuite(live(), this);
    }

    byte[][] peerCertificates() {
        return Native.connPeerCertificates(live(), this);
    }

    byte[][] localCertificates() {
        return Native.connLocalCertificates(live(), this);
    }

    String serverName() {
        return Native.connServerName(live(), this);
    }

    long generation() {
        return Native.connGeneration(live(), this);
    }

    /** Frees the connection and its reference to its generation; later calls do nothing. */
    void free() {
        if (!freed) {
            freed = true;
            freer.clean();
        }
    }

    private long live() {
        if (freed) {
            throw new IllegalStateException("TLS connection already freed");
        }
        return pointer;
    }

    /** Frees the native connection; the cleaner runs it at most once. */
    private static final class ConnectionFree implements Runnable {
        private final long pointer;

        ConnectionFree(long pointer) {
            this.pointer = pointer;
        }

        @Override
        public void run() {
            Native.connFree(pointer);
        }
    }
}

package org.tlsctx;

import java.nio.ByteBuffer;

/**
 * The JNI surface of the native library: every call into Rust goes through this class.
 *
 * <p>Nothing outside this package sees it. Pointers and handles cross as {@code long}; 0 is never
 * valid. A failure is thrown as {@link TlsException} carrying the native result code and a message
 * that names the file and the problem; no native method returns an error value.
 *
 * <p>Connection methods take the Java object that owns the pointer as {@code owner}, so that
 * object (and its cleaner) stays reachable for the whole native call.
 */
final class Native {
    private Native() {}

    // ---- configuration -------------------------------------------------------------------------

    /** TLS 1.2 bit of a protocol-version mask. */
    static final int VERSION_TLS12 = 1;
    /** TLS 1.3 bit of a protocol-version mask. */
    static final int VERSION_TLS13 = 2;

    /** Client authentication: no client certificate requested. */
    static final int CLIENT_AUTH_NONE = 0;
    /** Client authentication: a certificate is requested and verified when presented. */
    static final int CLIENT_AUTH_OPTIONAL = 1;
    /** Client authentication: a verified client certificate is required. */
    static final int CLIENT_AUTH_REQUIRE = 2;

    // ---- configuration builder (a native TlsConfig, freed with configFree) ----------------

    /** Material slot: the certificate chain. */
    static final int MATERIAL_CERT_CHAIN = 0;
    /** Material slot: the private key. */
    static final int MATERIAL_PRIVATE_KEY = 1;
    /** Material slot: the trust bundle. */
    static final int MATERIAL_TRUST_BUNDLE = 2;
    /** Material slot: a PKCS#12 file with the chain and key, opened with the key password. */
    static final int MATERIAL_PKCS12 = 3;

    /** Creates an empty native configuration; free it with {@link #configFree}. */
    static native long configNew(boolean server);

    /**
     * Reads a RocketMQ-style tls.properties file ({@code tls.server.*} or {@code tls.client.*},
     * {@code tls.test.mode.enable}) into a new native configuration, with RocketMQ's defaults.
     */
    static native long configFromProperties(String path, boolean server);

    /** Frees a native configuration; contexts loaded from it are not affected. */
    static native void configFree(long config);

    /** Sets a MATERIAL_ slot to a PEM or DER file, read at every load and reload. */
    static native void configSetPath(long config, int material, String path);

    /**
     * Sets a MATERIAL_ slot to PEM or DER bytes in memory (copied; a key is wiped when freed);
     * {@code name} stands for the path in error messages.
     */
    static native void configSetMemory(long config, int material, String name, byte[] bytes);

    /** Sets (or clears, with null) the private key's password. */
    static native void configSetKeyPassword(long config, String password);

    /** Sets the client-auth mode (CLIENT_AUTH_ constants). */
    static native void configSetClientAuth(long config, int mode);

    /** Sets the ALPN protocols in preference order (null or empty clears them). */
    static native void configSetAlpn(long config, String[] protocols);

    /** Sets the protocol versions as a mask of VERSION_ bits (at least one). */
    static native void configSetVersions(long config, int mask);

    /** Client: whether the server is verified. */
    static native void configSetVerifyServer(long config, boolean verify);

    /**
     * Restricts cipher suites to these IANA names (null restores the default); names rustls
     * does not offer are skipped with a warning, and loading fails when none remains.
     */
    static native void configSetCipherSuites(long config, String[] names);

    /** Test mode: a server without files serves a self-signed certificate; a client trusts all. */
    static native void configSetTestMode(long config, boolean enabled);

    /** Whether the first load may serve an expired leaf (never a reload). */
    static native void configSetAllowExpiredLeaf(long config, boolean allow);

    /** Seconds before the leaf's expiry from which a reloading context logs a warning. */
    static native void configSetExpiryWarning(long config, long seconds);

    /** Server: adds a chain and key (file paths) served to clients asking for serverName. */
    static native void configAddIdentityForName(
            long config, String serverName, String certChainPath, String privateKeyPath);

    /** Loads one context generation from the configuration: a new handle, reference count 1. */
    static native long configLoad(long config);

    /**
     * Creates a reloading context from the configuration (copied), loading its first generation.
     * pollMillis 0 disables the watcher; debounceMillis is the quiet time after a file event.
     */
    static native long configReloading(long config, long pollMillis, long debounceMillis);

    // ---- contexts (reference-counted handles) --------------------------------------------------

    /** Drops one reference; at zero the handle is retired. Throws for a stale handle. */
    static native void contextRelease(long handle);

    /** The generation number of the context (1 for the first load of a reloader). */
    static native long contextGeneration(long handle);

    /** Lowercase hex SHA-256 of the leaf certificate's DER, or null without a certificate. */
    static native String contextFingerprint(long handle);

    /** The leaf's subject in RFC 4514 form, or null without a certificate. */
    static native String contextSubject(long handle);

    /** The leaf's notBefore, seconds since the epoch, or Long.MIN_VALUE without a certificate. */
    static native long contextNotBefore(long handle);

    /** The leaf's notAfter, seconds since the epoch, or Long.MIN_VALUE without a certificate. */
    static native long contextNotAfter(long handle);

    /** The leaf's serial number as lowercase hex without leading zeros, or null. */
    static native String contextSerial(long handle);

    /** Context generations alive in the whole process. */
    static native long liveGenerations();

    // ---- reloading contexts --------------------------------------------------------------------

    /** Reload outcome: the new generation was built and swapped in. */
    static final int RELOAD_SWAPPED = 0;
    /** Reload outcome: the files have the same content; no new generation. */
    static final int RELOAD_UNCHANGED = 1;

    /** Acquires the current generation as a new context handle with reference count 1. */
    static native long reloaderCurrent(long reloader);

    /**
     * Reloads from the same paths now.
     *
     * @return RELOAD_SWAPPED or RELOAD_UNCHANGED; a failure throws and the current generation
     *     stays
     */
    static native int reloaderReload(long reloader);

    /** The message of the last failed reload attempt (manual or by the watcher), or null. */
    static native String reloaderLastError(long reloader);

    /** Generations of this reloader still alive (current plus those held by users). */
    static native long reloaderLiveGenerations(long reloader);

    /**
     * Sets the object told about every reload attempt ({@code onNativeReload(int attempt, long
     * generation, String serial, String fingerprint, long notAfter, String error)}, attempt 0
     * swapped, 1 unchanged, 2 failed; notAfter Long.MIN_VALUE without a certificate), or removes
     * it with null. The native side keeps a global reference until replaced or freed.
     */
    static native void reloaderSetListener(long reloader, Object dispatcher);

    /**
     * The reloader's figures: swapped, unchanged, failed, generation, live generations, last
     * swap (epoch seconds) and the leaf's notAfter (Long.MIN_VALUE when unknown).
     */
    static native long[] reloaderStats(long reloader);

    /** Stops the watcher and frees the reloader; generations live on while users hold them. */
    static native void reloaderFree(long reloader);

    // ---- connections ---------------------------------------------------------------------------

    /** Flag: the handshake is still in progress. */
    static final int FLAG_HANDSHAKING = 1;
    /** Flag: TLS bytes are waiting to be written (call wrap). */
    static final int FLAG_WANTS_WRITE = 1 << 1;
    /** Flag (unwrap): the source does not hold a whole TLS record; nothing was consumed. */
    static final int FLAG_UNDERFLOW = 1 << 2;
    /** Flag: the destination is too small; nothing was consumed or produced. */
    static final int FLAG_OVERFLOW = 1 << 3;
    /** Flag: the peer's close_notify has been received. */
    static final int FLAG_PEER_CLOSED = 1 << 4;
    /** Flag: our close_notify has been queued (closeOutbound). */
    static final int FLAG_OUTBOUND_CLOSED = 1 << 5;
    /** Flag: this very call completed the handshake. */
    static final int FLAG_HANDSHAKE_FINISHED = 1 << 6;
    /**
     * Flag (server in select mode): the ClientHello has arrived; call {@link #connOfferedAlpn}
     * and {@link #connAccept} before the next unwrap or wrap.
     */
    static final int FLAG_CLIENT_HELLO = 1 << 7;

    /**
     * Creates a connection bound to one generation for its whole life.
     *
     * @param reloader a reloader handle; its current generation is taken atomically
     * @param client true for a client connection (the context must be a client context)
     * @param serverName client: the name to send as SNI and verify; may be an IP literal
     * @param alpn ALPN protocols for this connection only, or null for the context's list
     * @param selectAlpn server: pause after the ClientHello (FLAG_CLIENT_HELLO) so the caller
     *     picks the protocol
     * @return a connection pointer, freed with {@link #connFree}
     */
    static native long connNew(
            long reloader,
            boolean client,
            String serverName,
            String[] alpn,
            boolean selectAlpn);

    /** Frees the connection and its reference to its generation. Idempotence is the caller's. */
    static native void connFree(long conn);

    /** The address of a direct buffer's first byte, as the JVM reports it. */
    static native long directBufferAddress(ByteBuffer direct);

    // How each side of connUnwrap and connWrap is passed: the source's kind in bits 0-1 of
    // `kinds`, the destination's in bits 2-3 (DST_KIND_SHIFT).

    /** The side is a direct buffer; its position is an offset from the buffer's address. */
    static final int KIND_DIRECT_BUFFER = 0;

    /** The side is a {@code byte[]}; its position is an offset into the array. */
    static final int KIND_ARRAY = 1;

    /**
     * The side is a direct buffer whose address {@link BufferAddress} read: its position is the
     * absolute address of the first byte. The buffer is still passed, to keep it reachable.
     */
    static final int KIND_ADDRESS = 2;

    /** Shift of the destination's kind in {@code kinds}. */
    static final int DST_KIND_SHIFT = 2;

    /**
     * In {@code kinds} of {@link #connUnwrap}: the source may be written, so the record is
     * decrypted where it lies instead of being copied first. The JDK's engine does the same with
     * the source it is given; set for every source but a read-only buffer.
     */
    static final int SRC_WRITABLE = 1 << 4;

    /**
     * Reads at most one TLS record from {@code src} and writes its plaintext to {@code dst}.
     *
     * <p>Each side is a direct {@link ByteBuffer} (by default: the position is an offset from
     * its address, its position and limit untouched), a {@code byte[]} pinned for the call
     * rather than copied, or an absolute address, as {@code kinds} says ({@link #KIND_ARRAY},
     * {@link #KIND_ADDRESS}). Returns {@code consumed | produced << 24 | flags << 48}: consumed
     * and produced fit in 24 bits. A TLS alert or protocol error throws.
     */
    static native long connUnwrap(
            long conn,
            Object owner,
            Object src,
            long srcPosition,
            int srcLength,
            Object dst,
            long dstPosition,
            int dstLength,
            int kinds);

    /**
     * Writes pending TLS bytes (handshake, alerts, close_notify) to {@code dst}; when none are
     * pending and the handshake is done, encrypts at most one record of plaintext from
     * {@code src}. The sides are passed as for {@link #connUnwrap}; src may be null when
     * srcLength is 0. Returns the same packing as {@link #connUnwrap}.
     */
    static native long connWrap(
            long conn,
            Object owner,
            Object src,
            long srcPosition,
            int srcLength,
            Object dst,
            long dstPosition,
            int dstLength,
            int kinds);

    /** The connection's current flags (FLAG_ bits) without moving any bytes. */
    static native int connFlags(long conn, Object owner);

    /** Queues close_notify; the next wraps write it. */
    static native void connCloseOutbound(long conn, Object owner);

    /** Server in select mode: the ALPN protocols the client offered, in its order (maybe empty). */
    static native String[] connOfferedAlpn(long conn, Object owner);

    /**
     * Server in select mode: continues the handshake with {@code protocol} as the only ALPN
     * protocol, or with none when null.
     */
    static native void connAccept(long conn, Object owner, String protocol);

    /** The negotiated ALPN protocol, or null. */
    static native String connAlpn(long conn, Object owner);

    /** {@link #connSession} bit: the peer presented a certificate chain. */
    static final long SESSION_PEER_CERTIFICATES = 1L << 32;
    /** {@link #connSession} bit (server): the client sent an SNI name. */
    static final long SESSION_SERVER_NAME = 1L << 33;
    /** {@link #connSession} bit: an ALPN protocol was negotiated. */
    static final long SESSION_ALPN = 1L << 34;

    /**
     * The negotiated values in one number: the protocol version's IANA number in bits 0-15 and
     * the cipher suite's in bits 16-31 (0 while not known), and the {@code SESSION_} bits telling
     * which of the values read by other calls exist.
     */
    static native long connSession(long conn, Object owner);

    /** "TLSv1.2" or "TLSv1.3", or null before it is known. */
    static native String connProtocol(long conn, Object owner);

    /** The IANA name of the negotiated cipher suite, or null before it is known. */
    static native String connCipherSuite(long conn, Object owner);

    /** The peer's certificate chain as DER, leaf first; empty when none was presented. */
    static native byte[][] connPeerCertificates(long conn, Object owner);

    /** The certificate chain this side presents as DER, leaf first; may be empty. */
    static native byte[][] connLocalCertificates(long conn, Object owner);

    /** Server: the SNI name the client sent, or null. */
    static native String connServerName(long conn, Object owner);

    /** The generation number the connection is bound to. */
    static native long connGeneration(long conn, Object owner);
}

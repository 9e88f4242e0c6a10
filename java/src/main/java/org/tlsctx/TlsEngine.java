package org.tlsctx;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.security.cert.CertificateException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * An {@link SSLEngine} backed by a rustls connection of a {@link ReloadingTlsContext}.
 *
 * <p>Engines come from {@link TlsSslContext}. The native connection is created at the first
 * {@link #beginHandshake()}, {@link #wrap} or {@link #unwrap}, and takes the generation that is
 * current at that moment; it keeps that generation until the engine is closed in both
 * directions (or is garbage collected), even when the context reloads meanwhile.
 * {@link #generation()} tells which one it is.
 *
 * <p>It follows the JDK engine's conventions, so Netty's {@code SslHandler} and plain JSSE loops
 * can drive it: one TLS record per {@code unwrap}, {@code FINISHED} reported once by the call
 * that ends the handshake (after the last handshake bytes have been wrapped), close_notify
 * written by the {@code wrap} calls after {@link #closeOutbound()}, and no delegated tasks.
 * Direct buffers are handed to rustls in place, and so are heap records of 4 KiB or more (their
 * arrays pinned for the call); smaller heap records are copied through direct scratch buffers
 * of the calling thread. Like the JDK's engine, {@code unwrap} decrypts the record where it lies
 * in a writable source buffer, so the bytes it consumed from {@code src} may not keep their
 * content; a read-only source is copied first and left as it was.
 *
 * <p>What the engine settings change, and what comes from the {@link TlsConfig}:
 * <ul>
 *   <li>Client or server mode is fixed by the context: {@link #setUseClientMode(boolean)}
 *       accepts only the mode the context was made for.
 *   <li>ALPN: {@link SSLParameters#setApplicationProtocols(String[])} replaces the config's list
 *       for this connection, and a server's
 *       {@link #setHandshakeApplicationProtocolSelector(BiFunction)} picks the protocol from the
 *       client's offer, as with the JDK engine.
 *   <li>Client authentication, protocol versions and cipher suites come from the config. The
 *       setters validate and record their argument but do not narrow what this connection
 *       negotiates (rustls cannot yet narrow them per connection), and the getters of enabled
 *       suites and protocols report what is really in effect.
 *   <li>A client verifies and sends as SNI the host given to
 *       {@code SSLContext.createSSLEngine(host, port)}, or the {@link SNIHostName} set through
 *       {@link SSLParameters#setServerNames(List)}.
 * </ul>
 *
 * <p>The engine is thread-safe: every method that reads or changes its state is synchronized on
 * the engine, so a close or a free can never race a {@code wrap} or {@code unwrap}.
 */
public final class TlsEngine extends SSLEngine {
    /**
     * The cipher suites rustls offers with the aws-lc-rs provider, by IANA number, in that
     * order. A session names its suite from here; the native side is asked only for others.
     */
    private static final Map<Integer, String> SUITE_NAMES = suiteNames(
            0x1301, "TLS_AES_128_GCM_SHA256",
            0x1302, "TLS_AES_256_GCM_SHA384",
            0x1303, "TLS_CHACHA20_POLY1305_SHA256",
            0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** IANA names of the cipher suites rustls offers with the aws-lc-rs provider. */
    static final List<String> CIPHER_SUITES = List.copyOf(SUITE_NAMES.values());

    /** The IANA name of one of {@link #CIPHER_SUITES} by its number; null for another. */
    static String cipherSuiteName(int number) {
        return SUITE_NAMES.get(number);
    }

    private static Map<Integer, String> suiteNames(Object... numbersAndNames) {
        Map<Integer, String> names = new LinkedHashMap<>();
        for (int i = 0; i < numbersAndNames.length; i += 2) {
            names.put((Integer) numbersAndNames[i], (String) numbersAndNames[i + 1]);
        }
        return Collections.unmodifiableMap(names);
    }

    /** The native side packs consumed and produced byte counts in 24 bits each. */
    private static final int MAX_NATIVE_LENGTH = 0xFFFFFF;
    /**
     * Room for the largest TLS 1.2 record (2^14 + 2048 + 5 bytes) with slack. Pending TLS output
     * larger than this leaves through several {@code wrap} calls.
     */
    private static final int SCRATCH_CAPACITY = 18 * 1024 + 512;
    private static final int RECORD_HEADER_LENGTH = 5;

    /**
     * Heap records at least this long are pinned rather than copied: pinning and releasing two
     * arrays costs about as much as copying 4 KiB twice (measured at 1 KiB and 16 KiB records).
     */
    private static final int PIN_THRESHOLD = 4096;

    private final ReloadingTlsContext source;
    private final boolean server;
    private final TlsSession session;

    private List<String> applicationProtocols;
    private BiFunction<SSLEngine, List<String>, String> applicationProtocolSelector;
    private List<SNIServerName> serverNames = List.of();
    private String endpointIdentificationAlgorithm;
    private boolean needClientAuth;
    private boolean wantClientAuth;
    private boolean enableSessionCreation = true;
    // Recorded as callers set them, shown by toString(); the TlsConfig decides what applies.
    private String[] requestedCipherSuites;
    private String[] requestedProtocols;

    private NativeConnection connection;
    private boolean begun;
    private boolean handshakeDone;
    private boolean finishedReported;
    private boolean inboundDone;
    private boolean peerClosed;
    private boolean outboundClosed;
    private boolean outboundDone;
    private SSLException failure;
    private long generation;
    private String handshakeApplicationProtocol;
    private String applicationProtocol;
    private ByteBuffer pendingOutput;

    TlsEngine(ReloadingTlsContext source, TlsSessionContext sessionContext, String peerHost,
            int peerPort) {
        super(peerHost, peerPort);
        this.source = source;
        this.server = source.isServer();
        this.session = new TlsSession(this, sessionContext);
    }

    /**
     * The generation number of the context this engine's connection is bound to.
     *
     * @return the generation, or 0 before the connection exists
     */
    public synchronized long generation() {
        if (generation == 0 && connection != null) {
            generation = connection.generation();
        }
        return generation;
    }

    // ---- handshake -----------------------------------------------------------------------------

    /**
     * Starts the handshake by creating the native connection. Only needed by callers that want
     * {@link #getHandshakeStatus()} before the first {@code wrap} or {@code unwrap}.
     *
     * @throws SSLException if the engine is closed, the handshake is already done (rustls does
     *     not renegotiate) or the connection cannot be created
     * @throws IllegalStateException if a client engine has no server name
     */
    @Override
    public synchronized void beginHandshake() throws SSLException {
        if (handshakeDone) {
            throw new SSLException("TLS renegotiation is not supported");
        }
        if (outboundClosed || inboundDone) {
            throw new SSLException("the engine is closed");
        }
        ensureConnection();
    }

    @Override
    public synchronized HandshakeStatus getHandshakeStatus() {
        if (connection == null) {
            return hasPendingOutput() ? HandshakeStatus.NEED_WRAP : HandshakeStatus.NOT_HANDSHAKING;
        }
        int flags = connection.flags();
        if ((flags & Native.FLAG_WANTS_WRITE) != 0) {
            return HandshakeStatus.NEED_WRAP;
        }
        if (handshakeDone) {
            return HandshakeStatus.NOT_HANDSHAKING;
        }
        return (flags & Native.FLAG_HANDSHAKING) != 0
                ? HandshakeStatus.NEED_UNWRAP
                : HandshakeStatus.NOT_HANDSHAKING;
    }

    /**
     * Always null: rustls does its work inside {@code wrap} and {@code unwrap}.
     *
     * @return null
     */
    @Override
    public Runnable getDelegatedTask() {
        return null;
    }

    // ---- unwrap --------------------------------------------------------------------------------

    @Override
    public synchronized SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset,
            int length) throws SSLException {
        checkUnwrapArguments(src, dsts, offset, length);
        if (inboundDone) {
            return result(Status.CLOSED, statusAfterClose(), 0, 0);
        }
        NativeConnection conn = ensureConnection();
        if (conn == null) {
            inboundDone = true;
            return result(Status.CLOSED, statusAfterClose(), 0, 0);
        }
        if (!src.hasRemaining()) {
            return result(Status.BUFFER_UNDERFLOW, handshakeStatus(conn.flags()), 0, 0);
        }

        // Direct buffers are passed by address. After the handshake, a heap record of
        // PIN_THRESHOLD bytes or more is read from and decrypted into its arrays, pinned by the
        // native side; a smaller one is cheaper to copy through scratch buffers than to pin, and
        // handshake messages are not worth holding the GC back for.
        ByteBuffer single = singleWithRoom(dsts, offset, length);
        boolean pin = handshakeDone && !src.isDirect() && src.hasArray()
                && Math.min(src.remaining(), firstRecordLength(src)) >= PIN_THRESHOLD
                && !(single != null && single.hasArray() && single.array() == src.array());
        Scratch scratch = null;
        int consumed;
        int produced;
        int flags;
        try {
            Object nativeSrc;
            long srcPosition;
            int srcLength;
            int kinds;
            // Like the JDK's engine, the record is decrypted where it lies: in the caller's
            // buffer unless that is read-only, or in the scratch copy.
            if (src.isDirect() || pin) {
                nativeSrc = target(src);
                srcPosition = nativePosition(src);
                srcLength = Math.min(src.remaining(), MAX_NATIVE_LENGTH);
                kinds = kind(src) | (src.isReadOnly() ? 0 : Native.SRC_WRITABLE);
            } else {
                scratch = Scratch.take();
                srcLength = Math.min(src.remaining(), firstRecordLength(src));
                ByteBuffer record = src.duplicate();
                record.limit(record.position() + srcLength);
                ByteBuffer copy = scratch.src(srcLength);
                copy.put(record).flip();
                nativeSrc = copy;
                srcPosition = nativePosition(copy);
                kinds = kind(copy) | Native.SRC_WRITABLE;
            }

            ByteBuffer nativeDst;
            int dstLength;
            if (single != null && (single.isDirect() || pin && single.hasArray())) {
                nativeDst = single;
                dstLength = Math.min(single.remaining(), MAX_NATIVE_LENGTH);
            } else {
                single = null;
                if (scratch == null) {
                    scratch = Scratch.take();
                }
                nativeDst = scratch.dst();
                dstLength = (int) Math.min(remaining(dsts, offset, length), nativeDst.capacity());
            }
            kinds |= kind(nativeDst) << Native.DST_KIND_SHIFT;

            long packed;
            try {
                packed = conn.unwrap(nativeSrc, srcPosition, srcLength, target(nativeDst),
                        nativePosition(nativeDst), dstLength, kinds);
            } catch (TlsException e) {
                throw fail(e);
            }
            consumed = consumed(packed);
            produced = produced(packed);
            flags = flags(packed);

            src.position(src.position() + consumed);
            if (produced > 0) {
                if (single != null) {
                    single.position(single.position() + produced);
                } else {
                    scatter(nativeDst, produced, dsts, offset, length);
                }
            }
        } finally {
            if (scratch != null) {
                scratch.give();
            }
        }
        if ((flags & Native.FLAG_CLIENT_HELLO) != 0) {
            flags = selectApplicationProtocol(conn);
        }

        HandshakeStatus handshakeStatus = handshakeStatus(flags);
        Status status;
        if ((flags & Native.FLAG_UNDERFLOW) != 0) {
            status = Status.BUFFER_UNDERFLOW;
        } else if ((flags & Native.FLAG_OVERFLOW) != 0) {
            status = Status.BUFFER_OVERFLOW;
        } else if ((flags & Native.FLAG_PEER_CLOSED) != 0) {
            status = Status.CLOSED;
            peerClosed = true;
            inboundDone = true;
            retireIfClosed();
        } else {
            status = Status.OK;
        }
        return result(status, handshakeStatus, consumed, produced);
    }

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
        return unwrap(src, new ByteBuffer[] {dst}, 0, 1);
    }

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts) throws SSLException {
        return unwrap(src, dsts, 0, dsts.length);
    }

    // ---- wrap ----------------------------------------------------------------------------------

    @Override
    public synchronized SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length,
            ByteBuffer dst) throws SSLException {
        checkWrapArguments(srcs, offset, length, dst);
        if (outboundDone) {
            return result(Status.CLOSED, statusAfterClose(), 0, 0);
        }
        if (connection == null && (begun || outboundClosed)) {
            return wrapPendingOutput(dst);
        }
        NativeConnection conn = ensureConnection();

        // As in unwrap: direct buffers by address, large heap records pinned, the rest copied.
        Scratch scratch = null;
        int consumed;
        int produced;
        int flags;
        try {
            Object nativeSrc = null;
            long srcPosition = 0;
            int srcLength = 0;
            int kinds = 0;
            ByteBuffer single = null;
            boolean pin = false;
            if (handshakeDone && !outboundClosed) {
                single = singleWithRoom(srcs, offset, length);
                pin = single != null && !single.isDirect() && single.hasArray()
                        && single.remaining() >= PIN_THRESHOLD
                        && !(dst.hasArray() && dst.array() == single.array());
                if (single != null && (single.isDirect() || pin)) {
                    nativeSrc = target(single);
                    srcPosition = nativePosition(single);
                    srcLength = Math.min(single.remaining(), MAX_NATIVE_LENGTH);
                    kinds = kind(single);
                } else {
                    single = null;
                    long total = remaining(srcs, offset, length);
                    if (total > 0) {
                        scratch = Scratch.take();
                        srcLength = (int) Math.min(total, TlsSession.APPLICATION_BUFFER_SIZE);
                        ByteBuffer copy = scratch.src(srcLength);
                        gather(srcs, offset, length, copy, srcLength);
                        copy.flip();
                        nativeSrc = copy;
                        srcPosition = nativePosition(copy);
                        kinds = kind(copy);
                    }
                }
            }

            ByteBuffer nativeDst;
            int dstLength;
            if (dst.isDirect() || pin && dst.hasArray()) {
                nativeDst = dst;
                dstLength = Math.min(dst.remaining(), MAX_NATIVE_LENGTH);
            } else {
                if (scratch == null) {
                    scratch = Scratch.take();
                }
                nativeDst = scratch.dst();
                dstLength = Math.min(dst.remaining(), nativeDst.capacity());
            }
            kinds |= kind(nativeDst) << Native.DST_KIND_SHIFT;

            long packed;
            try {
                packed = conn.wrap(nativeSrc, srcPosition, srcLength, target(nativeDst),
                        nativePosition(nativeDst), dstLength, kinds);
            } catch (TlsException e) {
                throw fail(e);
            }
            consumed = consumed(packed);
            produced = produced(packed);
            flags = flags(packed);

            if (consumed > 0) {
                if (single != null) {
                    single.position(single.position() + consumed);
                } else {
                    advance(srcs, offset, length, consumed);
                }
            }
            if (produced > 0) {
                if (nativeDst == dst) {
                    dst.position(dst.position() + produced);
                } else {
                    nativeDst.limit(produced).position(0);
                    dst.put(nativeDst);
                }
            }
        } finally {
            if (scratch != null) {
                scratch.give();
            }
        }

        Status status;
        HandshakeStatus handshakeStatus;
        if ((flags & Native.FLAG_OVERFLOW) != 0) {
            status = Status.BUFFER_OVERFLOW;
            handshakeStatus = handshakeStatus(flags);
        } else if (outboundClosed && (flags & Native.FLAG_WANTS_WRITE) == 0) {
            status = Status.CLOSED;
            outboundDone = true;
            // Once our close_notify is out the connection is over: free it (and its generation)
            // now rather than wait for the peer's close_notify, which Netty does not wait for
            // when the server closes a channel itself and never reports with closeInbound().
            // Later unwraps report CLOSED.
            inboundDone = true;
            retire();
            handshakeStatus = statusAfterClose();
        } else {
            status = Status.OK;
            handshakeStatus = handshakeStatus(flags);
        }
        return result(status, handshakeStatus, consumed, produced);
    }

    @Override
    public SSLEngineResult wrap(ByteBuffer src, ByteBuffer dst) throws SSLException {
        return wrap(new ByteBuffer[] {src}, 0, 1, dst);
    }

    @Override
    public SSLEngineResult wrap(ByteBuffer[] srcs, ByteBuffer dst) throws SSLException {
        return wrap(srcs, 0, srcs.length, dst);
    }

    // ---- closing -------------------------------------------------------------------------------

    /**
     * Signals that no more application data will be sent; the next {@code wrap} calls write
     * close_notify and then return {@link Status#CLOSED}.
     *
     * <p>Once close_notify is written the engine is finished in both directions: it frees its
     * native connection, releasing its context generation, and later {@code unwrap} calls
     * return {@link Status#CLOSED} without reading the peer's close_notify. TLS 1.3 half-close
     * (reading a response after closing the outbound side) is therefore not supported.
     */
    @Override
    public synchronized void closeOutbound() {
        if (outboundClosed) {
            return;
        }
        outboundClosed = true;
        if (connection != null) {
            try {
                connection.closeOutbound();
            } catch (TlsException e) {
                // The connection has failed already; its alert, if any, is still written.
            }
            retireIfClosed();
        } else if (!hasPendingOutput()) {
            outboundDone = true;
        }
    }

    @Override
    public synchronized boolean isOutboundDone() {
        return outboundDone;
    }

    /**
     * Signals that no more TLS data will be received.
     *
     * @throws SSLException if the handshake had started and the peer's close_notify was not
     *     received (a truncation attack cannot be told apart from a normal close); the inbound
     *     side is closed anyway
     */
    @Override
    public synchronized void closeInbound() throws SSLException {
        if (inboundDone) {
            return;
        }
        inboundDone = true;
        boolean truncated = begun && !peerClosed && failure == null;
        retireIfClosed();
        if (truncated) {
            throw new SSLException("Inbound closed before receiving peer's close_notify");
        }
    }

    @Override
    public synchronized boolean isInboundDone() {
        return inboundDone;
    }

    // ---- session -------------------------------------------------------------------------------

    /**
     * The session of this engine. Before the handshake ends, its protocol is {@code "NONE"} and
     * its cipher suite {@code "SSL_NULL_WITH_NULL_NULL"}, as with the JDK engine.
     */
    @Override
    public SSLSession getSession() {
        return session;
    }

    /** The session while the handshake is in progress, otherwise null. */
    @Override
    public synchronized SSLSession getHandshakeSession() {
        return begun && !handshakeDone && failure == null ? session : null;
    }

    /**
     * The negotiated ALPN protocol.
     *
     * @return the protocol, {@code ""} if none was negotiated, or null before the handshake ends
     */
    @Override
    public synchronized String getApplicationProtocol() {
        return handshakeDone ? applicationProtocol : null;
    }

    /**
     * The ALPN protocol chosen so far in a handshake in progress.
     *
     * @return the protocol, {@code ""} if none, or null when not known or not handshaking
     */
    @Override
    public synchronized String getHandshakeApplicationProtocol() {
        if (!begun || handshakeDone || failure != null) {
            return null;
        }
        if (handshakeApplicationProtocol == null && connection != null) {
            return connection.alpn();
        }
        return handshakeApplicationProtocol;
    }

    /**
     * Sets the function a server calls with the client's ALPN offer to pick the protocol. It
     * returns one of the offered names, {@code ""} for no ALPN, or null to fail the handshake.
     * It is called only when the client offers ALPN, and only if set before the handshake
     * starts.
     */
    @Override
    public synchronized void setHandshakeApplicationProtocolSelector(
            BiFunction<SSLEngine, List<String>, String> selector) {
        this.applicationProtocolSelector = selector;
    }

    @Override
    public synchronized BiFunction<SSLEngine, List<String>, String>
            getHandshakeApplicationProtocolSelector() {
        return applicationProtocolSelector;
    }

    // ---- parameters ----------------------------------------------------------------------------

    /**
     * Validates and records the SSL parameters. ALPN protocols and server names apply to a
     * connection not yet started; cipher suites, protocols and client authentication are
     * validated and recorded, but the {@link TlsConfig} decides them (see the class comment).
     */
    @Override
    public synchronized void setSSLParameters(SSLParameters params) {
        if (params.getCipherSuites() != null) {
            setEnabledCipherSuites(params.getCipherSuites());
        }
        if (params.getProtocols() != null) {
            setEnabledProtocols(params.getProtocols());
        }
        if (params.getNeedClientAuth()) {
            setNeedClientAuth(true);
        } else {
            setWantClientAuth(params.getWantClientAuth());
        }
        endpointIdentificationAlgorithm = params.getEndpointIdentificationAlgorithm();
        List<SNIServerName> names = params.getServerNames();
        if (names != null) {
            serverNames = List.copyOf(names);
        }
        String[] alpn = params.getApplicationProtocols();
        if (alpn != null) {
            applicationProtocols = List.of(alpn);
        }
    }

    @Override
    public synchronized SSLParameters getSSLParameters() {
        SSLParameters params = new SSLParameters(getEnabledCipherSuites(), getEnabledProtocols());
        if (needClientAuth) {
            params.setNeedClientAuth(true);
        } else if (wantClientAuth) {
            params.setWantClientAuth(true);
        }
        params.setEndpointIdentificationAlgorithm(endpointIdentificationAlgorithm);
        List<SNIServerName> names = effectiveServerNames();
        if (!names.isEmpty()) {
            params.setServerNames(names);
        }
        List<String> alpn = applicationProtocols != null
                ? applicationProtocols
                : source.configView().applicationProtocols();
        params.setApplicationProtocols(alpn.toArray(new String[0]));
        return params;
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return CIPHER_SUITES.toArray(new String[0]);
    }

    /**
     * The cipher suites in effect: those the config is restricted to (see
     * {@link TlsConfig#cipherSuites(String...)}) that rustls supports, or all it supports.
     */
    @Override
    public String[] getEnabledCipherSuites() {
        List<String> configured = source.configView().cipherSuites();
        if (configured == null) {
            return getSupportedCipherSuites();
        }
        // A loop rather than a stream: Netty's SslHandler asks once per connection.
        String[] enabled = new String[CIPHER_SUITES.size()];
        int count = 0;
        for (String suite : CIPHER_SUITES) {
            if (configured.contains(suite)) {
                enabled[count++] = suite;
            }
        }
        return Arrays.copyOf(enabled, count);
    }

    /**
     * Validates and records the suites. They must all be supported; they do not narrow what this
     * connection negotiates (rustls offers its secure defaults), and
     * {@link #getEnabledCipherSuites()} keeps reporting the suites in effect.
     *
     * @throws IllegalArgumentException if a suite is not supported
     */
    @Override
    public synchronized void setEnabledCipherSuites(String[] suites) {
        if (suites == null) {
            throw new IllegalArgumentException("cipher suites must not be null");
        }
        for (String suite : suites) {
            if (!CIPHER_SUITES.contains(suite)) {
                throw new IllegalArgumentException("unsupported cipher suite '" + suite
                        + "': tlsctx supports " + CIPHER_SUITES);
            }
        }
        requestedCipherSuites = suites.clone();
    }

    @Override
    public String[] getSupportedProtocols() {
        return TlsConfig.PROTOCOL_NAMES.toArray(new String[0]);
    }

    /** The TLS versions the config enables. */
    @Override
    public String[] getEnabledProtocols() {
        return source.configView().protocols().toArray(new String[0]);
    }

    /**
     * Validates and records the protocol versions. They must be {@code "TLSv1.3"} or
     * {@code "TLSv1.2"}; the versions negotiated are those of the {@link TlsConfig}.
     *
     * @throws IllegalArgumentException for any other name
     */
    @Override
    public synchronized void setEnabledProtocols(String[] protocols) {
        if (protocols == null) {
            throw new IllegalArgumentException("protocols must not be null");
        }
        for (String protocol : protocols) {
            if (!TlsConfig.PROTOCOL_NAMES.contains(protocol)) {
                throw new IllegalArgumentException("unsupported protocol '" + protocol
                        + "': tlsctx supports " + TlsConfig.PROTOCOL_NAMES);
            }
        }
        requestedProtocols = protocols.clone();
    }

    /**
     * Accepts only the mode of the context this engine came from.
     *
     * @throws IllegalArgumentException if {@code mode} is not the context's mode
     */
    @Override
    public void setUseClientMode(boolean mode) {
        if (mode == server) {
            throw new IllegalArgumentException(server
                    ? "this engine comes from a server context (TlsSslContext.forServer) and "
                            + "cannot act as a client"
                    : "this engine comes from a client context (TlsSslContext.forClient) and "
                            + "cannot act as a server");
        }
    }

    @Override
    public boolean getUseClientMode() {
        return !server;
    }

    /**
     * Records the value. The server's client authentication is set by
     * {@link TlsConfig#clientAuth(ClientAuth)}, not per engine.
     */
    @Override
    public synchronized void setNeedClientAuth(boolean need) {
        needClientAuth = need;
        wantClientAuth = false;
    }

    @Override
    public synchronized boolean getNeedClientAuth() {
        return needClientAuth;
    }

    /**
     * Records the value. The server's client authentication is set by
     * {@link TlsConfig#clientAuth(ClientAuth)}, not per engine.
     */
    @Override
    public synchronized void setWantClientAuth(boolean want) {
        wantClientAuth = want;
        needClientAuth = false;
    }

    @Override
    public synchronized boolean getWantClientAuth() {
        return wantClientAuth;
    }

    /** Records the value; rustls always creates sessions for resumption. */
    @Override
    public synchronized void setEnableSessionCreation(boolean enable) {
        enableSessionCreation = enable;
    }

    @Override
    public synchronized boolean getEnableSessionCreation() {
        return enableSessionCreation;
    }

    /**
     * Describes the engine's mode, peer and state.
     *
     * @return a one-line description
     */
    @Override
    public synchronized String toString() {
        return "TlsEngine{" + (server ? "server" : "client") + ", peer=" + getPeerHost() + ":"
                + getPeerPort() + ", generation=" + generation + ", handshakeDone=" + handshakeDone
                + ", inboundDone=" + inboundDone + ", outboundDone=" + outboundDone
                + (requestedCipherSuites == null ? ""
                        : ", requestedCipherSuites=" + Arrays.toString(requestedCipherSuites))
                + (requestedProtocols == null ? ""
                        : ", requestedProtocols=" + Arrays.toString(requestedProtocols))
                + "}";
    }

    // ---- internals -----------------------------------------------------------------------------

    /**
     * Returns the native connection, creating it at the first call; null once it has been
     * retired, or when the engine was closed before it ever started.
     */
    private NativeConnection ensureConnection() throws SSLHandshakeException {
        if (connection != null || begun) {
            return connection;
        }
        if (outboundClosed) {
            return null;
        }
        String serverName = null;
        if (!server) {
            serverName = clientServerName();
            if (serverName == null) {
                throw new IllegalStateException("a client engine needs the server's name: create "
                        + "it with SSLContext.createSSLEngine(host, port) or set an SNIHostName "
                        + "in its SSLParameters");
            }
        }
        String[] alpn = applicationProtocols == null || applicationProtocols.isEmpty()
                ? null
                : applicationProtocols.toArray(new String[0]);
        boolean selectAlpn = server && applicationProtocolSelector != null;
        try {
            connection = source.newConnection(!server, serverName, alpn, selectAlpn);
        } catch (TlsException | IllegalStateException e) {
            SSLHandshakeException error = new SSLHandshakeException(
                    "cannot start the TLS handshake: " + e.getMessage());
            error.initCause(e);
            throw error;
        }
        begun = true;
        return connection;
    }

    private String clientServerName() {
        for (SNIServerName name : serverNames) {
            if (name instanceof SNIHostName) {
                return ((SNIHostName) name).getAsciiName();
            }
        }
        String host = getPeerHost();
        return host == null || host.isEmpty() ? null : host;
    }

    private List<SNIServerName> effectiveServerNames() {
        if (!serverNames.isEmpty() || server) {
            return serverNames;
        }
        String host = getPeerHost();
        if (host == null || host.isEmpty() || isIpLiteral(host)) {
            return List.of();
        }
        try {
            return List.of(new SNIHostName(host));
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    private static boolean isIpLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Applies the server's ALPN selector to the client's offer and lets the handshake continue.
     *
     * @return the connection's flags after the choice
     */
    private int selectApplicationProtocol(NativeConnection conn) throws SSLException {
        String chosen = null;
        try {
            String[] offered = conn.offeredAlpn();
            if (offered.length > 0 && applicationProtocolSelector != null) {
                List<String> offer = List.of(offered);
                String selected = applicationProtocolSelector.apply(this, offer);
                if (selected == null) {
                    throw handshakeFailure("no application protocol acceptable to the server "
                            + "among those the client offered: " + offer);
                }
                if (!selected.isEmpty()) {
                    if (!offer.contains(selected)) {
                        throw handshakeFailure("the ALPN selector chose '" + selected
                                + "', which the client did not offer: " + offer);
                    }
                    chosen = selected;
                }
            }
            handshakeApplicationProtocol = chosen == null ? "" : chosen;
            conn.accept(chosen);
            return conn.flags();
        } catch (TlsException e) {
            throw fail(e);
        }
    }

    private SSLHandshakeException handshakeFailure(String message) {
        SSLHandshakeException error = new SSLHandshakeException(message);
        failure = error;
        inboundDone = true;
        outboundClosed = true;
        retire();
        return error;
    }

    /**
     * The handshake status a result reports. FINISHED is reported once, by the call after which
     * the handshake is complete and none of its bytes are left to wrap.
     */
    private HandshakeStatus handshakeStatus(int flags) throws SSLException {
        if (!handshakeDone && (flags & Native.FLAG_HANDSHAKE_FINISHED) != 0) {
            onHandshakeFinished();
        }
        boolean wantsWrite = (flags & Native.FLAG_WANTS_WRITE) != 0;
        if (handshakeDone && !finishedReported) {
            if (wantsWrite) {
                return HandshakeStatus.NEED_WRAP;
            }
            finishedReported = true;
            return HandshakeStatus.FINISHED;
        }
        if (wantsWrite) {
            return HandshakeStatus.NEED_WRAP;
        }
        if (!handshakeDone && (flags & Native.FLAG_HANDSHAKING) != 0) {
            return HandshakeStatus.NEED_UNWRAP;
        }
        return HandshakeStatus.NOT_HANDSHAKING;
    }

    private HandshakeStatus statusAfterClose() {
        return hasPendingOutput() ? HandshakeStatus.NEED_WRAP : HandshakeStatus.NOT_HANDSHAKING;
    }

    /** Copies the session values into Java while the connection is alive. */
    private void onHandshakeFinished() throws SSLException {
        handshakeDone = true;
        NativeConnection conn = connection;
        try {
            long summary = conn.session();
            generation = conn.generation();
            String alpn = (summary & Native.SESSION_ALPN) != 0 ? conn.alpn() : null;
            applicationProtocol = alpn == null ? "" : alpn;
            String sni = server && (summary & Native.SESSION_SERVER_NAME) != 0
                    ? conn.serverName()
                    : null;
            session.capture(conn, summary, sni, source.servedChain(conn, generation, sni));
        } catch (TlsException | CertificateException e) {
            SSLException error = new SSLException(
                    "cannot read the negotiated session: " + e.getMessage(), e);
            failure = error;
            inboundDone = true;
            outboundClosed = true;
            retire();
            throw error;
        }
    }

    /** Turns a native failure into the JSSE exception and keeps only the alert to send. */
    private SSLException fail(TlsException e) {
        SSLException error;
        if (handshakeDone) {
            error = new SSLException(e.getMessage(), e);
        } else {
            error = new SSLHandshakeException(e.getMessage());
            error.initCause(e);
        }
        failure = error;
        inboundDone = true;
        outboundClosed = true;
        retire();
        return error;
    }

    private void retireIfClosed() {
        if (inboundDone && outboundClosed) {
            retire();
        }
    }

    /**
     * Frees the native connection (releasing its generation) once neither direction will be
     * used again. Bytes still queued for the peer (close_notify or an alert) are moved into Java
     * first, so {@code wrap} can still write them afterwards.
     */
    private void retire() {
        NativeConnection conn = connection;
        if (conn == null) {
            return;
        }
        connection = null;
        try {
            if (!outboundDone) {
                drainPendingOutput(conn);
            }
        } finally {
            conn.free();
        }
        if (!hasPendingOutput()) {
            outboundDone = true;
        }
    }

    private void drainPendingOutput(NativeConnection conn) {
        Scratch scratch = Scratch.take();
        try {
            // Each wrap reports the flags after it, so only the first round asks for them.
            int flags = conn.flags();
            for (int round = 0; round < 16 && (flags & Native.FLAG_WANTS_WRITE) != 0; round++) {
                ByteBuffer drained = scratch.dst();
                long packed = conn.wrap(null, 0, 0, drained, nativePosition(drained),
                        drained.capacity(), kind(drained) << Native.DST_KIND_SHIFT);
                int produced = produced(packed);
                if (produced == 0) {
                    return;
                }
                drained.limit(produced).position(0);
                appendPendingOutput(drained);
                flags = flags(packed);
            }
        } catch (TlsException e) {
            // Nothing more can be sent on a broken connection; what was drained is kept.
        } finally {
            scratch.give();
        }
    }

    private void appendPendingOutput(ByteBuffer bytes) {
        if (pendingOutput == null) {
            pendingOutput = ByteBuffer.allocate(Math.max(bytes.remaining(), 256));
            pendingOutput.flip();
        }
        if (pendingOutput.capacity() - pendingOutput.limit() < bytes.remaining()) {
            ByteBuffer grown = ByteBuffer.allocate(pendingOutput.remaining() + bytes.remaining());
            grown.put(pendingOutput).flip();
            pendingOutput = grown;
        }
        int start = pendingOutput.position();
        pendingOutput.position(pendingOutput.limit());
        pendingOutput.limit(pendingOutput.capacity());
        pendingOutput.put(bytes);
        pendingOutput.flip();
        pendingOutput.position(start);
    }

    private boolean hasPendingOutput() {
        return pendingOutput != null && pendingOutput.hasRemaining();
    }

    /** Writes what was drained from a retired connection, then reports the outbound closed. */
    private SSLEngineResult wrapPendingOutput(ByteBuffer dst) {
        if (!hasPendingOutput()) {
            outboundDone = true;
            return result(Status.CLOSED, HandshakeStatus.NOT_HANDSHAKING, 0, 0);
        }
        if (!dst.hasRemaining()) {
            return result(Status.BUFFER_OVERFLOW, HandshakeStatus.NEED_WRAP, 0, 0);
        }
        // The peer reads a byte stream, so the bytes may go out in pieces of any size.
        int size = Math.min(pendingOutput.remaining(), dst.remaining());
        ByteBuffer piece = pendingOutput.duplicate();
        piece.limit(piece.position() + size);
        dst.put(piece);
        pendingOutput.position(pendingOutput.position() + size);
        if (pendingOutput.hasRemaining()) {
            return result(Status.OK, HandshakeStatus.NEED_WRAP, 0, size);
        }
        pendingOutput = null;
        outboundDone = true;
        return result(Status.CLOSED, HandshakeStatus.NOT_HANDSHAKING, 0, size);
    }

    /** What the native call receives for a direct buffer, or a heap buffer to pin. */
    private static Object target(ByteBuffer buffer) {
        return buffer.isDirect() ? buffer : buffer.array();
    }

    /** The {@code Native.KIND_} of a direct buffer, or a heap buffer to pin. */
    private static int kind(ByteBuffer buffer) {
        if (!buffer.isDirect()) {
            return Native.KIND_ARRAY;
        }
        return BufferAddress.AVAILABLE ? Native.KIND_ADDRESS : Native.KIND_DIRECT_BUFFER;
    }

    /** Where a buffer's position lies, in the terms of its {@link #kind}. */
    private static long nativePosition(ByteBuffer buffer) {
        if (!buffer.isDirect()) {
            return buffer.arrayOffset() + buffer.position();
        }
        long base = BufferAddress.AVAILABLE ? BufferAddress.of(buffer) : 0;
        return base + buffer.position();
    }

    /**
     * Direct buffers for the copies the native side is not handed in place (several buffers at
     * once, small or read-only heap records, bytes drained at close). They belong to the thread,
     * not the engine, so an idle engine holds none. A call takes them and gives them back once
     * it has copied their content out; a call on the same thread meanwhile (a log handler or a
     * callback using another engine) finds them taken and works on buffers of its own.
     */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> OF_THREAD =
                ThreadLocal.withInitial(Scratch::new);

        private ByteBuffer src;
        private ByteBuffer dst;
        private boolean taken;

        static Scratch take() {
            Scratch scratch = OF_THREAD.get();
            if (scratch.taken) {
                return new Scratch();
            }
            scratch.taken = true;
            return scratch;
        }

        void give() {
            taken = false;
        }

        /** An empty source buffer of at least {@code minimumCapacity} bytes. */
        ByteBuffer src(int minimumCapacity) {
            if (src == null || src.capacity() < minimumCapacity) {
                src = ByteBuffer.allocateDirect(Math.max(SCRATCH_CAPACITY, minimumCapacity));
            }
            return src.clear();
        }

        /** An empty destination buffer of {@link #SCRATCH_CAPACITY} bytes. */
        ByteBuffer dst() {
            if (dst == null) {
                dst = ByteBuffer.allocateDirect(SCRATCH_CAPACITY);
            }
            return dst.clear();
        }
    }

    /**
     * The length of the first TLS record in {@code src} from its header, so a heap source is
     * copied one record at a time; a partial header asks for everything there is.
     */
    private static int firstRecordLength(ByteBuffer src) {
        if (src.remaining() < RECORD_HEADER_LENGTH) {
            return src.remaining();
        }
        int position = src.position();
        int length = ((src.get(position + 3) & 0xFF) << 8) | (src.get(position + 4) & 0xFF);
        return RECORD_HEADER_LENGTH + length;
    }

    /** The one buffer with room in the array, or null when there are several (or none). */
    private static ByteBuffer singleWithRoom(ByteBuffer[] buffers, int offset, int length) {
        ByteBuffer found = null;
        for (int i = offset; i < offset + length; i++) {
            if (buffers[i].hasRemaining()) {
                if (found != null) {
                    return null;
                }
                found = buffers[i];
            }
        }
        return found;
    }

    private static long remaining(ByteBuffer[] buffers, int offset, int length) {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += buffers[i].remaining();
        }
        return total;
    }

    private static void scatter(ByteBuffer from, int produced, ByteBuffer[] dsts, int offset,
            int length) {
        from.limit(produced).position(0);
        for (int i = offset; i < offset + length && from.hasRemaining(); i++) {
            ByteBuffer dst = dsts[i];
            int n = Math.min(dst.remaining(), from.remaining());
            if (n == 0) {
                continue;
            }
            ByteBuffer part = from.duplicate();
            part.limit(part.position() + n);
            dst.put(part);
            from.position(from.position() + n);
        }
    }

    private static void gather(ByteBuffer[] srcs, int offset, int length, ByteBuffer to,
            int count) {
        to.clear();
        int left = count;
        for (int i = offset; i < offset + length && left > 0; i++) {
            ByteBuffer part = srcs[i].duplicate();
            int n = Math.min(part.remaining(), left);
            part.limit(part.position() + n);
            to.put(part);
            left -= n;
        }
    }

    private static void advance(ByteBuffer[] srcs, int offset, int length, int consumed) {
        int left = consumed;
        for (int i = offset; i < offset + length && left > 0; i++) {
            int n = Math.min(srcs[i].remaining(), left);
            srcs[i].position(srcs[i].position() + n);
            left -= n;
        }
    }

    private static int consumed(long packed) {
        return (int) (packed & 0xFFFFFF);
    }

    private static int produced(long packed) {
        return (int) ((packed >>> 24) & 0xFFFFFF);
    }

    private static int flags(long packed) {
        return (int) (packed >>> 48);
    }

    private static SSLEngineResult result(Status status, HandshakeStatus handshakeStatus,
            int consumed, int produced) {
        return new SSLEngineResult(status, handshakeStatus, consumed, produced);
    }

    private static void checkUnwrapArguments(ByteBuffer src, ByteBuffer[] dsts, int offset,
            int length) {
        if (src == null || dsts == null) {
            throw new IllegalArgumentException("source and destination buffers must not be null");
        }
        checkRange(dsts.length, offset, length);
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i] == null) {
                throw new IllegalArgumentException("destination buffer " + i + " is null");
            }
            if (dsts[i].isReadOnly()) {
                throw new ReadOnlyBufferException();
            }
        }
    }

    private static void checkWrapArguments(ByteBuffer[] srcs, int offset, int length,
            ByteBuffer dst) {
        if (srcs == null || dst == null) {
            throw new IllegalArgumentException("source and destination buffers must not be null");
        }
        checkRange(srcs.length, offset, length);
        for (int i = offset; i < offset + length; i++) {
            if (srcs[i] == null) {
                throw new IllegalArgumentException("source buffer " + i + " is null");
            }
        }
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
    }

    private static void checkRange(int arrayLength, int offset, int length) {
        if (offset < 0 || length < 0 || offset > arrayLength - length) {
            throw new IndexOutOfBoundsException("offset " + offset + " and length " + length
                    + " do not fit an array of " + arrayLength);
        }
    }
}

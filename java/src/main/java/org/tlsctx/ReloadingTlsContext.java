package org.tlsctx;

import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A TLS context that reloads its files without a restart: each successful reload swaps in a new
 * {@linkplain TlsContext generation} for new connections, while open connections keep the
 * generation they started with until they close.
 *
 * <p>A reload happens when {@link #reload()} is called, and also automatically when the file
 * watcher (see {@link TlsConfig#pollInterval(java.time.Duration)}) sees changed content. A reload
 * that fails (a missing file, a key that does not match the certificate, a half-written file)
 * changes nothing: the current generation keeps serving, and {@link #lastError()} says why.
 *
 * <p>Serve connections through {@link TlsSslContext} (a {@code javax.net.ssl.SSLContext}) or
 * {@code org.tlsctx.netty.TlsNettyContext}; each new connection takes the generation current at
 * its first handshake step.
 *
 * <p>Instances are thread-safe. {@link #close()} stops the watcher and frees the reloader;
 * generations still held by open connections or {@link TlsContext} references live on until
 * those are released.
 */
public final class ReloadingTlsContext implements AutoCloseable {

    private final ReloaderHandle reloader;
    private final TlsConfig config;
    private final ReloadListeners listeners = new ReloadListeners();
    /** Per identity, the chain of the latest generation it served; see {@link #servedChain}. */
    private final AtomicReferenceArray<ServedChain> servedChains;

    ReloadingTlsContext(long reloaderPointer, TlsConfig config) {
        this.reloader = new ReloaderHandle(reloaderPointer);
        this.servedChains = new AtomicReferenceArray<>(config.identityCount());
        this.config = config;
    }

    /**
     * Reloads from the same paths now.
     *
     * @return {@link ReloadResult#SWAPPED} if a new generation now serves new connections,
     *     {@link ReloadResult#UNCHANGED} if the files have the same content as before
     * @throws TlsException if the new files cannot be loaded; the current generation stays and
     *     {@link #lastError()} holds the same message
     * @throws IllegalStateException if this context was closed
     */
    public ReloadResult reload() {
        // The native library logs the outcome (through NativeLog), for manual reloads and the
        // watcher's alike.
        int outcome = (int) reloader.callLong(Native::reloaderReload);
        return outcome == Native.RELOAD_SWAPPED ? ReloadResult.SWAPPED : ReloadResult.UNCHANGED;
    }

    /**
     * Acquires the current generation.
     *
     * @return the generation with reference count 1; the caller closes it
     * @throws IllegalStateException if this context was closed
     */
    public TlsContext current() {
        return new TlsContext(reloader.callLong(Native::reloaderCurrent));
    }

    /**
     * The number of the current generation: 1 after the first load, one more per swap.
     *
     * @return the generation number
     * @throws IllegalStateException if this context was closed
     */
    public long generation() {
        try (TlsContext current = current()) {
            return current.generation();
        }
    }

    /**
     * The message of the last failed reload, manual or by the watcher. It names the file and the
     * problem.
     *
     * @return the message, or null if no reload has failed
     * @throws IllegalStateException if this context was closed
     */
    public String lastError() {
        return reloader.call(Native::reloaderLastError);
    }

    /**
     * The number of this context's generations still alive: the current one plus older ones
     * held by open connections or {@link TlsContext} references. It returns to 1 once every
     * connection of an older generation has closed.
     *
     * @return the count
     * @throws IllegalStateException if this context was closed
     */
    public long liveGenerations() {
        return reloader.callLong(Native::reloaderLiveGenerations);
    }

    /**
     * Adds a listener told about every later reload attempt, manual or the watcher's.
     *
     * @param listener the listener
     * @throws IllegalStateException if this context was closed
     */
    public void addListener(ReloadListener listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (listeners) {
            if (listeners.isEmpty()) {
                // Registered first, so a closed context leaves no listener behind.
                reloader.call(pointer -> {
                    Native.reloaderSetListener(pointer, listeners);
                    return null;
                });
            }
            listeners.add(listener);
        }
    }

    /**
     * Removes a listener added with {@link #addListener}.
     *
     * @param listener the listener
     */
    public void removeListener(ReloadListener listener) {
        synchronized (listeners) {
            if (listeners.remove(listener) && !reloader.isClosed()) {
                reloader.call(pointer -> {
                    Native.reloaderSetListener(pointer, null);
                    return null;
                });
            }
        }
    }

    /**
     * The reload figures now: counts of swapped, unchanged and failed reloads, the current
     * generation, live generations, the time of the last swap and the leaf's expiry.
     *
     * @return the figures
     * @throws IllegalStateException if this context was closed
     */
    public ReloadStats stats() {
        long[] figures = reloader.call(Native::reloaderStats);
        return new ReloadStats(figures[0], figures[1], figures[2], figures[3], figures[4],
                instant(figures[5]), instant(figures[6]));
    }

    private static Instant instant(long seconds) {
        return seconds == Long.MIN_VALUE ? null : Instant.ofEpochSecond(seconds);
    }

    /**
     * The configuration this context reloads from.
     *
     * @return a copy of the configuration; changing it has no effect on this context
     */
    public TlsConfig config() {
        return config.copy();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return reloader.isClosed();
    }

    /**
     * Stops the watcher and frees the reloader. Calling it again does nothing. Connections that
     * are open keep their generation; new connections fail.
     */
    @Override
    public void close() {
        if (ReloadListeners.isDispatching()) {
            throw new IllegalStateException(
                    "a reload listener cannot close the context it listens to");
        }
        reloader.close();
    }

    /**
     * Creates a native connection bound to the current generation, taken atomically with
     * respect to a concurrent swap.
     */
    NativeConnection newConnection(boolean client, String serverName, String[] alpn,
            boolean selectAlpn) {
        return reloader.call(pointer -> NativeConnection.open(pointer, client, serverName, alpn,
                selectAlpn));
    }

    /**
     * The certificate chain that {@code connection}, bound to {@code generation}, presents. A
     * generation's chains never change and a generation number is never reused, so each
     * identity (the main one, and one per {@linkplain TlsConfig#identityForName name}) keeps the
     * chain of the latest generation it served, shared by the sessions served it.
     *
     * @param serverName the SNI name the client sent, or null
     */
    ServedChain servedChain(NativeConnection connection, long generation, String serverName) {
        int identity = config.identityIndex(serverName);
        ServedChain chain = servedChains.get(identity);
        if (chain == null || chain.generation() != generation) {
            chain = new ServedChain(generation, connection.localCertificates());
            servedChains.set(identity, chain);
        }
        return chain;
    }

    boolean isServer() {
        return config.isServer();
    }

    TlsConfig configView() {
        return config;
    }

    /**
     * Describes the configuration.
     *
     * @return a one-line description
     */
    @Override
    public String toString() {
        return "ReloadingTlsContext{" + config + (isClosed() ? ", closed" : "") + "}";
    }
}

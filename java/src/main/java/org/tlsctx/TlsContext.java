package org.tlsctx;

import java.lang.ref.Cleaner;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One immutable generation of TLS configuration, loaded from files and held by reference count.
 *
 * <p>The semantics follow Netty's {@code ReferenceCounted}: a new context has a reference count
 * of 1, {@link #retain()} adds one, {@link #release()} drops one, and the native generation is
 * released exactly once, when the count reaches 0. {@link #close()} is {@link #release()}, so a
 * context opened in try-with-resources is released at the end of the block. Every method throws
 * {@link IllegalStateException} once the count has reached 0, without touching native memory.
 *
 * <p>The certificate details ({@link #fingerprint()}, {@link #subject()}, ...) are read once when
 * the context is created. A context dropped without being released is released by a cleaner
 * after garbage collection; relying on that keeps the generation alive for an unknown time.
 *
 * <p>Instances are thread-safe.
 */
public final class TlsContext implements AutoCloseable {
    private final AtomicInteger refCnt = new AtomicInteger(1);
    private final Cleaner.Cleanable releaser;
    private final long generation;
    private final String fingerprint;
    private final String subject;
    private final String serialNumber;
    private final Instant notBefore;
    private final Instant notAfter;

    /** Takes over one native reference to {@code handle}. */
    TlsContext(long handle) {
        try {
            this.generation = Native.contextGeneration(handle);
            this.fingerprint = Native.contextFingerprint(handle);
            this.subject = Native.contextSubject(handle);
            this.serialNumber = Native.contextSerial(handle);
            this.notBefore = instant(Native.contextNotBefore(handle));
            this.notAfter = instant(Native.contextNotAfter(handle));
        } catch (RuntimeException e) {
            Native.contextRelease(handle);
            throw e;
        }
        this.releaser = NativeLibrary.CLEANER.register(this, new HandleRelease(handle));
    }

    /**
     * The number of context generations alive in the whole process: those held by a
     * {@code TlsContext}, a reloading context or an open connection.
     *
     * @return the count
     */
    public static long liveGenerations() {
        NativeLibrary.ensureLoaded();
        return Native.liveGenerations();
    }

    /**
     * Adds one reference.
     *
     * @return this context
     * @throws IllegalStateException if the context was already released
     */
    public TlsContext retain() {
        return retain(1);
    }

    /**
     * Adds {@code increment} references.
     *
     * @param increment how many references to add, at least 1
     * @return this context
     * @throws IllegalArgumentException if {@code increment} is not positive
     * @throws IllegalStateException if the context was already released, or the count would
     *     overflow
     */
    public TlsContext retain(int increment) {
        if (increment <= 0) {
            throw new IllegalArgumentException("increment must be positive: " + increment);
        }
        while (true) {
            int count = refCnt.get();
            if (count <= 0) {
                throw released();
            }
            int next = count + increment;
            if (next <= 0) {
                throw new IllegalStateException("TlsContext reference count overflow");
            }
            if (refCnt.compareAndSet(count, next)) {
                return this;
            }
        }
    }

    /**
     * Drops one reference; the last one releases the native generation.
     *
     * @return true if this call dropped the count to 0 and released the generation
     * @throws IllegalStateException if the context was already released
     */
    public boolean release() {
        return release(1);
    }

    /**
     * Drops {@code decrement} references; reaching 0 releases the native generation.
     *
     * @param decrement how many references to drop, at least 1
     * @return true if this call dropped the count to 0 and released the generation
     * @throws IllegalArgumentException if {@code decrement} is not positive
     * @throws IllegalStateException if the context was already released, or holds fewer than
     *     {@code decrement} references
     */
    public boolean release(int decrement) {
        if (decrement <= 0) {
            throw new IllegalArgumentException("decrement must be positive: " + decrement);
        }
        while (true) {
            int count = refCnt.get();
            if (count <= 0) {
                throw released();
            }
            if (count < decrement) {
                throw new IllegalStateException("cannot release " + decrement
                        + " references from a TlsContext holding " + count);
            }
            int next = count - decrement;
            if (refCnt.compareAndSet(count, next)) {
                if (next == 0) {
                    releaser.clean();
                    return true;
                }
                return false;
            }
        }
    }

    /**
     * The current reference count.
     *
     * @return the count; 0 once released
     */
    public int refCnt() {
        return refCnt.get();
    }

    /**
     * Drops one reference, as {@link #release()} does.
     *
     * @throws IllegalStateException if the context was already released
     */
    @Override
    public void close() {
        release();
    }

    /**
     * The generation number: 1 for the first load of a reloading context, then one more per
     * swap.
     *
     * @return the generation
     */
    public long generation() {
        checkLive();
        return generation;
    }

    /**
     * The lowercase hex SHA-256 of the leaf certificate's DER encoding, as
     * {@code openssl x509 -fingerprint -sha256} prints it without colons.
     *
     * @return the fingerprint, or null for a client without a certificate
     */
    public String fingerprint() {
        checkLive();
        return fingerprint;
    }

    /**
     * The leaf certificate's subject in RFC 4514 form.
     *
     * @return the subject, or null without a certificate
     */
    public String subject() {
        checkLive();
        return subject;
    }

    /**
     * The leaf certificate's serial number as lowercase hex without leading zeros.
     *
     * @return the serial number, or null without a certificate
     */
    public String serialNumber() {
        checkLive();
        return serialNumber;
    }

    /**
     * The start of the leaf certificate's validity.
     *
     * @return the instant, or null without a certificate
     */
    public Instant notBefore() {
        checkLive();
        return notBefore;
    }

    /**
     * The end of the leaf certificate's validity: renew before it.
     *
     * @return the instant, or null without a certificate
     */
    public Instant notAfter() {
        checkLive();
        return notAfter;
    }

    /**
     * Describes the generation and leaf certificate.
     *
     * @return a one-line description
     */
    @Override
    public String toString() {
        return "TlsContext{generation=" + generation + ", subject=" + subject
                + ", fingerprint=" + fingerprint + ", notAfter=" + notAfter
                + ", refCnt=" + refCnt.get() + "}";
    }

    private void checkLive() {
        if (refCnt.get() <= 0) {
            throw released();
        }
    }

    private static IllegalStateException released() {
        return new IllegalStateException("TlsContext already released");
    }

    private static Instant instant(long epochSeconds) {
        return epochSeconds == Long.MIN_VALUE ? null : Instant.ofEpochSecond(epochSeconds);
    }

    /** Releases the native reference; the cleaner runs it at most once. */
    private static final class HandleRelease implements Runnable {
        private final long handle;

        HandleRelease(long handle) {
            this.handle = handle;
        }

        @Override
        public void run() {
            Native.contextRelease(handle);
        }
    }
}

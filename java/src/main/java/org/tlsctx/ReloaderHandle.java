package org.tlsctx;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongFunction;
import java.util.function.LongUnaryOperator;

/**
 * Owns the native reloader pointer: every call borrows it under a read lock, and
 * {@link #close()} frees it under the write lock, so a free can never race a call that is using
 * it. The pointer is freed exactly once, by {@link #close()} or, for a dropped reloader, by the
 * cleaner.
 */
final class ReloaderHandle {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Cleaner.Cleanable freer;
    private long pointer;

    ReloaderHandle(long pointer) {
        this.pointer = pointer;
        this.freer = NativeLibrary.CLEANER.register(this, new ReloaderFree(pointer));
    }

    /**
     * Runs {@code call} with the live pointer.
     *
     * @throws IllegalStateException if the reloader was closed
     */
    <T> T call(LongFunction<T> call) {
        lock.readLock().lock();
        try {
            return call.apply(livePointer());
        } finally {
            lock.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Runs {@code call} with the live pointer and returns its {@code long} result.
     *
     * @throws IllegalStateException if the reloader was closed
     */
    long callLong(LongUnaryOperator call) {
        lock.readLock().lock();
        try {
            return call.applyAsLong(livePointer());
        } finally {
            lock.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    boolean isClosed() {
        lock.readLock().lock();
        try {
            return pointer == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Frees the reloader once in-flight calls are done; later calls are no-ops. */
    void close() {
        boolean free = false;
        lock.writeLock().lock();
        try {
            free = pointer != 0;
            pointer = 0;
        } finally {
            lock.writeLock().unlock();
        }
        // Freed outside the lock: freeing joins the watcher thread, whose reload listener may
        // be calling into this context, and must meet "already closed", not a held lock.
        if (free) {
            freer.clean();
        }
    }

    private long livePointer() {
        if (pointer == 0) {
            throw new IllegalStateException("ReloadingTlsContext already closed");
        }
        return pointer;
    }

    /** Frees the native reloader; the cleaner runs it at most once. */
    private static final class ReloaderFree implements Runnable {
        private final long pointer;

        ReloaderFree(long pointer) {
            this.pointer = pointer;
        }

        @Override
        public void run() {
            Native.reloaderFree(pointer);
        }
    }
}

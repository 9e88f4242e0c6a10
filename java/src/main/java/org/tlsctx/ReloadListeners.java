package org.tlsctx;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The listeners of one reloading context, and the object the native library calls back. Kept
 * apart from {@link ReloadingTlsContext}, so the native side's reference to it does not keep the
 * context itself reachable.
 */
final class ReloadListeners {
    private static final Logger LOG = Logger.getLogger("org.tlsctx.reload");
    private static final ReloadEvent.Attempt[] ATTEMPTS = ReloadEvent.Attempt.values();

    private static final ThreadLocal<Boolean> DISPATCHING = ThreadLocal.withInitial(() -> false);

    private final List<ReloadListener> listeners = new CopyOnWriteArrayList<>();

    /** Whether this thread is running a reload listener. */
    static boolean isDispatching() {
        return DISPATCHING.get();
    }

    boolean isEmpty() {
        return listeners.isEmpty();
    }

    void add(ReloadListener listener) {
        listeners.add(listener);
    }

    /** Removes a listener; true when none is left. */
    boolean remove(ReloadListener listener) {
        listeners.remove(listener);
        return listeners.isEmpty();
    }

    /** Called by the native library after each reload attempt. */
    void onNativeReload(int attempt, long generation, String serial, String fingerprint,
            long notAfter, String error) {
        ReloadEvent event = new ReloadEvent(ATTEMPTS[attempt], generation, serial, fingerprint,
                notAfter == Long.MIN_VALUE ? null : Instant.ofEpochSecond(notAfter), error);
        DISPATCHING.set(true);
        try {
            for (ReloadListener listener : listeners) {
                try {
                    listener.onReload(event);
                } catch (VirtualMachineError e) {
                    throw e;
                } catch (Throwable e) {
                    LOG.log(Level.WARNING, "a reload listener threw on " + event, e);
                }
            }
        } finally {
            DISPATCHING.set(false);
        }
    }
}

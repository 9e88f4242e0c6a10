package org.tlsctx;

/**
 * Told about every reload attempt of a {@link ReloadingTlsContext}: manual ones and the
 * watcher's, swapped, unchanged or failed.
 *
 * <p>Called on the thread that reloaded (for the watcher, a native thread attached to the JVM)
 * while further reloads wait, so it should be quick. The event carries everything about the
 * outcome; a listener must not call back into the reloading context (its {@code reload()} or
 * {@code close()} would wait on the reload that is reporting). An exception it throws is
 * logged and otherwise ignored.
 */
@FunctionalInterface
public interface ReloadListener {
    /**
     * Receives one reload attempt's outcome.
     *
     * @param event what the attempt did and the generation serving afterwards
     */
    void onReload(ReloadEvent event);
}

package org.tlsctx;

import java.time.Instant;

/**
 * A reloading context's figures at one moment, from {@link ReloadingTlsContext#stats()}.
 *
 * @param swapped reloads that swapped in a new generation
 * @param unchanged reloads that found the files unchanged
 * @param failed reloads that failed and kept the current generation
 * @param generation the current generation
 * @param liveGenerations generations still alive: the current one plus those open connections
 *     or handles hold
 * @param lastSwap when the current generation was swapped in (or first loaded)
 * @param notAfter when the current leaf expires, or null without a certificate
 */
public record ReloadStats(long swapped, long unchanged, long failed, long generation,
        long liveGenerations, Instant lastSwap, Instant notAfter) {}

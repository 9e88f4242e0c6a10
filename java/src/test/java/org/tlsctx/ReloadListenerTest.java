package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reload listeners hear every attempt, from manual reloads and the watcher; stats add up. */
class ReloadListenerTest {
    private static final Path B01 = TestMaterial.caseDir("B01");
    private static final Path B05 = TestMaterial.caseDir("B05");
    private static final Path B19 = TestMaterial.caseDir("B19");

    @Test
    void listenersHearEachAttemptAndTheStatsAddUp(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs8.key"), key);
        List<ReloadEvent> heard = new CopyOnWriteArrayList<>();
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            reloading.addListener(heard::add);
            assertEquals(ReloadResult.UNCHANGED, reloading.reload());
            replace(B01.resolve("server.crt"), chain);
            replace(B01.resolve("server.key"), key);
            assertEquals(ReloadResult.SWAPPED, reloading.reload());
            replace(B19.resolve("other-rsa.key"), key);
            TlsException failure = assertThrows(TlsException.class, reloading::reload);

            assertEquals(3, heard.size(), heard.toString());
            assertEquals(ReloadEvent.Attempt.UNCHANGED, heard.get(0).attempt());
            assertEquals(1, heard.get(0).generation());
            assertEquals("d4ea23449b23fea2", heard.get(0).serialNumber());
            assertNull(heard.get(0).error());
            assertEquals(ReloadEvent.Attempt.SWAPPED, heard.get(1).attempt());
            assertEquals(2, heard.get(1).generation());
            assertEquals("5f19806269c0012e", heard.get(1).serialNumber());
            assertEquals(TestMaterial.fingerprint(B01.resolve("server.crt")),
                    heard.get(1).fingerprint());
            assertEquals(Instant.parse("2048-12-31T23:59:59Z"), heard.get(1).notAfter());
            assertEquals(ReloadEvent.Attempt.FAILED, heard.get(2).attempt());
            assertEquals(2, heard.get(2).generation());
            assertEquals(failure.getMessage(), heard.get(2).error());

            ReloadStats stats = reloading.stats();
            assertEquals(1, stats.swapped());
            assertEquals(1, stats.unchanged());
            assertEquals(1, stats.failed());
            assertEquals(2, stats.generation());
            assertEquals(1, stats.liveGenerations());
            assertEquals(Instant.parse("2048-12-31T23:59:59Z"), stats.notAfter());
            assertTrue(stats.lastSwap().isAfter(Instant.parse("2026-01-01T00:00:00Z")));
        }
    }

    @Test
    void theWatcherThreadReachesJavaListeners(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs8.key"), key);
        List<ReloadEvent> heard = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ofMillis(100))
                .debounce(Duration.ofMillis(20))
                .reloading()) {
            reloading.addListener(event -> {
                threads.add(Thread.currentThread().getName());
                heard.add(event);
            });
            replace(B01.resolve("server.crt"), chain);
            replace(B01.resolve("server.key"), key);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (heard.stream().noneMatch(e -> e.attempt() == ReloadEvent.Attempt.SWAPPED)
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            ReloadEvent swapped = heard.stream()
                    .filter(e -> e.attempt() == ReloadEvent.Attempt.SWAPPED)
                    .findFirst().orElseThrow();
            assertEquals(2, swapped.generation());
            assertEquals("5f19806269c0012e", swapped.serialNumber());
            assertNotEquals(Thread.currentThread().getName(), threads.get(0),
                    "the watcher's own thread reports, not the test's");
        }
    }

    @Test
    void aListenerCannotReloadOrCloseItsOwnContext(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs8.key"), key);
        List<String> outcomes = new CopyOnWriteArrayList<>();
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ZERO)
                .reloading()) {
            reloading.addListener(event -> {
                try {
                    reloading.reload();
                    outcomes.add("reloaded");
                } catch (TlsException e) {
                    outcomes.add(e.reason() + ": " + e.getMessage());
                }
                try {
                    reloading.close();
                    outcomes.add("closed");
                } catch (IllegalStateException e) {
                    outcomes.add(e.getMessage());
                }
                outcomes.add("stats " + reloading.stats().unchanged());
            });
            assertEquals(ReloadResult.UNCHANGED, reloading.reload());
            assertEquals(List.of(
                    "INVALID_STATE: invalid connection state: a reload listener cannot reload "
                            + "the context it listens to",
                    "a reload listener cannot close the context it listens to",
                    "stats 1"), outcomes);
            assertEquals(1, reloading.generation(), "the context is still open and serving");
        }
    }

    private static void replace(Path from, Path to) throws Exception {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
}

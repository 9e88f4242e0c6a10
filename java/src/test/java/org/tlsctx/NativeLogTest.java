package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The native library's reload events reach java.util.logging, from the watcher thread too. */
class NativeLogTest {
    private static final Path B05 = TestMaterial.caseDir("B05");
    private static final Path B19 = TestMaterial.caseDir("B19");

    @Test
    void reloadOutcomesAreLoggedWithTheFileAndTheGeneration(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs8.key"), key);
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = capturing(records);
        Logger logger = Logger.getLogger("org.tlsctx.native");
        logger.addHandler(capture);
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .pollInterval(Duration.ofMillis(50))
                .reloading()) {
            Files.copy(B19.resolve("other-rsa.key"), key, StandardCopyOption.REPLACE_EXISTING);
            // The watcher finds the mismatch on its own thread; one warning, not one per poll.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (failures(records, key).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300);
            List<LogRecord> failed = failures(records, key);
            assertEquals(1, failed.size(), records.stream().map(LogRecord::getMessage)
                    .collect(Collectors.joining("\n")));
            assertEquals(Level.WARNING, failed.get(0).getLevel());
            assertEquals("org.tlsctx.native.tlsctx.reload", failed.get(0).getLoggerName());
            assertTrue(failed.get(0).getMessage().contains("does not match"),
                    failed.get(0).getMessage());

            assertThrows(TlsException.class, reloading::reload);
            assertEquals(1, failures(records, key).size(), "the same failure is logged once");
        } finally {
            logger.removeHandler(capture);
        }
    }

    @Test
    void aLeafWithinTheExpiryWarningIsLoggedOncePerGeneration(@TempDir Path dir)
            throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B05.resolve("server.crt"), chain);
        Files.copy(B05.resolve("server-pkcs8.key"), key);
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = capturing(records);
        Logger logger = Logger.getLogger("org.tlsctx.native");
        logger.addHandler(capture);
        String fingerprint = TestMaterial.fingerprint(B05.resolve("server.crt"));
        // B05's leaf expires at the end of 2048: within a hundred years.
        try (ReloadingTlsContext reloading = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .expiryWarning(Duration.ofDays(36_500))
                .pollInterval(Duration.ZERO)
                .reloading()) {
            assertEquals(ReloadResult.UNCHANGED, reloading.reload());
            List<LogRecord> warnings = records.stream()
                    .filter(r -> r.getMessage().startsWith("the served certificate expires soon")
                            && r.getMessage().contains(fingerprint))
                    .collect(Collectors.toList());
            assertEquals(1, warnings.size(), "once for generation 1, not again on reload");
            assertEquals(Level.WARNING, warnings.get(0).getLevel());
        } finally {
            logger.removeHandler(capture);
        }
    }

    @Test
    void closingAContextWithAListenerLogsNothing() throws Exception {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = capturing(records);
        Logger logger = Logger.getLogger("org.tlsctx.native");
        logger.addHandler(capture);
        try {
            // Watching on, so the watcher thread holds the listener too and may drop it last.
            for (int round = 0; round < 3; round++) {
                List<ReloadEvent> heard = new CopyOnWriteArrayList<>();
                try (ReloadingTlsContext reloading = TlsConfig.server()
                        .certificateChain(B05.resolve("server.crt"))
                        .privateKey(B05.resolve("server-pkcs8.key"))
                        .pollInterval(Duration.ofMillis(20))
                        .reloading()) {
                    reloading.addListener(heard::add);
                    Thread.sleep(60);
                }
                assertEquals(List.of(), heard, "nothing changed, so nothing was reported");
            }
            List<String> warnings = records.stream()
                    .filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                    .map(r -> r.getLoggerName() + ": " + r.getMessage())
                    .collect(Collectors.toList());
            assertEquals(List.of(), warnings);
        } finally {
            logger.removeHandler(capture);
        }
    }

    /** A handler that keeps every record it is given. */
    private static Handler capturing(List<LogRecord> records) {
        return new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
    }

    private static List<LogRecord> failures(List<LogRecord> records, Path key) {
        return records.stream()
                .filter(r -> r.getMessage().startsWith("reload failed; keeping the current "
                        + "generation") && r.getMessage().contains(key.toString()))
                .collect(Collectors.toList());
    }
}

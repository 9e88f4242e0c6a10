package org.tlsctx.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.netty.handler.ssl.SslContext;

import org.tlsctx.ReloadResult;
import org.tlsctx.ReloadingTlsContext;
import org.tlsctx.TlsConfig;
import org.tlsctx.TlsContext;
import org.tlsctx.TlsException;
import org.tlsctx.netty.TlsNettyContext;

/**
 * Rotates a live broker's certificate under load and checks that every client got a certificate
 * the broker was serving, that a broken rotation is refused without interrupting service, and
 * that retired generations are freed once their last connection closes.
 *
 * <p>The run: the demo makes its own CA, writes a server certificate chain and key into a
 * temporary directory, and starts a Netty echo broker whose TLS comes from a tlsctx reloading
 * context over those files. Client threads using the JDK's TLS stack connect over and over while
 * the demo rotates the files five times, one rotation writing a private key that does not match
 * its certificate, and calls {@code reload()} after each. One line per rotation reports the
 * generation, the serial a fresh connection was served, the generations alive and the process's
 * resident memory. A final verdict line says PASS (exit code 0) or what failed (exit code 1).
 *
 * <p>The watcher is left off so that every swap happens inside a {@code reload()} call the demo
 * timed; {@link ServingTimeline} explains how those timings judge each connection.
 */
public final class RotationDemo {
    private static final String APPLICATION_PROTOCOL = "echo/1";
    private static final int CLIENT_THREADS = 4;
    private static final Duration WARM_UP = Duration.ofSeconds(2);
    private static final Duration BETWEEN_ROTATIONS = Duration.ofSeconds(2);
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(10);
    private static final List<Rotation> ROTATIONS =
            List.of(
                    Rotation.NEW_CERTIFICATE,
                    Rotation.NEW_CERTIFICATE,
                    Rotation.MISMATCHED_KEY,
                    Rotation.NEW_CERTIFICATE,
                    Rotation.NEW_CERTIFICATE);

    private final CertificateAuthority authority;
    private final Path directory;
    private final Path certificateChain;
    private final Path privateKey;
    private final ServingTimeline timeline = new ServingTimeline();
    private final List<String> failures = new ArrayList<>();

    /** The serial new connections get now: the last one a reload swapped in. */
    private String servedSerial;
    /** The generation new connections get now. */
    private long generation;

    private RotationDemo(CertificateAuthority authority, Path directory) {
        this.authority = authority;
        this.directory = directory;
        this.certificateChain = directory.resolve("server-chain.pem");
        this.privateKey = directory.resolve("server-key.pem");
    }

    /** Runs the demo; exits 0 when every check passed, 1 otherwise. */
    public static void main(String[] args) {
        int exitCode;
        Path directory = null;
        try {
            directory = Files.createTempDirectory("tlsctx-demo-");
            CertificateAuthority authority = CertificateAuthority.create("tlsctx demo CA");
            exitCode = new RotationDemo(authority, directory).run() ? 0 : 1;
        } catch (Exception e) {
            System.out.println("FAIL: the demo stopped early: " + e);
            e.printStackTrace();
            exitCode = 1;
        } finally {
            deleteQuietly(directory);
        }

        // Exiting explicitly also ends any client thread still stuck past its socket timeout.
        System.exit(exitCode);
    }

    private boolean run() throws GeneralSecurityException, InterruptedException, IOException {
        authority.writeCertificate(directory.resolve("ca.pem"));
        CertificateAuthority.ServerIdentity identity = authority.issueServerIdentity();
        authority.writeIdentity(
                identity.certificate(), identity.privateKey(), certificateChain, privateKey);

        long loadedAt = System.nanoTime();
        try (ReloadingTlsContext reloading =
                TlsConfig.server()
                        .certificateChain(certificateChain)
                        .privateKey(privateKey)
                        .applicationProtocols(APPLICATION_PROTOCOL)
                        .pollInterval(Duration.ZERO)
                        .reloading()) {
            timeline.initial(identity.serialHex(), loadedAt);
            servedSerial = identity.serialHex();
            generation = currentGeneration(reloading);
            SslContext sslContext = TlsNettyContext.forServer(reloading);

            try (EchoBroker broker = EchoBroker.start(sslContext)) {
                EchoClient client =
                        new EchoClient(
                                authority.clientTrustManagers(),
                                broker.address(),
                                APPLICATION_PROTOCOL);
                System.out.printf(
                        "tlsctx rotation demo: broker on %s:%d, %d client threads, files in %s%n",
                        broker.address().getAddress().getHostAddress(),
                        broker.address().getPort(),
                        CLIENT_THREADS,
                        directory);
                rotateUnderLoad(reloading, broker, client);
            }
        }

        if (failures.isEmpty()) {
            System.out.println(
                    "PASS: every connection saw a certificate the broker was serving, the"
                            + " mismatched key was refused while serving went on, and retired"
                            + " generations were freed");
            return true;
        }
        String more = failures.size() > 1 ? " (and " + (failures.size() - 1) + " more below)" : "";
        System.out.println("FAIL: " + failures.get(0) + more);
        for (String failure : failures.subList(1, failures.size())) {
            System.out.println("  also: " + failure);
        }
        return false;
    }

    private void rotateUnderLoad(
            ReloadingTlsContext reloading, EchoBroker broker, EchoClient client)
            throws GeneralSecurityException, InterruptedException, IOException {
        printState("start", "loaded", reloading, client, null);

        // Opened before any rotation and kept to the end: it holds the first generation alive, and
        // its echoes show that a rotation leaves established connections alone.
        String firstSerial = servedSerial;
        EchoClient.Connection longLived = client.open("localhost");
        checkLongLived(longLived, firstSerial, "before the first rotation");

        ClientLoad load = ClientLoad.start(client, CLIENT_THREADS);
        try {
            Thread.sleep(WARM_UP.toMillis());
            for (int i = 0; i < ROTATIONS.size(); i++) {
                String label = "rotation " + (i + 1);
                rotate(reloading, ROTATIONS.get(i), label, client);
                checkLongLived(longLived, firstSerial, "after " + label);
                Thread.sleep(BETWEEN_ROTATIONS.toMillis());
            }
        } finally {
            load.stop();
            longLived.close();
        }
        if (!load.stopped()) {
            failures.add("a client thread was still connecting 15 s after the load was stopped");
        }

        judgeExchanges(load.exchanges());
        awaitRetiredGenerationsFreed(reloading, broker);
        if (broker.connectionFailures() > 0) {
            System.out.printf(
                    "broker: %d connections ended in an exception, the last: %s%n",
                    broker.connectionFailures(), broker.lastFailure());
        }
    }

    /** Writes the rotation's files, reloads, and prints the state a fresh client then sees. */
    private void rotate(
            ReloadingTlsContext reloading, Rotation rotation, String label, EchoClient client)
            throws GeneralSecurityException {
        CertificateAuthority.ServerIdentity next = authority.issueServerIdentity();
        boolean keyMatches = rotation == Rotation.NEW_CERTIFICATE;
        authority.writeIdentity(
                next.certificate(),
                keyMatches ? next.privateKey() : authority.unrelatedPrivateKey(),
                certificateChain,
                privateKey);

        long reloadStarted = System.nanoTime();
        ReloadResult result;
        try {
            result = reloading.reload();
        } catch (TlsException e) {
            if (keyMatches) {
                failures.add(label + ": reload of a matching certificate and key failed: " + e);
            } else if (reloading.lastError() == null) {
                failures.add(label + ": reload was refused but lastError() is null");
            }
            printState(label, "refused", reloading, client, e.getMessage());
            return;
        }
        long reloadReturned = System.nanoTime();

        if (result != ReloadResult.SWAPPED) {
            failures.add(label + ": reload() returned " + result + " for new files");
            printState(label, result.toString().toLowerCase(), reloading, client, null);
            return;
        }
        if (!keyMatches) {
            failures.add(label + ": a certificate with a mismatched private key was swapped in");
        }
        timeline.swapped(next.serialHex(), reloadStarted, reloadReturned);
        servedSerial = next.serialHex();
        long previousGeneration = generation;
        generation = currentGeneration(reloading);
        if (generation <= previousGeneration) {
            failures.add(
                    label + ": generation went from " + previousGeneration + " to " + generation);
        }
        printState(label, "swapped", reloading, client, null);
    }

    /**
     * Prints one line: what the context reports, the serial a fresh connection is served, the
     * generations alive and the process's resident memory. Mismatches are recorded as failures.
     */
    private void printState(
            String label,
            String outcome,
            ReloadingTlsContext reloading,
            EchoClient client,
            String refusal) {
        try (TlsContext current = reloading.current()) {
            if (current.generation() != generation) {
                failures.add(
                        label + ": current() is generation " + current.generation()
                                + ", expected " + generation);
            }
            if (!servedSerial.equals(current.serialNumber())) {
                failures.add(
                        label + ": current() reports serial " + current.serialNumber()
                                + ", expected " + servedSerial);
            }
        }

        EchoClient.Exchange probe = client.exchange("localhost", "probe " + label);
        String observed = probe.servedSerial() == null ? "none" : probe.servedSerial();
        if (probe.failure() != null) {
            failures.add(label + ": the probe connection failed: " + probe.failure());
        } else if (!servedSerial.equals(probe.servedSerial())) {
            failures.add(
                    label + ": a fresh connection was served serial " + observed
                            + ", expected " + servedSerial);
        }

        System.out.printf(
                "%-11s %-8s generation %-3d served serial %-16s live generations %-3d"
                        + " VmRSS %s%s%n",
                label,
                outcome,
                generation,
                observed,
                reloading.liveGenerations(),
                residentMemory(),
                refusal == null ? "" : "  reason: " + refusal);
    }

    private static long currentGeneration(ReloadingTlsContext reloading) {
        try (TlsContext current = reloading.current()) {
            return current.generation();
        }
    }

    private void checkLongLived(EchoClient.Connection connection, String serial, String when) {
        String line = "long-lived connection " + when;
        try {
            String echo = connection.send(line);
            if (!line.equals(echo)) {
                failures.add("the long-lived connection echoed \"" + echo + "\" " + when);
            }
        } catch (IOException e) {
            failures.add("the long-lived connection failed " + when + ": " + e);
        }
        if (!serial.equals(connection.servedSerial())) {
            failures.add("the long-lived connection was served " + connection.servedSerial());
        }
    }

    /**
     * Checks every load connection: the exchange completed, ALPN chose the broker's protocol, and
     * the served serial is one the broker may have served during the attempt.
     */
    private void judgeExchanges(List<EchoClient.Exchange> exchanges) {
        Map<String, Integer> connectionsBySerial = new LinkedHashMap<>();
        int failed = 0;
        int straddled = 0;
        int unexpectedSerial = 0;
        int wrongProtocol = 0;
        for (EchoClient.Exchange exchange : exchanges) {
            if (exchange.servedSerial() != null) {
                connectionsBySerial.merge(exchange.servedSerial(), 1, Integer::sum);
            }
            if (exchange.failure() != null) {
                if (failed++ == 0) {
                    failures.add("a client connection failed: " + exchange.failure());
                }
                continue;
            }
            if (!APPLICATION_PROTOCOL.equals(exchange.applicationProtocol())) {
                if (wrongProtocol++ == 0) {
                    failures.add(
                            "a client connection negotiated ALPN \""
                                    + exchange.applicationProtocol() + "\", expected \""
                                    + APPLICATION_PROTOCOL + "\"");
                }
            }
            if (timeline.servableCount(exchange.attemptStarted(), exchange.attemptEnded()) > 1) {
                straddled++;
            }
            if (!timeline.mayHaveServed(
                    exchange.servedSerial(), exchange.attemptStarted(), exchange.attemptEnded())) {
                if (unexpectedSerial++ == 0) {
                    failures.add(
                            "a client connection was served serial " + exchange.servedSerial()
                                    + ", which the broker was not serving during its attempt");
                }
            }
        }
        System.out.printf(
                "clients: %d connections (%d straddling a swap), %d failed, %d served an unexpected"
                        + " serial, %d without ALPN %s; by serial: %s%n",
                exchanges.size(),
                straddled,
                failed,
                unexpectedSerial,
                wrongProtocol,
                APPLICATION_PROTOCOL,
                connectionsBySerial);
        if (exchanges.isEmpty()) {
            failures.add("the client threads made no connection");
        }
    }

    /**
     * Waits, up to {@link #RELEASE_WAIT}, for the broker to close its side of every connection and
     * then for the reloader to hold only its current generation, and prints how long that took.
     */
    private void awaitRetiredGenerationsFreed(ReloadingTlsContext reloading, EchoBroker broker)
            throws InterruptedException {
        long started = System.nanoTime();
        long deadline = started + RELEASE_WAIT.toNanos();
        while (broker.openConnections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        long live = reloading.liveGenerations();
        while (live != 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
            live = reloading.liveGenerations();
        }

        long waitedMillis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf(
                "after clients closed: live generations %d after %d ms, broker connections open"
                        + " %d, VmRSS %s%n",
                live, waitedMillis, broker.openConnections(), residentMemory());
        if (broker.openConnections() > 0) {
            failures.add(
                    "the broker still held " + broker.openConnections() + " connections "
                            + RELEASE_WAIT.toSeconds() + " s after every client closed");
        }
        if (live != 1) {
            failures.add(
                    "live generations stayed at " + live + " for "
                            + RELEASE_WAIT.toSeconds() + " s after every client closed");
        }
    }

    /** The VmRSS line of /proc/self/status, such as "61440 kB", or "unknown". */
    private static String residentMemory() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(line -> line.startsWith("VmRSS:"))
                    .map(line -> line.substring("VmRSS:".length()).trim())
                    .findFirst()
                    .orElse("unknown");
        } catch (IOException | UncheckedIOException e) {
            return "unknown";
        }
    }

    private static void deleteQuietly(Path directory) {
        if (directory == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            System.err.println("could not remove " + directory + ": " + e);
        }
    }

    /** What a rotation writes over the served files. */
    private enum Rotation {
        /** A fresh certificate with a new serial, and its own private key. */
        NEW_CERTIFICATE,
        /** A fresh certificate with a new serial, beside a private key of another key pair. */
        MISMATCHED_KEY,
    }
}

package org.tlsctx.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.tlsctx.ReloadResult;
import org.tlsctx.ReloadingTlsContext;
import org.tlsctx.TlsConfig;
import org.tlsctx.TlsSslContext;

/**
 * Resident memory per certificate rotation, in one JVM: either a Netty OpenSSL server context
 * rebuilt and the old one dropped without {@code release()} (the broker's reload), or a tlsctx
 * reload. Every rotation also opens and closes one server engine, as the first connection after
 * a rotation would.
 *
 * <p>Usage: {@code RotationMemory <netty-openssl|netty-openssl-refcnt|tlsctx> <rotations>
 * <identity-a-dir> <identity-b-dir> <work-dir>}; each identity directory holds
 * {@code server.crt} and {@code server.key}. Prints one line:
 * {@code rotation <mode> <rotations> <rss-before-kib> <rss-after-kib> <mib-per-1000>}.
 *
 * <p>Run it with a fixed, pre-touched heap ({@code -Xms128m -Xmx128m -XX:+AlwaysPreTouch}) so
 * that heap growth does not show up as resident memory; what grows is native memory. A full
 * GC runs before each reading, so only what the garbage collector cannot reclaim counts.
 */
public final class RotationMemory {
    /**
     * Rotations before the first reading, so that JIT compilation and the allocators' arenas
     * have settled: with 100, one run of 2,000 tlsctx rotations started 45 MiB lower than the
     * next ones and showed 24 MiB of growth that 8,000 rotations did not repeat.
     */
    private static final int WARM_UP_ROTATIONS = 1000;

    private RotationMemory() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int rotations = Integer.parseInt(args[1]);
        Path[] identities = {Path.of(args[2]), Path.of(args[3])};
        Path work = Files.createDirectories(Path.of(args[4]));
        Path certificate = work.resolve("server.crt");
        Path key = work.resolve("server.key");
        install(identities[0], certificate, key);

        Rotator rotator;
        switch (mode) {
            case "netty-openssl":
                rotator = new NettyRotator(certificate, key, SslProvider.OPENSSL);
                break;
            case "netty-openssl-refcnt":
                rotator = new NettyRotator(certificate, key, SslProvider.OPENSSL_REFCNT);
                break;
            case "tlsctx":
                rotator = new TlsctxRotator(certificate, key);
                break;
            default:
                throw new IllegalArgumentException("unknown mode " + mode);
        }

        for (int i = 1; i <= WARM_UP_ROTATIONS; i++) {
            install(identities[i % 2], certificate, key);
            rotator.rotate();
        }
        long before = residentKib();
        for (int i = 1; i <= rotations; i++) {
            install(identities[i % 2], certificate, key);
            rotator.rotate();
        }
        long after = residentKib();
        double mibPer1000 = (after - before) / 1024.0 / rotations * 1000.0;
        System.out.printf("rotation %s %d %d %d %.2f%n", mode, rotations, before, after,
                mibPer1000);
    }

    private static void install(Path identity, Path certificate, Path key) throws IOException {
        Files.copy(identity.resolve("server.crt"), certificate,
                StandardCopyOption.REPLACE_EXISTING);
        Files.copy(identity.resolve("server.key"), key, StandardCopyOption.REPLACE_EXISTING);
    }

    /** VmRSS of this process, after a full GC has had the chance to run cleaners. */
    private static long residentKib() throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }

    /** One rotation of the context under test. */
    private interface Rotator {
        void rotate() throws Exception;
    }

    /** The broker's reload: build a new context, overwrite the field, never release the old. */
    private static final class NettyRotator implements Rotator {
        private final Path certificate;
        private final Path key;
        private final SslProvider provider;
        private SslContext current;

        NettyRotator(Path certificate, Path key, SslProvider provider) {
            this.certificate = certificate;
            this.key = key;
            this.provider = provider;
        }

        @Override
        public void rotate() throws SSLException {
            current = SslContextBuilder.forServer(certificate.toFile(), key.toFile())
                    .sslProvider(provider)
                    .protocols(List.of("TLSv1.3", "TLSv1.2"))
                    .build();
            SSLEngine engine = current.newEngine(ByteBufAllocator.DEFAULT);
            engine.beginHandshake();
            engine.closeOutbound();
            try {
                engine.closeInbound();
            } catch (SSLException expected) {
                // No peer: its close_notify never comes.
            }
            ReferenceCountUtil.release(engine);
        }
    }

    /** tlsctx: one reloading context; each rotation is a reload that swaps a generation. */
    private static final class TlsctxRotator implements Rotator {
        private final ReloadingTlsContext context;
        private final SSLContext sslContext;
        private final ByteBuffer network = ByteBuffer.allocate(64 * 1024);

        TlsctxRotator(Path certificate, Path key) {
            context = TlsConfig.server()
                    .certificateChain(certificate)
                    .privateKey(key)
                    .pollInterval(Duration.ZERO)
                    .reloading();
            sslContext = TlsSslContext.forServer(context);
        }

        @Override
        public void rotate() throws SSLException {
            if (context.reload() != ReloadResult.SWAPPED) {
                throw new IllegalStateException("reload did not swap: " + context.lastError());
            }
            SSLEngine engine = sslContext.createSSLEngine();
            engine.beginHandshake();
            engine.closeOutbound();
            network.clear();
            engine.wrap(ByteBuffer.allocate(0), network);
            try {
                engine.closeInbound();
            } catch (SSLException expected) {
                // No peer: its close_notify never comes.
            }
        }
    }
}

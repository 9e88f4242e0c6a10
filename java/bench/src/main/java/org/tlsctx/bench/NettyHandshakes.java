package org.tlsctx.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.tlsctx.ReloadingTlsContext;
import org.tlsctx.TlsConfig;
import org.tlsctx.netty.TlsNettyContext;

/**
 * Full handshakes per second through a Netty server on loopback, the server's
 * {@code SslHandler} engine being tlsctx's, the JDK's or netty-tcnative's, and the client the
 * same for all three.
 *
 * <p>The server is one NIO event loop thread that accepts and serves every connection, so its
 * CPU is the resource the engines compete for; the client is another event loop thread keeping
 * {@code concurrency} connections in flight. Each client connection connects, waits for its
 * handshake, and closes; the next one starts when the close completes. Clients never resume:
 * their handlers have no peer host, so no session is looked up or offered.
 *
 * <p>After a warm-up, the server's completed handshakes are counted over {@code rounds} windows
 * of {@code seconds} each. Two rates come out: handshakes per second of wall-clock time (the
 * median window), which on a small machine also depends on how fast the client is, and
 * handshakes per second of the server thread's CPU time (all windows together), which does
 * not.
 *
 * <p>Usage: {@code NettyHandshakes <TLSCTX|JDK|TCNATIVE> <TLSv1.3|TLSv1.2>
 * <ecdsa-p256|rsa-2048> <tcnative|jdk client> <concurrency> <warm-up-seconds> <seconds>
 * <rounds>}, with {@code -Dtlsctx.bench.cases} naming the case directory (see
 * {@link Engines.Material#forKey}). Prints one line: {@code netty <engine> <protocol> <key>
 * <client> <concurrency> <seconds> <rounds> <handshakes-per-second> <per-server-cpu-second>
 * <failures>}.
 */
public final class NettyHandshakes {
    private NettyHandshakes() {}

    public static void main(String[] args) throws Exception {
        Engines.Implementation engine = Engines.Implementation.valueOf(args[0]);
        String protocol = args[1];
        String key = args[2];
        String client = args[3];
        int concurrency = Integer.parseInt(args[4]);
        long warmUpSeconds = Long.parseLong(args[5]);
        long seconds = Long.parseLong(args[6]);
        int rounds = Integer.parseInt(args[7]);

        String suite = HandshakeBenchmark.suiteFor(protocol, key);
        Engines.Material material = Engines.Material.forKey(key);
        ReloadingTlsContext tlsctx = null;
        SslContext serverContext;
        if (engine == Engines.Implementation.TLSCTX) {
            tlsctx = TlsConfig.server()
                    .certificateChain(material.certificatePath)
                    .privateKey(material.privateKeyPath)
                    .protocols(protocol)
                    .cipherSuites(suite)
                    .pollInterval(Duration.ZERO)
                    .reloading();
            serverContext = TlsNettyContext.forServer(tlsctx);
        } else {
            serverContext = SslContextBuilder.forServer(material.privateKey(),
                            material.certificate())
                    .sslProvider(engine == Engines.Implementation.JDK
                            ? SslProvider.JDK
                            : SslProvider.OPENSSL)
                    .protocols(protocol)
                    .ciphers(List.of(suite))
                    .build();
        }
        // The client does not verify the server: verification is client work, and the less of
        // it there is, the more surely the server is what limits the rate. The tcnative client
        // offers X25519 and P-256 only: by default it would offer the X25519MLKEM768 hybrid,
        // which rustls takes and BoringSSL's server and the JDK's do not, so the servers would
        // not be doing the same work. (P-256 must stay: in TLS 1.2 the list also names the
        // curves of ECDSA certificates the client accepts. The JDK client offers no hybrid.)
        SslContextBuilder clientBuilder = SslContextBuilder.forClient()
                .sslProvider(client.equals("jdk") ? SslProvider.JDK : SslProvider.OPENSSL)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .protocols(protocol)
                .ciphers(List.of(suite));
        if (!client.equals("jdk")) {
            clientBuilder.option(OpenSslContextOption.GROUPS, new String[] {"X25519", "P-256"});
        }
        SslContext clientContext = clientBuilder.build();

        EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ServerCounts counts = new ServerCounts();
        try {
            Channel listener = new ServerBootstrap()
                    .group(serverGroup)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(serverContext.newHandler(ch.alloc()), counts);
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            long serverThread = serverGroup.submit(() -> Thread.currentThread().getId()).get();

            Load load = new Load(clientGroup, clientContext,
                    (InetSocketAddress) listener.localAddress(), concurrency);
            load.start();
            Thread.sleep(TimeUnit.SECONDS.toMillis(warmUpSeconds));

            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            double[] rates = new double[rounds];
            long handshakes = 0;
            long cpuNanos = 0;
            for (int round = 0; round < rounds; round++) {
                long countBefore = counts.handshakes.get();
                long cpuBefore = threads.getThreadCpuTime(serverThread);
                long start = System.nanoTime();
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                long count = counts.handshakes.get() - countBefore;
                long elapsed = System.nanoTime() - start;
                cpuNanos += threads.getThreadCpuTime(serverThread) - cpuBefore;
                handshakes += count;
                rates[round] = count / (elapsed / 1e9);
                if (count == 0) {
                    throw new IllegalStateException("no handshake completed in a window; "
                            + counts.failures.get() + " failed, last: " + counts.lastFailure);
                }
            }
            load.stop();
            listener.close().sync();

            Arrays.sort(rates);
            long failures = counts.failures.get() + load.failures.get();
            System.out.printf(Locale.ROOT, "netty %s %s %s %s %d %d %d %.0f %.0f %d%n", engine,
                    protocol, key, client, concurrency, seconds, rounds, rates[rounds / 2],
                    handshakes / (cpuNanos / 1e9), failures);
            if (counts.lastFailure != null) {
                System.err.println("last server failure: " + counts.lastFailure);
            }
        } finally {
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            ReferenceCountUtil.release(serverContext);
            ReferenceCountUtil.release(clientContext);
            if (tlsctx != null) {
                tlsctx.close();
            }
        }
    }

    /**
     * The last handler of every server channel: counts handshakes as the server's
     * {@code SslHandler} reports them, and swallows the errors of clients that close at once
     * (a reset while the server still writes its session tickets is expected, not a failure).
     */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class ServerCounts extends ChannelInboundHandlerAdapter {
        final AtomicLong handshakes = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        volatile Throwable lastFailure;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof SslHandshakeCompletionEvent) {
                SslHandshakeCompletionEvent completion = (SslHandshakeCompletionEvent) event;
                if (completion.isSuccess()) {
                    handshakes.incrementAndGet();
                } else {
                    failures.incrementAndGet();
                    lastFailure = completion.cause();
                    ctx.close();
                }
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Keeps {@code concurrency} client connections in flight, each one connecting, waiting for
     * its handshake and closing, until {@link #stop()}.
     */
    private static final class Load {
        private final Bootstrap bootstrap;
        private final InetSocketAddress server;
        private final int concurrency;
        private final CountDownLatch stopped;
        private volatile boolean stopping;
        final AtomicLong failures = new AtomicLong();

        Load(EventLoopGroup group, SslContext clientContext, InetSocketAddress server,
                int concurrency) {
            this.server = server;
            this.concurrency = concurrency;
            this.stopped = new CountDownLatch(concurrency);
            this.bootstrap = new Bootstrap()
                    .group(group)
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            // No peer host: the engine neither looks up nor offers a session.
                            ch.pipeline().addLast(clientContext.newHandler(ch.alloc()),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx,
                                                Throwable cause) {
                                            ctx.close();
                                        }
                                    });
                        }
                    });
        }

        void start() {
            for (int i = 0; i < concurrency; i++) {
                next();
            }
        }

        void stop() throws InterruptedException {
            stopping = true;
            if (!stopped.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("client connections did not finish");
            }
        }

        /** Starts one connection; its close starts the next, so the count in flight holds. */
        private void next() {
            if (stopping) {
                stopped.countDown();
                return;
            }
            ChannelFuture connect = bootstrap.connect(server);
            connect.addListener(connected -> {
                Channel channel = connect.channel();
                if (!connected.isSuccess()) {
                    failures.incrementAndGet();
                    channel.eventLoop().schedule(this::next, 10, TimeUnit.MILLISECONDS);
                    return;
                }
                channel.pipeline().get(SslHandler.class).handshakeFuture().addListener(done -> {
                    if (!done.isSuccess()) {
                        failures.incrementAndGet();
                    }
                    channel.close().addListener(closed -> next());
                });
            });
        }
    }
}

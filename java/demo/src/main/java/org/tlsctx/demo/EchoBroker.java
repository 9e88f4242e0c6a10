package org.tlsctx.demo;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;

/**
 * A small Netty server standing in for a message broker: it listens on an ephemeral loopback
 * port, speaks TLS through whatever {@link SslContext} it is given, and echoes every line it
 * receives.
 *
 * <p>The context is asked for a new handler once per accepted connection, so a context that
 * follows certificate rotations hands each connection the generation current at accept time.
 */
final class EchoBroker implements AutoCloseable {
    private static final int MAX_LINE_BYTES = 4096;

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final ChannelGroup connections;
    private final Channel listener;
    private final AtomicLong connectionFailures = new AtomicLong();
    private final AtomicReference<Throwable> lastFailure = new AtomicReference<>();

    private EchoBroker(SslContext sslContext) throws InterruptedException {
        bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        workerGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        connections = new DefaultChannelGroup("broker-connections", GlobalEventExecutor.INSTANCE);
        ChannelHandler echo = new EchoHandler();
        ChannelInitializer<SocketChannel> pipeline =
                new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        connections.add(channel);
                        channel.pipeline()
                                .addLast(sslContext.newHandler(channel.alloc()))
                                .addLast(new LineBasedFrameDecoder(MAX_LINE_BYTES))
                                .addLast(new StringDecoder(StandardCharsets.UTF_8))
                                .addLast(new StringEncoder(StandardCharsets.UTF_8))
                                .addLast(echo);
                    }
                };

        try {
            listener =
                    new ServerBootstrap()
                            .group(bossGroup, workerGroup)
                            .channel(NioServerSocketChannel.class)
                            .childHandler(pipeline)
                            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                            .sync()
                            .channel();
        } catch (InterruptedException | RuntimeException e) {
            shutDownEventLoops();
            throw e;
        }
    }

    /** Starts the broker on {@code 127.0.0.1} at a port the kernel picks. */
    static EchoBroker start(SslContext sslContext) throws InterruptedException {
        return new EchoBroker(sslContext);
    }

    /** The address clients connect to. */
    InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Connections the broker holds open right now. */
    int openConnections() {
        return connections.size();
    }

    /** Connections that ended in an exception on the broker's side (a failed handshake, say). */
    long connectionFailures() {
        return connectionFailures.get();
    }

    /** The most recent exception on a broker connection, or null. */
    Throwable lastFailure() {
        return lastFailure.get();
    }

    /**
     * Stops listening, closes every connection and stops the event loops, waiting up to five
     * seconds for each step.
     */
    @Override
    public void close() {
        listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        shutDownEventLoops();
    }

    private void shutDownEventLoops() {
        bossGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        bossGroup.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workerGroup.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Writes each received line back, newline-terminated. Shared by all connections. */
    @ChannelHandler.Sharable
    private final class EchoHandler extends SimpleChannelInboundHandler<String> {
        @Override
        protected void channelRead0(ChannelHandlerContext context, String line) {
            context.writeAndFlush(line + "\n");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            connectionFailures.incrementAndGet();
            lastFailure.set(cause);
            context.close();
        }
    }
}

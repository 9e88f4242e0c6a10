package org.tlsctx;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A Netty TLS echo server on the loopback address, for the tests. */
final class NettyEchoServer implements AutoCloseable {
    /** When set, the server closes each connection right after echoing its first read. */
    volatile boolean closeAfterEcho;

    /** The ALPN protocol of each handshake that succeeded, or "failed: reason". */
    final BlockingQueue<String> handshakes = new LinkedBlockingQueue<>();
    final AtomicInteger openChannels = new AtomicInteger();

    private final EventLoopGroup group;
    private final Channel serverChannel;

    NettyEchoServer(SslContext sslContext) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(sslContext.newHandler(ch.alloc()), new Echo());
                    }
                });
        serverChannel = bootstrap.bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    EventLoopGroup group() {
        return group;
    }

    @Override
    public void close() throws InterruptedException {
        serverChannel.close().sync();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    private final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            openChannels.incrementAndGet();
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            openChannels.decrementAndGet();
            super.channelInactive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ChannelFuture written = ctx.writeAndFlush(msg);
            if (closeAfterEcho) {
                // The broker side ends the connection (an idle timeout, a shutdown).
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent) {
                SslHandshakeCompletionEvent completion = (SslHandshakeCompletionEvent) event;
                if (completion.isSuccess()) {
                    handshakes.add(String.valueOf(
                            ctx.pipeline().get(SslHandler.class).applicationProtocol()));
                } else {
                    handshakes.add("failed: " + completion.cause());
                }
            } else if (event instanceof SslCloseCompletionEvent) {
                ctx.close();
            }
            super.userEventTriggered(ctx, event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

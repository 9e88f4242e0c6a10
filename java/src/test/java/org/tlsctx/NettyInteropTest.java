package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.tlsctx.netty.TlsNettyContext;

/** tlsctx behind Netty's SslHandler, against JDK sockets and against itself. */
class NettyInteropTest {
    private static final Path B05 = TestMaterial.caseDir("B05");

    @Test
    void nettyServerServesJdkSocketClient() throws Exception {
        try (ReloadingTlsContext reloading = serverContext();
                TlsContext current = reloading.current();
                NettyEchoServer server = new NettyEchoServer(
                        TlsNettyContext.forServer(reloading))) {
            SSLContext jdk = TestMaterial.jdkClientContext(B05.resolve("ca.crt"));
            try (SSLSocket socket = connect(jdk, server.port(), "h2")) {
                assertEquals("h2", socket.getApplicationProtocol());
                assertEquals("h2", server.handshakes.poll(10, TimeUnit.SECONDS));
                assertEquals(current.fingerprint(), TestMaterial.fingerprint(
                        socket.getSession().getPeerCertificates()[0]));
                byte[] payload = new byte[70_000];
                for (int i = 0; i < payload.length; i++) {
                    payload[i] = (byte) (i * 7 + 3);
                }
                assertArrayEquals(payload, echo(socket, payload));
                byte[] small = "ping".getBytes(StandardCharsets.US_ASCII);
                assertArrayEquals(small, echo(socket, small));
            }
        }
    }

    @Test
    void nettyOnBothEndsNegotiatesH2() throws Exception {
        try (ReloadingTlsContext serverTls = serverContext();
                ReloadingTlsContext clientTls = TlsConfig.client()
                        .trustBundle(B05.resolve("ca.crt"))
                        .applicationProtocols("h2")
                        .pollInterval(Duration.ZERO)
                        .reloading();
                NettyEchoServer server = new NettyEchoServer(
                        TlsNettyContext.forServer(serverTls))) {
            SslContext clientSsl = TlsNettyContext.forClient(clientTls);
            assertTrue(clientSsl.isClient());
            CompletableFuture<byte[]> echoed = new CompletableFuture<>();
            byte[] message = "hello through two tlsctx engines".getBytes(StandardCharsets.UTF_8);
            Bootstrap bootstrap = new Bootstrap()
                    .group(server.group())
                    .channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(
                                    clientSsl.newHandler(ch.alloc(), "localhost", server.port()),
                                    new Collector(message.length, echoed));
                        }
                    });
            Channel channel = bootstrap
                    .connect(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                            server.port()))
                    .sync()
                    .channel();
            try {
                SslHandler ssl = channel.pipeline().get(SslHandler.class);
                Future<Channel> handshake = ssl.handshakeFuture().await();
                if (!handshake.isSuccess()) {
                    throw new AssertionError("client handshake failed", handshake.cause());
                }
                assertEquals("h2", ssl.applicationProtocol());
                assertEquals("h2", server.handshakes.poll(10, TimeUnit.SECONDS));
                assertEquals("TLSv1.3", ssl.engine().getSession().getProtocol());

                channel.writeAndFlush(Unpooled.wrappedBuffer(message)).sync();
                assertArrayEquals(message, echoed.get(10, TimeUnit.SECONDS));
            } finally {
                channel.close().sync();
            }
        }
    }

    static ReloadingTlsContext serverContext() {
        return TlsConfig.server()
                .certificateChain(B05.resolve("server.crt"))
                .privateKey(B05.resolve("server-pkcs8.key"))
                .applicationProtocols("h2", "http/1.1")
                .pollInterval(Duration.ZERO)
                .reloading();
    }

    /** A JDK TLS socket to the loopback port, verifying the server as "localhost". */
    static SSLSocket connect(SSLContext jdk, int port, String... alpn) throws Exception {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        SSLSocket socket = (SSLSocket) jdk.getSocketFactory()
                .createSocket(plain, "localhost", port, true);
        socket.setSoTimeout(10_000);
        SSLParameters params = socket.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        params.setApplicationProtocols(alpn);
        socket.setSSLParameters(params);
        socket.startHandshake();
        return socket;
    }

    static byte[] echo(SSLSocket socket, byte[] payload) throws Exception {
        socket.getOutputStream().write(payload);
        socket.getOutputStream().flush();
        return socket.getInputStream().readNBytes(payload.length);
    }

    /** Collects inbound bytes until {@code expected} have arrived. */
    private static final class Collector extends SimpleChannelInboundHandler<ByteBuf> {
        private final int expected;
        private final CompletableFuture<byte[]> done;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();

        Collector(int expected, CompletableFuture<byte[]> done) {
            this.expected = expected;
            this.done = done;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            byte[] bytes = new byte[msg.readableBytes()];
            msg.readBytes(bytes);
            received.writeBytes(bytes);
            if (received.size() >= expected) {
                done.complete(received.toByteArray());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }
    }
}

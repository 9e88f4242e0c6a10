package org.tlsctx.netty;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig.Protocol;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior;
import io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.tlsctx.ReloadingTlsContext;
import org.tlsctx.TlsConfig;
import org.tlsctx.TlsSslContext;

/**
 * Netty {@link SslContext}s over a {@link ReloadingTlsContext}.
 *
 * <p>A Netty server needs one line per channel:
 *
 * <pre>{@code
 * SslContext sslContext = TlsNettyContext.forServer(reloading);
 * // in the ChannelInitializer:
 * ch.pipeline().addLast(sslContext.newHandler(ch.alloc()));
 * }</pre>
 *
 * <p>The contexts are Netty's own {@link JdkSslContext} over {@link TlsSslContext}, so Netty
 * drives each engine as a JDK engine and reads ALPN through the JDK API:
 * {@code SslHandler.applicationProtocol()} returns the negotiated protocol. Every new channel
 * takes the generation current at its handshake, so the {@code SslContext} is built once and
 * never replaced on reload.
 *
 * <p>The ALPN protocols, TLS versions and client authentication are those of the
 * {@link TlsConfig}. With ALPN protocols configured, a server that shares none with the client
 * continues without ALPN, and a client accepts what the server selects.
 */
public final class TlsNettyContext {
    private TlsNettyContext() {}

    /**
     * A server {@code SslContext}: {@code forServer(reloading).newHandler(ch.alloc())} gives
     * the handler for a channel.
     *
     * @param context a reloading context made with {@link TlsConfig#server()}
     * @return the Netty context
     * @throws IllegalArgumentException if {@code context} is a client context
     */
    public static SslContext forServer(ReloadingTlsContext context) {
        Objects.requireNonNull(context, "context");
        return create(TlsSslContext.forServer(context), false, context.config());
    }

    /**
     * A client {@code SslContext}. Create handlers with
     * {@code newHandler(ch.alloc(), host, port)}: the host is the name the server is verified
     * against and sent as SNI.
     *
     * @param context a reloading context made with {@link TlsConfig#client()}
     * @return the Netty context
     * @throws IllegalArgumentException if {@code context} is a server context
     */
    public static SslContext forClient(ReloadingTlsContext context) {
        Objects.requireNonNull(context, "context");
        return create(TlsSslContext.forClient(context), true, context.config());
    }

    private static SslContext create(SSLContext sslContext, boolean isClient, TlsConfig config) {
        SSLContext jsse = sslContext;
        List<String> cipherSuites = List.of(jsse.getSupportedSSLParameters().getCipherSuites());
        return new JdkSslContext(
                jsse,
                isClient,
                cipherSuites,
                IdentityCipherSuiteFilter.INSTANCE,
                applicationProtocolConfig(config.applicationProtocols()),
                clientAuth(config.clientAuth()),
                config.protocols().toArray(new String[0]),
                false);
    }

    private static ApplicationProtocolConfig applicationProtocolConfig(List<String> protocols) {
        if (protocols.isEmpty()) {
            return ApplicationProtocolConfig.DISABLED;
        }
        return new ApplicationProtocolConfig(
                Protocol.ALPN,
                SelectorFailureBehavior.NO_ADVERTISE,
                SelectedListenerFailureBehavior.ACCEPT,
                protocols);
    }

    private static ClientAuth clientAuth(org.tlsctx.ClientAuth clientAuth) {
        switch (clientAuth) {
            case OPTIONAL:
                return ClientAuth.OPTIONAL;
            case REQUIRE:
                return ClientAuth.REQUIRE;
            default:
                return ClientAuth.NONE;
        }
    }
}

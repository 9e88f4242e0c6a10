package org.tlsctx;

import java.security.KeyManagementException;
import java.security.Provider;
import java.security.SecureRandom;
import java.util.Objects;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * Exposes a {@link ReloadingTlsContext} as a {@code javax.net.ssl.SSLContext}, for code that
 * speaks JSSE (Netty's {@code JdkSslContext}, custom NIO servers).
 *
 * <p>Each {@link SSLEngine} it creates is a {@link TlsEngine} whose connection takes the
 * generation current at its first handshake step, so a reload reaches every new connection
 * without rebuilding the {@code SSLContext}. Keys, trust and protocol settings come from the
 * {@link TlsConfig}: {@link SSLContext#init} accepts only nulls, as a no-op.
 *
 * <p>Only engines are offered: {@link SSLContext#getSocketFactory()} and
 * {@link SSLContext#getServerSocketFactory()} throw {@link UnsupportedOperationException}.
 * The session contexts hold no sessions, because session resumption lives in rustls (see
 * {@link SSLSessionContext#getSession(byte[])}, which returns null).
 */
public final class TlsSslContext {
    private static final Provider PROVIDER = new TlsProvider();

    private TlsSslContext() {}

    /**
     * An {@code SSLContext} whose engines are TLS servers of {@code context}.
     *
     * @param context a reloading context configured with {@link TlsConfig#server()}
     * @return the SSL context; its engines act as servers only
     * @throws IllegalArgumentException if {@code context} is a client context
     */
    public static SSLContext forServer(ReloadingTlsContext context) {
        Objects.requireNonNull(context, "context");
        if (!context.isServer()) {
            throw new IllegalArgumentException(
                    "TlsSslContext.forServer needs a context made with TlsConfig.server()");
        }
        return new TlsJsseContext(new Spi(context));
    }

    /**
     * An {@code SSLContext} whose engines are TLS clients of {@code context}. Create engines with
     * {@link SSLContext#createSSLEngine(String, int)}: the host is the name the server is
     * verified against and sent as SNI.
     *
     * @param context a reloading context configured with {@link TlsConfig#client()}
     * @return the SSL context; its engines act as clients only
     * @throws IllegalArgumentException if {@code context} is a server context
     */
    public static SSLContext forClient(ReloadingTlsContext context) {
        Objects.requireNonNull(context, "context");
        if (context.isServer()) {
            throw new IllegalArgumentException(
                    "TlsSslContext.forClient needs a context made with TlsConfig.client()");
        }
        return new TlsJsseContext(new Spi(context));
    }

    /** {@code SSLContext} has only a protected constructor for providers' own contexts. */
    private static final class TlsJsseContext extends SSLContext {
        TlsJsseContext(Spi spi) {
            super(spi, PROVIDER, "TLS");
        }
    }

    /** The provider named by the contexts; it is not registered with {@code Security}. */
    private static final class TlsProvider extends Provider {
        private static final long serialVersionUID = 1L;

        TlsProvider() {
            super("tlsctx", "0.1", "rustls TLS contexts with hot reload (tlsctx)");
        }
    }

    private static final class Spi extends SSLContextSpi {
        private final ReloadingTlsContext context;
        private final TlsSessionContext sessionContext = new TlsSessionContext();

        Spi(ReloadingTlsContext context) {
            this.context = context;
        }

        @Override
        protected void engineInit(KeyManager[] keyManagers, TrustManager[] trustManagers,
                SecureRandom random) throws KeyManagementException {
            if (keyManagers != null || trustManagers != null) {
                throw new KeyManagementException("a tlsctx SSLContext takes its keys and trust "
                        + "from TlsConfig; init accepts only nulls");
            }
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            throw new UnsupportedOperationException(
                    "tlsctx offers only SSLEngine: socket factories are not supported");
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            throw new UnsupportedOperationException(
                    "tlsctx offers only SSLEngine: server socket factories are not supported");
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return new TlsEngine(context, sessionContext, null, -1);
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return new TlsEngine(context, sessionContext, host, port);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return sessionContext;
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return sessionContext;
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return new SSLParameters(TlsEngine.CIPHER_SUITES.toArray(new String[0]),
                    context.configView().protocols().toArray(new String[0]));
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return new SSLParameters(TlsEngine.CIPHER_SUITES.toArray(new String[0]),
                    TlsConfig.PROTOCOL_NAMES.toArray(new String[0]));
        }
    }
}

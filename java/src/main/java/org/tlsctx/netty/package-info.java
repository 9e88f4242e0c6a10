/**
 * Netty adapters: {@link org.tlsctx.netty.TlsNettyContext} turns a
 * {@link org.tlsctx.ReloadingTlsContext} into a Netty {@code SslContext}.
 *
 * <p>Netty is an optional dependency of tlsctx: only this package needs {@code netty-handler}
 * on the class path.
 */
package org.tlsctx.netty;

/**
 * Reference-counted, hot-reloadable TLS contexts for long-running Java servers, on rustls.
 *
 * <p>Build a context from files with {@link org.tlsctx.TlsConfig}: {@code load()} gives one
 * immutable {@link org.tlsctx.TlsContext} generation; {@code reloading()} gives a
 * {@link org.tlsctx.ReloadingTlsContext} that swaps in a new generation when the files change,
 * while connections already open keep theirs until they close. Serve TLS through
 * {@link org.tlsctx.TlsSslContext} (a {@code javax.net.ssl.SSLContext} of
 * {@link org.tlsctx.TlsEngine}s) or, with Netty, through {@code org.tlsctx.netty}.
 *
 * <p>Material comes from PEM or DER files, from memory, from a Java {@code KeyStore}, or from a
 * RocketMQ-style {@code tls.properties} file. Every failure is a
 * {@link org.tlsctx.TlsException} whose {@link org.tlsctx.TlsException.Reason} says what is
 * wrong and whose message names the file; its subclasses group the reasons by what to fix.
 *
 * <p>The TLS work is done by the native library {@code libtlsctx}, which the jar carries and
 * loads on first use; {@code -Dtlsctx.library.path=/path/to/libtlsctx.so} loads another copy.
 */
package org.tlsctx;

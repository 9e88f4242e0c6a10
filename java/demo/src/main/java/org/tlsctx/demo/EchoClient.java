package org.tlsctx.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * The JDK's own TLS client talking to the broker: one connection, one line, one echo.
 *
 * <p>It verifies the broker the way a production client would: the chain must lead to the demo CA,
 * and the name it dials ({@code localhost} or {@code 127.0.0.1}) must be in the certificate's
 * subject alternative names. It offers the broker's ALPN protocol.
 *
 * <p>Sessions are never resumed: every connection gets a new {@link SSLContext}, so its session
 * cache starts empty. A resumed session reports the certificate of the handshake that created it,
 * so after a rotation it would show a serial the broker no longer serves and say nothing about the
 * generation the connection was given. Invalidating each session after its handshake is not
 * enough: with TLS 1.3 the broker's session tickets arrive after the handshake, and the JDK caches
 * a new resumable session when it reads them.
 */
final class EchoClient {
    private static final int TIMEOUT_MILLIS = 5_000;

    private final TrustManager[] trustManagers;
    private final InetSocketAddress broker;
    private final String applicationProtocol;

    EchoClient(
            TrustManager[] trustManagers, InetSocketAddress broker, String applicationProtocol) {
        this.trustManagers = trustManagers.clone();
        this.broker = broker;
        this.applicationProtocol = applicationProtocol;
    }

    /**
     * Connects, completes the handshake as {@code serverName}, sends {@code line}, reads the echo
     * and closes. Never throws: a failure is returned as an {@link Exchange} with its reason.
     */
    Exchange exchange(String serverName, String line) {
        long attemptStarted = System.nanoTime();
        try (Connection connection = open(serverName)) {
            long handshakeDone = System.nanoTime();
            String echo = connection.send(line);
            String failure = line.equals(echo) ? null : "echo was \"" + echo + "\"";
            return new Exchange(
                    attemptStarted,
                    handshakeDone,
                    connection.servedSerial(),
                    connection.applicationProtocol(),
                    failure);
        } catch (IOException | RuntimeException e) {
            return new Exchange(attemptStarted, System.nanoTime(), null, null, e.toString());
        }
    }

    /** Opens a connection and completes the handshake; the caller closes it. */
    Connection open(String serverName) throws IOException {
        SSLContext sslContext;
        try {
            sslContext = SSLContext.getInstance("TLS");
            sslContext.init(null, trustManagers, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot create a TLS client context", e);
        }

        Socket tcp = new Socket();
        try {
            tcp.connect(broker, TIMEOUT_MILLIS);
            tcp.setSoTimeout(TIMEOUT_MILLIS);

            // Layering over a connected socket lets the client dial loopback by address while
            // presenting, and verifying, whichever name it is given.
            SSLSocket tls =
                    (SSLSocket)
                            sslContext
                                    .getSocketFactory()
                                    .createSocket(tcp, serverName, broker.getPort(), true);
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setApplicationProtocols(new String[] {applicationProtocol});
            tls.setSSLParameters(parameters);
            tls.startHandshake();
            return new Connection(tls);
        } catch (IOException | RuntimeException e) {
            tcp.close();
            throw e;
        }
    }

    /** An open TLS connection to the broker. */
    static final class Connection implements AutoCloseable {
        private final SSLSocket socket;
        private final BufferedReader reader;
        private final OutputStream writer;
        private final String servedSerial;

        private Connection(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.reader =
                    new BufferedReader(
                            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            this.writer = socket.getOutputStream();

            Certificate[] peerCertificates = socket.getSession().getPeerCertificates();
            X509Certificate leaf = (X509Certificate) peerCertificates[0];
            this.servedSerial = leaf.getSerialNumber().toString(16);
        }

        /** The serial of the leaf the broker presented, lowercase hex without leading zeros. */
        String servedSerial() {
            return servedSerial;
        }

        /** The ALPN protocol the broker selected, or the empty string when none was. */
        String applicationProtocol() {
            String protocol = socket.getApplicationProtocol();
            return protocol == null ? "" : protocol;
        }

        /** Sends one line and returns the line the broker sent back, or null at end of stream. */
        String send(String line) throws IOException {
            writer.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            writer.flush();
            return reader.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * The record of one connection attempt.
     *
     * @param attemptStarted {@link System#nanoTime()} before the TCP connect
     * @param attemptEnded {@link System#nanoTime()} after the handshake, or at the failure
     * @param servedSerial the served leaf's serial, or null when no handshake completed
     * @param applicationProtocol the negotiated ALPN protocol, "" for none, null on failure
     * @param failure what went wrong, or null for a good exchange
     */
    record Exchange(
            long attemptStarted,
            long attemptEnded,
            String servedSerial,
            String applicationProtocol,
            String failure) {}
}

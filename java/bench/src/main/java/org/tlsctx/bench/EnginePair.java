package org.tlsctx.bench;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;

/**
 * A client and a server {@link SSLEngine} connected in memory: what one side wraps lands in a
 * buffer the other side unwraps. It drives them the way a JSSE event loop does (wrap until
 * nothing comes out, unwrap one record at a time, run delegated tasks inline), so each engine
 * does the work it would do behind a socket, minus the socket.
 */
final class EnginePair {
    private static final ByteBuffer NO_PLAINTEXT = ByteBuffer.allocate(0);
    private static final int MAX_HANDSHAKE_ROUNDS = 64;

    final SSLEngine client;
    final SSLEngine server;
    private final ByteBuffer clientToServer;
    private final ByteBuffer serverToClient;
    private final ByteBuffer clientPlaintext;
    private final ByteBuffer serverPlaintext;

    /** Time spent inside the server engine's calls during {@link #handshake()}. */
    long serverNanos;

    /**
     * Connects two engines through buffers the caller may reuse across pairs (they are cleared
     * here), so that a handshake benchmark does not measure buffer allocation.
     */
    EnginePair(SSLEngine client, SSLEngine server, Buffers buffers) {
        this.client = client;
        this.server = server;
        this.clientToServer = buffers.clientToServer.clear();
        this.serverToClient = buffers.serverToClient.clear();
        this.clientPlaintext = buffers.clientPlaintext.clear();
        this.serverPlaintext = buffers.serverPlaintext.clear();
    }

    /**
     * Runs the handshake until neither engine has anything more to say, which includes the TLS
     * 1.3 session tickets a server sends after its Finished.
     */
    void handshake() throws SSLException {
        client.beginHandshake();
        long start = System.nanoTime();
        server.beginHandshake();
        serverNanos += System.nanoTime() - start;
        for (int round = 0; round < MAX_HANDSHAKE_ROUNDS; round++) {
            boolean moved = flush(client, clientToServer);
            start = System.nanoTime();
            moved |= feed(server, clientToServer, serverPlaintext);
            moved |= flush(server, serverToClient);
            serverNanos += System.nanoTime() - start;
            moved |= feed(client, serverToClient, clientPlaintext);
            if (!moved) {
                if (handshaking(client) || handshaking(server)) {
                    throw new SSLException("handshake stalled: client "
                            + client.getHandshakeStatus() + ", server "
                            + server.getHandshakeStatus());
                }
                return;
            }
        }
        throw new SSLException("handshake did not end in " + MAX_HANDSHAKE_ROUNDS + " rounds");
    }

    /**
     * Encrypts one record of {@code plaintext} on the client and decrypts it on the server.
     *
     * @return the number of plaintext bytes the server received
     */
    int clientToServerRecord(ByteBuffer plaintext) throws SSLException {
        clientToServer.clear();
        SSLEngineResult wrapped = client.wrap(plaintext, clientToServer);
        if (wrapped.getStatus() != Status.OK) {
            throw new SSLException("client wrap: " + wrapped);
        }
        clientToServer.flip();
        serverPlaintext.clear();
        // Usually one record; before it, now and then, a record of the engine's own (rustls
        // sends a TLS 1.3 KeyUpdate every 2^24 records or so with AES-GCM).
        int produced = 0;
        while (clientToServer.hasRemaining()) {
            SSLEngineResult unwrapped = server.unwrap(clientToServer, serverPlaintext);
            if (unwrapped.getStatus() != Status.OK || unwrapped.bytesConsumed() == 0) {
                throw new SSLException("server unwrap: " + unwrapped);
            }
            produced += unwrapped.bytesProduced();
        }
        return produced;
    }

    /**
     * Closes both engines the way a server closes a finished connection (close_notify out, then
     * inbound closed without waiting for the peer's), so native engines free their connection.
     */
    void close() {
        long start = System.nanoTime();
        closeQuietly(server, serverToClient);
        serverNanos += System.nanoTime() - start;
        closeQuietly(client, clientToServer);
    }

    private static void closeQuietly(SSLEngine engine, ByteBuffer network) {
        try {
            engine.closeOutbound();
            network.clear();
            engine.wrap(NO_PLAINTEXT, network);
        } catch (SSLException e) {
            // A benchmark only needs the engine's resources back; the alert is not read.
        }
        try {
            engine.closeInbound();
        } catch (SSLException e) {
            // Expected: the peer's close_notify is never read.
        }
    }

    private static boolean handshaking(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status != HandshakeStatus.NOT_HANDSHAKING && status != HandshakeStatus.FINISHED;
    }

    /** Wraps until the engine produces nothing more. */
    private static boolean flush(SSLEngine engine, ByteBuffer network) throws SSLException {
        boolean produced = false;
        while (true) {
            runTasks(engine);
            SSLEngineResult result = engine.wrap(NO_PLAINTEXT, network);
            runTasks(engine);
            if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                throw new SSLException("network buffer too small: " + result);
            }
            if (result.bytesProduced() == 0) {
                return produced;
            }
            produced = true;
        }
    }

    /** Unwraps every whole record waiting in {@code network}. */
    private static boolean feed(SSLEngine engine, ByteBuffer network, ByteBuffer plaintext)
            throws SSLException {
        boolean consumed = false;
        network.flip();
        try {
            while (network.hasRemaining()) {
                runTasks(engine);
                SSLEngineResult result = engine.unwrap(network, plaintext);
                runTasks(engine);
                if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                    throw new SSLException("plaintext buffer too small: " + result);
                }
                if (result.getStatus() == Status.BUFFER_UNDERFLOW
                        || result.getStatus() == Status.CLOSED) {
                    break;
                }
                if (result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
                    break;
                }
                consumed = true;
            }
        } finally {
            network.compact();
        }
        plaintext.clear();
        return consumed;
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** The four buffers a pair works in, sized for any record and reusable across pairs. */
    static final class Buffers {
        final ByteBuffer clientToServer;
        final ByteBuffer serverToClient;
        final ByteBuffer clientPlaintext;
        final ByteBuffer serverPlaintext;

        Buffers(boolean direct) {
            clientToServer = allocate(64 * 1024, direct);
            serverToClient = allocate(64 * 1024, direct);
            clientPlaintext = allocate(64 * 1024, direct);
            serverPlaintext = allocate(64 * 1024, direct);
        }

        static ByteBuffer allocate(int capacity, boolean direct) {
            return direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
        }
    }
}

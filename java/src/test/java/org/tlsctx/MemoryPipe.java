package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;

/**
 * Drives a client and a server {@link SSLEngine} against each other in memory, the way a JSSE
 * application does: wrap until nothing is produced, unwrap one record at a time, run delegated
 * tasks when asked.
 */
final class MemoryPipe {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    final SSLEngine client;
    final SSLEngine server;
    private final boolean direct;
    private final ByteBuffer clientToServer;
    private final ByteBuffer serverToClient;
    private final ByteBuffer clientReceived;
    private final ByteBuffer serverReceived;

    int clientFinished;
    int serverFinished;
    SSLEngineResult lastClientResult;
    SSLEngineResult lastServerResult;

    MemoryPipe(SSLEngine client, SSLEngine server, boolean direct) {
        this.client = client;
        this.server = server;
        this.direct = direct;
        this.clientToServer = allocate(1 << 17);
        this.serverToClient = allocate(1 << 17);
        this.clientReceived = allocate(1 << 18);
        this.serverReceived = allocate(1 << 18);
    }

    /** Runs the handshake to its end on both sides. */
    void handshake() throws SSLException {
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 0; round < 100; round++) {
            boolean progress = step();
            if (!progress && !handshaking(client) && !handshaking(server)) {
                return;
            }
            if (!progress) {
                fail("handshake stalled: client " + client.getHandshakeStatus() + ", server "
                        + server.getHandshakeStatus());
            }
        }
        fail("handshake did not end in 100 rounds");
    }

    /** Moves every pending byte both ways once. */
    boolean step() throws SSLException {
        boolean progress = wrapAll(client, clientToServer, true);
        progress |= unwrapAll(server, clientToServer, serverReceived, false);
        progress |= wrapAll(server, serverToClient, false);
        progress |= unwrapAll(client, serverToClient, clientReceived, true);
        return progress;
    }

    /** Encrypts {@code data} on one side and delivers it to the other. */
    void send(boolean fromClient, byte[] data) throws SSLException {
        SSLEngine engine = fromClient ? client : server;
        ByteBuffer net = fromClient ? clientToServer : serverToClient;
        ByteBuffer src = allocate(data.length);
        src.put(data).flip();
        while (src.hasRemaining()) {
            ByteBuffer out = allocate(engine.getSession().getPacketBufferSize());
            SSLEngineResult result = engine.wrap(src, out);
            assertEquals(Status.OK, result.getStatus(), "wrap of application data");
            out.flip();
            net.put(out);
        }
        if (fromClient) {
            unwrapAll(server, clientToServer, serverReceived, false);
        } else {
            unwrapAll(client, serverToClient, clientReceived, true);
        }
    }

    /** The plaintext one side has received so far; clears it. */
    byte[] received(boolean byClient) {
        ByteBuffer received = byClient ? clientReceived : serverReceived;
        received.flip();
        byte[] data = new byte[received.remaining()];
        received.get(data);
        received.clear();
        return data;
    }

    /** Closes {@code closer}'s outbound side and delivers its close_notify to the other side. */
    void closeFrom(boolean fromClient) throws SSLException {
        SSLEngine engine = fromClient ? client : server;
        SSLEngine peer = fromClient ? server : client;
        engine.closeOutbound();
        wrapAll(engine, fromClient ? clientToServer : serverToClient, fromClient);
        assertTrue(engine.isOutboundDone(), "outbound done after close_notify was wrapped");
        if (fromClient) {
            unwrapAll(server, clientToServer, serverReceived, false);
            assertEquals(Status.CLOSED, lastServerResult.getStatus());
        } else {
            unwrapAll(client, serverToClient, clientReceived, true);
            assertEquals(Status.CLOSED, lastClientResult.getStatus());
        }
        assertTrue(peer.isInboundDone(), "peer's inbound done after close_notify");
    }

    private boolean wrapAll(SSLEngine engine, ByteBuffer net, boolean isClient)
            throws SSLException {
        boolean progress = false;
        for (int i = 0; i < 50; i++) {
            runTasks(engine);
            ByteBuffer out = allocate(engine.getSession().getPacketBufferSize());
            SSLEngineResult result = engine.wrap(EMPTY, out);
            record(result, isClient);
            if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                fail("wrap overflowed a buffer of the session's packet size");
            }
            out.flip();
            net.put(out);
            if (result.bytesProduced() == 0) {
                break;
            }
            progress = true;
            if (result.getStatus() == Status.CLOSED) {
                break;
            }
        }
        return progress;
    }

    private boolean unwrapAll(SSLEngine engine, ByteBuffer net, ByteBuffer received,
            boolean isClient) throws SSLException {
        boolean progress = false;
        net.flip();
        try {
            for (int i = 0; i < 100 && net.hasRemaining(); i++) {
                runTasks(engine);
                SSLEngineResult result = engine.unwrap(net, received);
                record(result, isClient);
                if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                    fail("unwrap overflowed the receive buffer");
                }
                if (result.getStatus() == Status.BUFFER_UNDERFLOW) {
                    break;
                }
                if (result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
                    if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                        continue;
                    }
                    break;
                }
                progress = true;
            }
        } finally {
            net.compact();
        }
        return progress;
    }

    private void record(SSLEngineResult result, boolean isClient) {
        if (isClient) {
            lastClientResult = result;
            if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                clientFinished++;
            }
        } else {
            lastServerResult = result;
            if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                serverFinished++;
            }
        }
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private static boolean handshaking(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status != HandshakeStatus.NOT_HANDSHAKING && status != HandshakeStatus.FINISHED;
    }

    private ByteBuffer allocate(int size) {
        return direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }
}

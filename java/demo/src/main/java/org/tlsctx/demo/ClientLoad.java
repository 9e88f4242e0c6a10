package org.tlsctx.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Client threads that open connection after connection to the broker until stopped, so that
 * every rotation happens under load and some handshakes straddle each swap.
 *
 * <p>Each thread alternates between dialing {@code 127.0.0.1} and {@code localhost}, so both
 * subject alternative names are verified throughout. Every attempt is kept for the verdict.
 */
final class ClientLoad {
    private final EchoClient client;
    private final List<Thread> threads = new ArrayList<>();
    private final Queue<EchoClient.Exchange> exchanges = new ConcurrentLinkedQueue<>();
    private volatile boolean running = true;

    private ClientLoad(EchoClient client) {
        this.client = client;
    }

    /** Starts {@code threadCount} client threads against the broker. */
    static ClientLoad start(EchoClient client, int threadCount) {
        ClientLoad load = new ClientLoad(client);
        for (int i = 0; i < threadCount; i++) {
            int clientNumber = i;
            Thread thread = new Thread(() -> load.connectRepeatedly(clientNumber));
            thread.setName("tls-client-" + clientNumber);
            thread.setDaemon(true);
            load.threads.add(thread);
            thread.start();
        }
        return load;
    }

    /** The attempts made so far, in no particular order across threads. */
    List<EchoClient.Exchange> exchanges() {
        return new ArrayList<>(exchanges);
    }

    /**
     * Stops the threads after their current connection and waits for them, up to the client
     * timeout plus a margin; a thread still stuck after that is abandoned (it is a daemon).
     */
    void stop() throws InterruptedException {
        running = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (Thread thread : threads) {
            long remaining = deadline - System.nanoTime();
            if (remaining > 0) {
                thread.join(TimeUnit.NANOSECONDS.toMillis(remaining) + 1);
            }
        }
    }

    /** True when every thread has finished. */
    boolean stopped() {
        return threads.stream().noneMatch(Thread::isAlive);
    }

    private void connectRepeatedly(int clientNumber) {
        for (long sequence = 0; running; sequence++) {
            String serverName = sequence % 2 == 0 ? "127.0.0.1" : "localhost";
            String line = "client " + clientNumber + " message " + sequence;
            exchanges.add(client.exchange(serverName, line));
        }
    }
}

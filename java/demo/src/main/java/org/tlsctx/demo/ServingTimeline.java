package org.tlsctx.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * When the broker may have served each server certificate, by serial number.
 *
 * <p>A reload swaps the generation at one instant somewhere inside the {@code reload()} call, and
 * that instant cannot be observed from outside. So each serial gets a window that is wide exactly
 * by that uncertainty: it opens when the reload that installs it starts (it cannot be served any
 * earlier) and closes when the next successful reload returns (it cannot be handed to a new
 * connection any later). Between the two reloads the serial is the only one new connections get.
 *
 * <p>A client connection is correct when the serial it saw has a window overlapping its own
 * attempt, from before {@code connect()} to after the handshake: the broker picks the generation
 * for a connection somewhere in that attempt, and the serial was servable at that moment. A
 * connection in flight across a swap may therefore see the old or the new serial; a serial from a
 * refused rotation, or one retired before the attempt began, is never accepted.
 *
 * <p>Times are {@link System#nanoTime()} readings. Thread-safe.
 */
final class ServingTimeline {
    private final List<Window> windows = new ArrayList<>();

    /** Records the serial loaded at startup, servable from {@code loadedAt} on. */
    synchronized void initial(String serial, long loadedAt) {
        windows.add(new Window(serial, loadedAt));
    }

    /**
     * Records a swap: {@code serial} is servable from {@code reloadStarted}, and the serial served
     * until now stops being handed out at {@code reloadReturned}.
     */
    synchronized void swapped(String serial, long reloadStarted, long reloadReturned) {
        windows.get(windows.size() - 1).closedAt = reloadReturned;
        windows.add(new Window(serial, reloadStarted));
    }

    /** True when the broker may have served {@code serial} between the two instants. */
    synchronized boolean mayHaveServed(String serial, long attemptStarted, long attemptEnded) {
        for (Window window : windows) {
            if (window.serial.equals(serial)
                    && window.openedAt <= attemptEnded
                    && window.closedAt >= attemptStarted) {
                return true;
            }
        }
        return false;
    }

    /**
     * How many serials the broker may have served between the two instants: 1 for an attempt
     * entirely between two swaps, more for one that straddles a swap.
     */
    synchronized int servableCount(long attemptStarted, long attemptEnded) {
        int count = 0;
        for (Window window : windows) {
            if (window.openedAt <= attemptEnded && window.closedAt >= attemptStarted) {
                count++;
            }
        }
        return count;
    }

    private static final class Window {
        final String serial;
        final long openedAt;
        long closedAt = Long.MAX_VALUE;

        Window(String serial, long openedAt) {
            this.serial = serial;
            this.openedAt = openedAt;
        }
    }
}

package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The Java-side reading of direct buffer addresses agrees with the JVM's, slices included. */
class BufferAddressTest {
    @Test
    void readsAddressesBeforeJdk24AndLeavesThemToTheNativeSideAfter() {
        NativeLibrary.ensureLoaded();
        assertEquals(Runtime.version().feature() < 24
                && !"false".equals(System.getProperty("tlsctx.unsafe")), BufferAddress.AVAILABLE);
    }

    @Test
    void agreesWithTheJvmForBuffersAndSlices() {
        NativeLibrary.ensureLoaded();
        if (!BufferAddress.AVAILABLE) {
            return;
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        ByteBuffer slice = buffer.position(1000).slice();
        assertEquals(Native.directBufferAddress(buffer), BufferAddress.of(buffer));
        assertEquals(Native.directBufferAddress(slice), BufferAddress.of(slice));
        assertEquals(BufferAddress.of(buffer) + 1000, BufferAddress.of(slice));
    }
}

package org.tlsctx;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * Reads the native address of a direct buffer in Java, sparing the native side two JNI field
 * reads per buffer per record (about 6% of a 1 KiB record).
 *
 * <p>It reads {@code java.nio.Buffer.address} through {@code sun.misc.Unsafe}. From JDK 24 the
 * JVM warns on the first such use, so there (and wherever Unsafe cannot be had, or with
 * {@code -Dtlsctx.unsafe=false}) {@link #AVAILABLE} is false and the native side reads the field
 * itself.
 */
final class BufferAddress {
    /** Whether {@link #of} may be called. */
    static final boolean AVAILABLE;

    private static final MethodHandle GET_LONG;
    private static final long ADDRESS_OFFSET;

    private BufferAddress() {}

    static {
        MethodHandle getLong = null;
        long offset = -1;
        if (Runtime.version().feature() < 24
                && !"false".equals(System.getProperty("tlsctx.unsafe"))) {
            try {
                NativeLibrary.ensureLoaded();
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
                theUnsafe.setAccessible(true);
                Object unsafe = theUnsafe.get(null);
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                MethodHandle fieldOffset = lookup.findVirtual(unsafeClass, "objectFieldOffset",
                        MethodType.methodType(long.class, Field.class));
                offset = (long) fieldOffset.invoke(unsafe,
                        Buffer.class.getDeclaredField("address"));
                getLong = lookup.findVirtual(unsafeClass, "getLong",
                        MethodType.methodType(long.class, Object.class, long.class))
                        .bindTo(unsafe);
                // Check the reading against the JVM's own answer before trusting it.
                ByteBuffer probe = ByteBuffer.allocateDirect(1);
                if ((long) getLong.invokeExact((Object) probe, offset)
                        != Native.directBufferAddress(probe)) {
                    getLong = null;
                }
            } catch (Throwable e) {
                getLong = null;
            }
        }
        GET_LONG = getLong;
        ADDRESS_OFFSET = offset;
        AVAILABLE = getLong != null;
    }

    /** The address of the first byte of {@code direct}, a direct buffer; only if available. */
    static long of(ByteBuffer direct) {
        try {
            return (long) GET_LONG.invokeExact((Object) direct, ADDRESS_OFFSET);
        } catch (Throwable e) {
            throw new IllegalStateException("reading a direct buffer's address failed", e);
        }
    }
}

package org.tlsctx;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Where the native library's log events land: SLF4J when it is on the class path, otherwise
 * {@code java.util.logging}.
 *
 * <p>The native library calls {@link #log} for each event at INFO or above (a context loaded, a
 * reload swapped or failed with the file and the problem, warnings such as a weak key
 * encryption scheme), from Java threads and from its watcher thread. Logger names are
 * {@code org.tlsctx.native.} followed by the Rust module, e.g.
 * {@code org.tlsctx.native.tlsctx.reload}. A log handler must not call back into tlsctx: the
 * event may be emitted while a reload holds its lock.
 */
final class NativeLog {
    /** Level code for errors. */
    static final int ERROR = 1;
    /** Level code for warnings. */
    static final int WARN = 2;
    /** Level code for information. */
    static final int INFO = 3;

    private static final String PREFIX = "org.tlsctx.native.";
    private static final Slf4j SLF4J = Slf4j.find();
    private static final Map<String, Object> LOGGERS = new ConcurrentHashMap<>();

    private NativeLog() {}

    /**
     * Logs one native event. Called by the native library only.
     *
     * @param level {@link #ERROR}, {@link #WARN} or {@link #INFO}
     * @param target the Rust module that logged, e.g. {@code tlsctx::reload}
     * @param message the event's message and fields
     */
    static void log(int level, String target, String message) {
        String name = PREFIX + target.replace("::", ".");
        if (SLF4J != null && SLF4J.log(name, level, message)) {
            return;
        }
        Logger logger = (Logger) LOGGERS.computeIfAbsent(name, Logger::getLogger);
        switch (level) {
            case ERROR:
                logger.severe(message);
                break;
            case WARN:
                logger.warning(message);
                break;
            default:
                logger.info(message);
                break;
        }
    }

    /** SLF4J reached by reflection, so it stays an optional dependency. */
    private static final class Slf4j {
        private final MethodHandle getLogger;
        private final MethodHandle error;
        private final MethodHandle warn;
        private final MethodHandle info;
        private final Map<String, Object> loggers = new ConcurrentHashMap<>();

        private Slf4j(MethodHandle getLogger, MethodHandle error, MethodHandle warn,
                MethodHandle info) {
            this.getLogger = getLogger;
            this.error = error;
            this.warn = warn;
            this.info = info;
        }

        static Slf4j find() {
            try {
                Class<?> factory = Class.forName("org.slf4j.LoggerFactory");
                Class<?> loggerType = Class.forName("org.slf4j.Logger");
                MethodHandles.Lookup lookup = MethodHandles.publicLookup();
                MethodType byName = MethodType.methodType(loggerType, String.class);
                MethodType message = MethodType.methodType(void.class, String.class);
                return new Slf4j(lookup.findStatic(factory, "getLogger", byName),
                        lookup.findVirtual(loggerType, "error", message),
                        lookup.findVirtual(loggerType, "warn", message),
                        lookup.findVirtual(loggerType, "info", message));
            } catch (ReflectiveOperationException | LinkageError e) {
                return null;
            }
        }

        /** Logs through SLF4J; false when that failed and the caller should fall back. */
        boolean log(String name, int level, String message) {
            try {
                Object logger = loggers.get(name);
                if (logger == null) {
                    logger = getLogger.invoke(name);
                    loggers.put(name, logger);
                }
                MethodHandle method = level == ERROR ? error : level == WARN ? warn : info;
                method.invoke(logger, message);
                return true;
            } catch (Throwable e) {
                return false;
            }
        }
    }
}

package org.tlsctx;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads {@code libtlsctx} once per class loader and holds the cleaner that frees native objects
 * whose Java owners were dropped without being closed.
 *
 * <p>The library comes from the file named by the system property {@value #PATH_PROPERTY} when it
 * is set, otherwise from the copy bundled in the jar under {@code native/<os>-<arch>/}, which is
 * extracted to a temporary file (deleted when the JVM exits) because a shared object cannot be
 * loaded from inside a jar.
 */
final class NativeLibrary {
    /** System property naming a {@code libtlsctx.so} to load instead of the bundled one. */
    static final String PATH_PROPERTY = "tlsctx.library.path";

    /** Frees native contexts, reloaders and connections whose Java owner became unreachable. */
    static final Cleaner CLEANER = Cleaner.create(runnable -> {
        Thread thread = new Thread(runnable, "tlsctx-cleaner");
        thread.setDaemon(true);
        return thread;
    });

    private static final String LIBRARY_FILE = "libtlsctx.so";

    private static final UnsatisfiedLinkError LOAD_FAILURE = load();

    private NativeLibrary() {}

    /**
     * Makes sure the native library is loaded; every class that calls {@link Native} calls this
     * first.
     *
     * @throws UnsatisfiedLinkError when the library could not be loaded, saying why
     */
    static void ensureLoaded() {
        if (LOAD_FAILURE != null) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError(LOAD_FAILURE.getMessage());
            error.initCause(LOAD_FAILURE.getCause());
            throw error;
        }
    }

    private static UnsatisfiedLinkError load() {
        String explicitPath = System.getProperty(PATH_PROPERTY);
        if (explicitPath != null && !explicitPath.isEmpty()) {
            Path library = Paths.get(explicitPath).toAbsolutePath();
            try {
                System.load(library.toString());
                return null;
            } catch (UnsatisfiedLinkError e) {
                return failure("cannot load tlsctx native library " + library + " (from -D"
                        + PATH_PROPERTY + "): " + e.getMessage(), e);
            }
        }

        String platform = platform();
        String resource = "/native/" + platform + "/" + LIBRARY_FILE;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                return failure("no tlsctx native library bundled for " + platform + " (resource "
                        + resource + " is missing); set -D" + PATH_PROPERTY
                        + "=/path/to/libtlsctx.so", null);
            }
            Path extracted = Files.createTempFile("libtlsctx-", ".so");
            extracted.toFile().deleteOnExit();
            Files.copy(in, extracted, StandardCopyOption.REPLACE_EXISTING);
            System.load(extracted.toString());
            return null;
        } catch (IOException e) {
            return failure("cannot extract the bundled tlsctx native library " + resource
                    + " to a temporary file: " + e.getMessage(), e);
        } catch (UnsatisfiedLinkError e) {
            return failure("cannot load the bundled tlsctx native library " + resource + ": "
                    + e.getMessage(), e);
        }
    }

    private static String platform() {
        String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        }
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        }
        return os + "-" + arch;
    }

    private static UnsatisfiedLinkError failure(String message, Throwable cause) {
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(message);
        if (cause != null) {
            error.initCause(cause);
        }
        return error;
    }
}

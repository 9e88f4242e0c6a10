package org.tlsctx;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The files and settings a TLS context is built from: a fluent builder for a server or a client.
 *
 * <p>A server needs a {@linkplain #certificateChain(Path) certificate chain} and its
 * {@linkplain #privateKey(Path) private key}; a client needs a
 * {@linkplain #trustBundle(Path) trust bundle} unless it turns off
 * {@linkplain #verifyServer(boolean) server verification}. Files are read in PEM (or DER) form
 * by the native library when {@link #load()} or {@link #reloading()} is called, and again on
 * every reload.
 *
 * <pre>{@code
 * ReloadingTlsContext tls = TlsConfig.server()
 *         .certificateChain(Path.of("/etc/tls/tls.crt"))
 *         .privateKey(Path.of("/etc/tls/tls.key"))
 *         .applicationProtocols("h2", "http/1.1")
 *         .reloading();
 * }</pre>
 *
 * <p>A {@code TlsConfig} is not thread-safe while it is being built; {@link #reloading()} takes
 * a copy, so later changes to the builder do not affect the reloading context.
 */
public final class TlsConfig {
    /** Protocol version names accepted by {@link #protocols(String...)}, newest first. */
    static final List<String> PROTOCOL_NAMES = List.of("TLSv1.3", "TLSv1.2");

    private static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

    private final boolean server;
    private Path certificateChain;
    private Path privateKey;
    private String keyPassword;
    private Path trustBundle;
    private ClientAuth clientAuth = ClientAuth.NONE;
    private List<String> applicationProtocols = List.of();
    private List<String> protocols = PROTOCOL_NAMES;
    private boolean verifyServer = true;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;

    private TlsConfig(boolean server) {
        this.server = server;
    }

    /**
     * Starts the configuration of a server context.
     *
     * @return a new builder for a server
     */
    public static TlsConfig server() {
        return new TlsConfig(true);
    }

    /**
     * Starts the configuration of a client context.
     *
     * @return a new builder for a client
     */
    public static TlsConfig client() {
        return new TlsConfig(false);
    }

    /**
     * Sets the PEM file holding the certificate chain, leaf first. Required for a server; for a
     * client it is the client certificate presented when the server asks for one.
     *
     * @param path the certificate chain file
     * @return this builder
     */
    public TlsConfig certificateChain(Path path) {
        this.certificateChain = Objects.requireNonNull(path, "path");
        return this;
    }

    /**
     * Sets the file holding the private key of the leaf certificate (PKCS#8, PKCS#1 or SEC1, in
     * PEM, possibly encrypted).
     *
     * @param path the private key file
     * @return this builder
     */
    public TlsConfig privateKey(Path path) {
        this.privateKey = Objects.requireNonNull(path, "path");
        return this;
    }

    /**
     * Sets the password of an encrypted private key. It is passed to the native library on every
     * load and never logged.
     *
     * @param password the password, or null for an unencrypted key
     * @return this builder
     */
    public TlsConfig keyPassword(String password) {
        this.keyPassword = password;
        return this;
    }

    /**
     * Sets the PEM bundle of CA certificates: for a server, the CAs that verify client
     * certificates; for a client, the CAs that verify the server.
     *
     * @param path the trust bundle file
     * @return this builder
     */
    public TlsConfig trustBundle(Path path) {
        this.trustBundle = Objects.requireNonNull(path, "path");
        return this;
    }

    /**
     * Sets whether a server asks for a client certificate. Ignored for a client.
     *
     * <p>Defaults to {@link ClientAuth#NONE}. {@link ClientAuth#OPTIONAL} and
     * {@link ClientAuth#REQUIRE} need a {@linkplain #trustBundle(Path) trust bundle}.
     *
     * @param clientAuth the client authentication policy
     * @return this builder
     */
    public TlsConfig clientAuth(ClientAuth clientAuth) {
        this.clientAuth = Objects.requireNonNull(clientAuth, "clientAuth");
        return this;
    }

    /**
     * Sets the ALPN protocols in preference order, for example {@code "h2", "http/1.1"}.
     *
     * @param protocols the protocol names; none turns ALPN off
     * @return this builder
     * @throws IllegalArgumentException if a name is empty or longer than 255 bytes
     */
    public TlsConfig applicationProtocols(String... protocols) {
        return applicationProtocols(Arrays.asList(protocols));
    }

    /**
     * Sets the ALPN protocols in preference order.
     *
     * @param protocols the protocol names; an empty list turns ALPN off
     * @return this builder
     * @throws IllegalArgumentException if a name is empty or longer than 255 bytes
     */
    public TlsConfig applicationProtocols(List<String> protocols) {
        List<String> checked = new ArrayList<>(protocols.size());
        for (String protocol : protocols) {
            Objects.requireNonNull(protocol, "ALPN protocol name");
            int length = protocol.getBytes(StandardCharsets.UTF_8).length;
            if (length == 0 || length > 255) {
                throw new IllegalArgumentException(
                        "an ALPN protocol name must be 1 to 255 bytes long: '" + protocol + "'");
            }
            checked.add(protocol);
        }
        this.applicationProtocols = List.copyOf(checked);
        return this;
    }

    /**
     * Restricts the TLS versions offered and accepted.
     *
     * <p>Defaults to both TLS 1.3 and TLS 1.2.
     *
     * @param names {@code "TLSv1.3"} and/or {@code "TLSv1.2"}
     * @return this builder
     * @throws IllegalArgumentException for any other name, or for no name at all
     */
    public TlsConfig protocols(String... names) {
        Set<String> chosen = new LinkedHashSet<>();
        for (String name : names) {
            if (!PROTOCOL_NAMES.contains(name)) {
                throw new IllegalArgumentException("unsupported TLS protocol version '" + name
                        + "': tlsctx supports " + PROTOCOL_NAMES);
            }
            chosen.add(name);
        }
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException("at least one TLS protocol version is needed");
        }
        List<String> ordered = new ArrayList<>(PROTOCOL_NAMES);
        ordered.retainAll(chosen);
        this.protocols = List.copyOf(ordered);
        return this;
    }

    /**
     * Sets whether a client verifies the server's certificate chain and name. Ignored for a
     * server.
     *
     * <p>Defaults to true. False accepts any server: use it only in tests.
     *
     * @param verify false to accept any server certificate
     * @return this builder
     */
    public TlsConfig verifyServer(boolean verify) {
        this.verifyServer = verify;
        return this;
    }

    /**
     * Sets how often a {@linkplain #reloading() reloading context} polls its files for changed
     * content. Ignored by {@link #load()}.
     *
     * <p>Defaults to one second. {@link Duration#ZERO} turns the watcher off, so only
     * {@link ReloadingTlsContext#reload()} picks up changes.
     *
     * @param interval the polling interval, zero or positive
     * @return this builder
     * @throws IllegalArgumentException if the interval is negative
     */
    public TlsConfig pollInterval(Duration interval) {
        if (interval.isNegative()) {
            throw new IllegalArgumentException("the poll interval must not be negative");
        }
        this.pollInterval = interval;
        return this;
    }

    /**
     * Loads one immutable context from the files now.
     *
     * @return a context with reference count 1; the caller closes it
     * @throws TlsException if a file is missing or invalid, or the key does not match the
     *     certificate; the message names the file
     * @throws IllegalStateException if the configuration is incomplete
     */
    public TlsContext load() {
        validate();
        NativeLibrary.ensureLoaded();
        long handle = Native.contextLoad(server, pathString(certificateChain),
                pathString(privateKey), keyPassword, pathString(trustBundle),
                clientAuth.nativeCode(), alpnArray(), versionMask(), verifyServer);
        return new TlsContext(handle);
    }

    /**
     * Creates a reloading context over the same paths, loading its first generation now and
     * starting the file watcher unless the {@linkplain #pollInterval(Duration) poll interval}
     * is zero.
     *
     * @return the reloading context; the caller closes it
     * @throws TlsException if the first load fails; the message names the file
     * @throws IllegalStateException if the configuration is incomplete
     */
    public ReloadingTlsContext reloading() {
        validate();
        NativeLibrary.ensureLoaded();
        TlsConfig snapshot = copy();
        long pollMillis = snapshot.pollInterval.isZero()
                ? 0
                : Math.max(1, snapshot.pollInterval.toMillis());
        long reloader = Native.reloaderNew(server, pathString(certificateChain),
                pathString(privateKey), keyPassword, pathString(trustBundle),
                clientAuth.nativeCode(), alpnArray(), versionMask(), verifyServer, pollMillis);
        return new ReloadingTlsContext(reloader, snapshot);
    }

    /**
     * Whether this configures a server.
     *
     * @return true for a server, false for a client
     */
    public boolean isServer() {
        return server;
    }

    /**
     * The certificate chain file.
     *
     * @return the path, or null when not set
     */
    public Path certificateChain() {
        return certificateChain;
    }

    /**
     * The private key file.
     *
     * @return the path, or null when not set
     */
    public Path privateKey() {
        return privateKey;
    }

    /**
     * The trust bundle file.
     *
     * @return the path, or null when not set
     */
    public Path trustBundle() {
        return trustBundle;
    }

    /**
     * The client authentication policy of a server.
     *
     * @return the policy; {@link ClientAuth#NONE} unless set
     */
    public ClientAuth clientAuth() {
        return clientAuth;
    }

    /**
     * The ALPN protocols in preference order.
     *
     * @return an unmodifiable list, empty when ALPN is off
     */
    public List<String> applicationProtocols() {
        return applicationProtocols;
    }

    /**
     * The enabled TLS versions, newest first.
     *
     * @return an unmodifiable list of {@code "TLSv1.3"} and/or {@code "TLSv1.2"}
     */
    public List<String> protocols() {
        return protocols;
    }

    /**
     * Whether a client verifies the server.
     *
     * @return true unless turned off
     */
    public boolean verifyServer() {
        return verifyServer;
    }

    /**
     * The polling interval of the file watcher of a reloading context.
     *
     * @return the interval; zero means no watcher
     */
    public Duration pollInterval() {
        return pollInterval;
    }

    /**
     * Describes the configuration without the key password.
     *
     * @return a one-line description
     */
    @Override
    public String toString() {
        return "TlsConfig{" + (server ? "server" : "client")
                + ", certificateChain=" + certificateChain
                + ", privateKey=" + privateKey
                + ", keyPassword=" + (keyPassword == null ? "none" : "set")
                + ", trustBundle=" + trustBundle
                + ", clientAuth=" + clientAuth
                + ", applicationProtocols=" + applicationProtocols
                + ", protocols=" + protocols
                + ", verifyServer=" + verifyServer
                + ", pollInterval=" + pollInterval + "}";
    }

    TlsConfig copy() {
        TlsConfig copy = new TlsConfig(server);
        copy.certificateChain = certificateChain;
        copy.privateKey = privateKey;
        copy.keyPassword = keyPassword;
        copy.trustBundle = trustBundle;
        copy.clientAuth = clientAuth;
        copy.applicationProtocols = applicationProtocols;
        copy.protocols = protocols;
        copy.verifyServer = verifyServer;
        copy.pollInterval = pollInterval;
        return copy;
    }

    private void validate() {
        if (server && (certificateChain == null || privateKey == null)) {
            throw new IllegalStateException(
                    "a server needs both a certificate chain and a private key");
        }
        if ((certificateChain == null) != (privateKey == null)) {
            throw new IllegalStateException(
                    "a certificate chain and a private key go together: set both or neither");
        }
        if (server && clientAuth != ClientAuth.NONE && trustBundle == null) {
            throw new IllegalStateException(
                    "client authentication " + clientAuth + " needs a trust bundle");
        }
    }

    private String[] alpnArray() {
        return applicationProtocols.isEmpty() ? null : applicationProtocols.toArray(new String[0]);
    }

    private int versionMask() {
        int mask = 0;
        if (protocols.contains("TLSv1.2")) {
            mask |= Native.VERSION_TLS12;
        }
        if (protocols.contains("TLSv1.3")) {
            mask |= Native.VERSION_TLS13;
        }
        return mask == (Native.VERSION_TLS12 | Native.VERSION_TLS13) ? 0 : mask;
    }

    private static String pathString(Path path) {
        return path == null ? null : path.toString();
    }
}

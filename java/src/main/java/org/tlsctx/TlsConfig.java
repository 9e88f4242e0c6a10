package org.tlsctx;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The certificate material and settings a TLS context is built from: a fluent builder for a
 * server or a client.
 *
 * <p>A server needs a {@linkplain #certificateChain(Path) certificate chain} and its
 * {@linkplain #privateKey(Path) private key}, from files, from memory, or from a Java
 * {@linkplain #keyStore(KeyStore, String, char[]) key store}; a client needs a
 * {@linkplain #trustBundle(Path) trust bundle} unless it turns off
 * {@linkplain #verifyServer(boolean) server verification}. Files are read in PEM or DER form by
 * the native library when {@link #load()} or {@link #reloading()} is called, and again on every
 * reload; material handed over in memory or from a key store never changes, so a reload finds it
 * unchanged.
 *
 * <pre>{@code
 * ReloadingTlsContext tls = TlsConfig.server()
 *         .certificateChain(Path.of("/etc/tls/tls.crt"))
 *         .privateKey(Path.of("/etc/tls/tls.key"))
 *         .applicationProtocols("h2", "http/1.1")
 *         .reloading();
 * }</pre>
 *
 * <p>Failures to load are thrown as {@link TlsException} subclasses whose
 * {@link TlsException#reason() reason} says what is wrong and whose message names the file.
 *
 * <p>A {@code TlsConfig} is not thread-safe while it is being built; {@link #reloading()} takes
 * a copy, so later changes to the builder do not affect the reloading context.
 */
public final class TlsConfig {
    /** Protocol version names accepted by {@link #protocols(String...)}, newest first. */
    static final List<String> PROTOCOL_NAMES = List.of("TLSv1.3", "TLSv1.2");

    private static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    private static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(200);

    private final boolean server;
    private final Path brokerProperties;
    private Material certificateChain;
    private Material privateKey;
    private KeyStoreIdentity keyStoreIdentity;
    private boolean keyPasswordSet;
    private String keyPassword;
    private Material trustBundle;
    private Material pkcs12;
    private List<NamedIdentity> namedIdentities = List.of();
    // Null means "not set on this builder": the native default, or the properties file's value.
    private ClientAuth clientAuth;
    private List<String> applicationProtocols;
    private List<String> protocols;
    private Boolean verifyServer;
    private List<String> cipherSuites;
    private Boolean testMode;
    private Boolean allowExpiredLeaf;
    private Duration expiryWarning;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration debounce = DEFAULT_DEBOUNCE;

    private TlsConfig(boolean server, Path brokerProperties) {
        this.server = server;
        this.brokerProperties = brokerProperties;
    }

    /**
     * Starts the configuration of a server context.
     *
     * @return a new builder for a server
     */
    public static TlsConfig server() {
        return new TlsConfig(true, null);
    }

    /**
     * Starts the configuration of a client context.
     *
     * @return a new builder for a client
     */
    public static TlsConfig client() {
        return new TlsConfig(false, null);
    }

    /**
     * Starts from a RocketMQ-style {@code tls.properties} file, so a broker keeps its settings
     * when it switches to tlsctx.
     *
     * <p>The file is read by the native library at {@link #load()} and {@link #reloading()}:
     * for a server the {@code tls.server.*} keys ({@code certPath}, {@code keyPath},
     * {@code keyPassword}, {@code trustCertPath}, {@code need.client.auth}), for a client the
     * {@code tls.client.*} keys and {@code tls.client.authServer}, and for both
     * {@code tls.test.mode.enable}. RocketMQ's defaults apply, so test mode is on unless the
     * file sets {@code tls.test.mode.enable=false}. Anything set on the returned builder is
     * applied on top of the file's values. The getters of the returned builder report only what
     * was set on it, not what the file holds.
     *
     * <p>A reloading context reads the properties file once, at {@link #reloading()}; its
     * reloads read the certificate and key files the properties name again, but a changed
     * properties file takes effect only in a new reloading context.
     *
     * @param file the properties file
     * @param server true for the {@code tls.server.*} settings, false for {@code tls.client.*}
     * @return a new builder over the file
     */
    public static TlsConfig fromBrokerProperties(Path file, boolean server) {
        return new TlsConfig(server, Objects.requireNonNull(file, "file"));
    }

    /**
     * Sets the file holding the certificate chain, PEM or DER, leaf first. Required for a
     * server; for a client it is the client certificate presented when the server asks for one.
     *
     * @param path the certificate chain file
     * @return this builder
     */
    public TlsConfig certificateChain(Path path) {
        this.certificateChain = Material.file(path);
        this.keyStoreIdentity = null;
        return this;
    }

    /**
     * Sets the certificate chain from memory: PEM text (one or more certificates, leaf first)
     * or the DER encoding of a single certificate. The bytes are copied.
     *
     * @param name what error messages call the material in place of a path, for example
     *     {@code "vault secret tls/broker"}
     * @param pemOrDer the encoded certificate chain
     * @return this builder
     */
    public TlsConfig certificateChain(String name, byte[] pemOrDer) {
        this.certificateChain = Material.memory(name, pemOrDer);
        this.keyStoreIdentity = null;
        return this;
    }

    /**
     * Sets the file holding the private key of the leaf certificate: one PKCS#8, PKCS#1 RSA or
     * SEC1 EC key, PEM or DER, possibly encrypted (see {@link #keyPassword(String)}).
     *
     * @param path the private key file
     * @return this builder
     */
    public TlsConfig privateKey(Path path) {
        this.privateKey = Material.file(path);
        this.keyStoreIdentity = null;
        return this;
    }

    /**
     * Sets the private key from memory, in any form {@link #privateKey(Path)} accepts. The
     * bytes are copied; the native library wipes its copy when it is freed.
     *
     * @param name what error messages call the key in place of a path
     * @param pemOrDer the encoded private key
     * @return this builder
     */
    public TlsConfig privateKey(String name, byte[] pemOrDer) {
        this.privateKey = Material.memory(name, pemOrDer);
        this.keyStoreIdentity = null;
        return this;
    }

    /**
     * Sets the certificate chain and private key from one entry of a loaded Java key store
     * (PKCS#12 or JKS), replacing any chain and key set before.
     *
     * <p>The entry is read at every {@link #load()} and {@link #reloading()}: the key must be
     * available in PKCS#8 form ({@link java.security.Key#getEncoded()}), as RSA, EC and EdDSA
     * keys from the JDK's providers are; a key held in a hardware token is not. The key's bytes
     * are handed to the native library as DER and wiped in Java right after; the chain is
     * passed as PEM. Error messages name the material {@code keystore alias "<alias>"}. A
     * reloading context keeps the entry as it was at {@link #reloading()}: a later change to
     * the key store is not picked up by a reload.
     *
     * @param keyStore a loaded key store
     * @param alias the alias of a private key entry
     * @param password the entry's password, or null when the entry has none; it is copied
     * @return this builder
     */
    public TlsConfig keyStore(KeyStore keyStore, String alias, char[] password) {
        this.keyStoreIdentity = KeyStoreIdentity.of(keyStore, alias, password);
        this.certificateChain = null;
        this.privateKey = null;
        return this;
    }

    /**
     * Sets the certificate chain and private key from one entry of a key store file, as
     * {@link #keyStore(KeyStore, String, char[])} does, with the same password for the store
     * and the entry (as {@code keytool} and {@code openssl pkcs12} write them).
     *
     * <p>The file is imported once, when {@link #load()} or {@link #reloading()} is called: a
     * reloading context then holds the imported material and reports its reloads unchanged. To
     * follow a PKCS#12 file as it is rotated, use {@link #pkcs12(Path)}, which the native
     * library reads again at every reload; a JKS file must be converted to PKCS#12 for that.
     *
     * @param file the key store file
     * @param type the key store type, {@code "PKCS12"} or {@code "JKS"}
     * @param password the password of the store and of the entry; it is copied
     * @param alias the alias of a private key entry
     * @return this builder
     */
    public TlsConfig keyStore(Path file, String type, char[] password, String alias) {
        this.keyStoreIdentity = KeyStoreIdentity.of(file, type, password, alias);
        this.certificateChain = null;
        this.privateKey = null;
        return this;
    }

    /**
     * Sets the password of an encrypted private key file. It is passed to the native library on
     * every load and never logged.
     *
     * @param password the password, or null for an unencrypted key
     * @return this builder
     */
    public TlsConfig keyPassword(String password) {
        this.keyPassword = password;
        this.keyPasswordSet = true;
        return this;
    }

    /**
     * Sets the file holding the CA certificates, PEM or DER: for a server, the CAs that verify
     * client certificates; for a client, the CAs that verify the server.
     *
     * @param path the trust bundle file
     * @return this builder
     */
    public TlsConfig trustBundle(Path path) {
        this.trustBundle = Material.file(path);
        return this;
    }

    /**
     * Sets a PKCS#12 file ({@code .p12}, {@code .pfx}) holding the certificate chain and the
     * private key together, in place of {@link #certificateChain(Path)} and
     * {@link #privateKey(Path)}; {@link #keyPassword(String)} opens it. The file is decrypted
     * by the native library (OpenSSL 3 defaults, {@code -legacy}, files without a MAC), so the
     * JRE's PKCS#12 support does not matter, and it is read again at every reload.
     *
     * @param path the PKCS#12 file
     * @return this builder
     */
    public TlsConfig pkcs12(Path path) {
        this.pkcs12 = Material.file(path);
        return this;
    }

    /**
     * Sets the trust bundle from memory: PEM text with one or more CA certificates, or the DER
     * encoding of one. The bytes are copied.
     *
     * @param name what error messages call the bundle in place of a path
     * @param pemOrDer the encoded CA certificates
     * @return this builder
     */
    public TlsConfig trustBundle(String name, byte[] pemOrDer) {
        this.trustBundle = Material.memory(name, pemOrDer);
        return this;
    }

    /**
     * Adds a certificate chain and private key that a server presents to clients asking for
     * {@code serverName} by SNI; other clients get the main {@linkplain #certificateChain(Path)
     * certificate chain}. The files are read at every load and reload, like the main ones.
     *
     * @param serverName the DNS name, matched without regard to case
     * @param certChain the certificate chain file for that name, leaf first
     * @param privateKey the private key file of that leaf
     * @return this builder
     * @throws IllegalStateException if this configures a client
     */
    public TlsConfig identityForName(String serverName, Path certChain, Path privateKey) {
        if (!server) {
            throw new IllegalStateException("certificates by server name are for a server only");
        }
        List<NamedIdentity> updated = new ArrayList<>(namedIdentities);
        updated.add(new NamedIdentity(Objects.requireNonNull(serverName, "serverName"),
                Objects.requireNonNull(certChain, "certChain"),
                Objects.requireNonNull(privateKey, "privateKey")));
        this.namedIdentities = List.copyOf(updated);
        return this;
    }

    /** How many certificate chains a server may present: the main one and one per name. */
    int identityCount() {
        return namedIdentities.size() + 1;
    }

    /**
     * Which chain a client asking for {@code serverName} is served, as the native side chooses
     * it: 0 for the main one, {@code i + 1} for the first name {@code i} equal to it regardless
     * of case.
     */
    int identityIndex(String serverName) {
        if (serverName != null) {
            for (int i = 0; i < namedIdentities.size(); i++) {
                if (namedIdentities.get(i).serverName.equalsIgnoreCase(serverName)) {
                    return i + 1;
                }
            }
        }
        return 0;
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
     * Restricts the cipher suites to these standard (IANA) names, for example
     * {@code TLS_AES_128_GCM_SHA256} or {@code TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}; the
     * order does not matter.
     *
     * <p>Defaults to every suite rustls offers. Names rustls does not offer (CBC, DHE and RSA
     * key exchange suites, which broker settings often list) are skipped with a warning; when
     * none of the names is offered, loading fails with {@link TlsConfigException}
     * ({@link TlsException.Reason#INVALID_CONFIG}).
     *
     * @param names the suite names
     * @return this builder
     * @throws IllegalArgumentException if no name is given, or a name is empty
     */
    public TlsConfig cipherSuites(String... names) {
        return cipherSuites(Arrays.asList(names));
    }

    /**
     * Restricts the cipher suites to these standard (IANA) names, as
     * {@link #cipherSuites(String...)} does.
     *
     * @param names the suite names
     * @return this builder
     * @throws IllegalArgumentException if the list is empty, or a name is empty
     */
    public TlsConfig cipherSuites(List<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("at least one cipher suite is needed");
        }
        for (String name : names) {
            if (Objects.requireNonNull(name, "cipher suite name").isEmpty()) {
                throw new IllegalArgumentException("a cipher suite name must not be empty");
            }
        }
        this.cipherSuites = List.copyOf(names);
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
     * Turns on test mode, for development only: a server without a certificate chain and key
     * serves a self-signed certificate for {@code localhost} and 127.0.0.1, generated once per
     * load of this configuration; a client accepts any server certificate, whatever
     * {@link #verifyServer(boolean)} says.
     *
     * <p>Defaults to false (for {@link #fromBrokerProperties(Path, boolean)}: the file's
     * {@code tls.test.mode.enable}, true when absent).
     *
     * @param enabled true for test mode
     * @return this builder
     */
    public TlsConfig testMode(boolean enabled) {
        this.testMode = enabled;
        return this;
    }

    /**
     * Sets whether the first load may serve a leaf certificate that has expired, logging a
     * warning, so a server can start while its renewal is late. A reload never swaps to an
     * expired leaf, whatever this says.
     *
     * <p>Defaults to false: an expired leaf fails with {@link CertificateValidityException}.
     *
     * @param allow true to accept an expired leaf at the first load
     * @return this builder
     */
    public TlsConfig allowExpiredLeaf(boolean allow) {
        this.allowExpiredLeaf = allow;
        return this;
    }

    /**
     * Sets how long before the served leaf expires a reloading context logs a warning, once per
     * generation, at load and at each reload. Defaults to 14 days.
     *
     * @param beforeExpiry the warning time; not negative
     * @return this builder
     */
    public TlsConfig expiryWarning(Duration beforeExpiry) {
        if (beforeExpiry.isNegative()) {
            throw new IllegalArgumentException("expiryWarning must not be negative");
        }
        this.expiryWarning = beforeExpiry;
        return this;
    }

    /**
     * Sets how often a {@linkplain #reloading() reloading context} polls its files for changed
     * content. Ignored by {@link #load()}.
     *
     * <p>The watcher also reloads on file events in the directories holding the files (renames,
     * in-place writes, Kubernetes {@code ..data} symlink swaps), once events have been quiet
     * for the {@linkplain #debounce(Duration) debounce} time; the poll catches any event that is
     * lost.
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
     * Sets how long the watcher waits after a file event until no further event comes before it
     * reloads, so a rotation that writes several files is read whole. Defaults to 200 ms.
     *
     * @param quiet the quiet time, zero or positive
     * @return this builder
     * @throws IllegalArgumentException if the time is negative
     */
    public TlsConfig debounce(Duration quiet) {
        if (quiet.isNegative()) {
            throw new IllegalArgumentException("the debounce time must not be negative");
        }
        this.debounce = quiet;
        return this;
    }

    /**
     * Loads one immutable context from the configured material now.
     *
     * @return a context with reference count 1; the caller closes it
     * @throws TlsException (a subclass by {@linkplain TlsException#reason() reason}) if a file
     *     is missing or invalid, the key does not match the certificate, or the settings do not
     *     work together; the message names the file
     * @throws IllegalStateException if the configuration is incomplete
     */
    public TlsContext load() {
        validate();
        NativeLibrary.ensureLoaded();
        long config = newNativeConfig();
        long handle;
        try {
            applyTo(config);
            handle = Native.configLoad(config);
        } finally {
            Native.configFree(config);
        }
        return new TlsContext(handle);
    }

    /**
     * Creates a reloading context over the same material, loading its first generation now and
     * starting the file watcher unless the {@linkplain #pollInterval(Duration) poll interval}
     * is zero.
     *
     * @return the reloading context; the caller closes it
     * @throws TlsException (a subclass by {@linkplain TlsException#reason() reason}) if the
     *     first load fails; the message names the file
     * @throws IllegalStateException if the configuration is incomplete
     */
    public ReloadingTlsContext reloading() {
        validate();
        NativeLibrary.ensureLoaded();
        TlsConfig snapshot = copy();
        long pollMillis = snapshot.pollInterval.isZero()
                ? 0
                : Math.max(1, snapshot.pollInterval.toMillis());
        long config = newNativeConfig();
        long reloader;
        try {
            snapshot.applyTo(config);
            reloader = Native.configReloading(config, pollMillis, snapshot.debounce.toMillis());
        } finally {
            Native.configFree(config);
        }
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
     * @return the path, or null when not set or set from memory or a key store
     */
    public Path certificateChain() {
        return certificateChain == null ? null : certificateChain.path;
    }

    /**
     * The private key file.
     *
     * @return the path, or null when not set or set from memory or a key store
     */
    public Path privateKey() {
        return privateKey == null ? null : privateKey.path;
    }

    /**
     * The trust bundle file.
     *
     * @return the path, or null when not set or set from memory
     */
    public Path trustBundle() {
        return trustBundle == null ? null : trustBundle.path;
    }

    /**
     * The properties file this configuration starts from.
     *
     * @return the path given to {@link #fromBrokerProperties(Path, boolean)}, or null
     */
    public Path brokerProperties() {
        return brokerProperties;
    }

    /**
     * The client authentication policy of a server.
     *
     * @return the policy; {@link ClientAuth#NONE} unless set
     */
    public ClientAuth clientAuth() {
        return clientAuth == null ? ClientAuth.NONE : clientAuth;
    }

    /**
     * The ALPN protocols in preference order.
     *
     * @return an unmodifiable list, empty when ALPN is off
     */
    public List<String> applicationProtocols() {
        return applicationProtocols == null ? List.of() : applicationProtocols;
    }

    /**
     * The enabled TLS versions, newest first.
     *
     * @return an unmodifiable list of {@code "TLSv1.3"} and/or {@code "TLSv1.2"}
     */
    public List<String> protocols() {
        return protocols == null ? PROTOCOL_NAMES : protocols;
    }

    /**
     * The cipher suites the configuration is restricted to, as given.
     *
     * @return an unmodifiable list, or null when every suite rustls offers is allowed
     */
    public List<String> cipherSuites() {
        return cipherSuites;
    }

    /**
     * Whether a client verifies the server.
     *
     * @return true unless turned off here or by {@linkplain #testMode(boolean) test mode}
     */
    public boolean verifyServer() {
        return !Boolean.TRUE.equals(testMode) && !Boolean.FALSE.equals(verifyServer);
    }

    /**
     * Whether test mode is on.
     *
     * @return true when turned on with {@link #testMode(boolean)}
     */
    public boolean testMode() {
        return Boolean.TRUE.equals(testMode);
    }

    /**
     * Whether the first load may serve an expired leaf.
     *
     * @return true when allowed with {@link #allowExpiredLeaf(boolean)}
     */
    public boolean allowExpiredLeaf() {
        return Boolean.TRUE.equals(allowExpiredLeaf);
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
     * Describes the configuration without the key password or any key material.
     *
     * @return a one-line description
     */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("TlsConfig{").append(server ? "server" : "client");
        if (brokerProperties != null) {
            text.append(", brokerProperties=").append(brokerProperties);
        }
        if (keyStoreIdentity != null) {
            text.append(", keyStore=").append(keyStoreIdentity.name());
        } else {
            text.append(", certificateChain=").append(certificateChain)
                    .append(", privateKey=").append(privateKey);
        }
        text.append(", keyPassword=").append(keyPassword == null ? "none" : "set")
                .append(", trustBundle=").append(trustBundle);
        for (NamedIdentity identity : namedIdentities) {
            text.append(", identityForName=").append(identity.serverName);
        }
        text.append(", clientAuth=").append(clientAuth())
                .append(", applicationProtocols=").append(applicationProtocols())
                .append(", protocols=").append(protocols());
        if (cipherSuites != null) {
            text.append(", cipherSuites=").append(cipherSuites);
        }
        return text.append(", verifyServer=").append(verifyServer())
                .append(", testMode=").append(testMode())
                .append(", allowExpiredLeaf=").append(allowExpiredLeaf())
                .append(", pollInterval=").append(pollInterval).append('}').toString();
    }

    TlsConfig copy() {
        TlsConfig copy = new TlsConfig(server, brokerProperties);
        copy.certificateChain = certificateChain;
        copy.privateKey = privateKey;
        copy.keyStoreIdentity = keyStoreIdentity;
        copy.keyPasswordSet = keyPasswordSet;
        copy.keyPassword = keyPassword;
        copy.trustBundle = trustBundle;
        copy.pkcs12 = pkcs12;
        copy.namedIdentities = namedIdentities;
        copy.clientAuth = clientAuth;
        copy.applicationProtocols = applicationProtocols;
        copy.protocols = protocols;
        copy.verifyServer = verifyServer;
        copy.cipherSuites = cipherSuites;
        copy.testMode = testMode;
        copy.allowExpiredLeaf = allowExpiredLeaf;
        copy.expiryWarning = expiryWarning;
        copy.pollInterval = pollInterval;
        copy.debounce = debounce;
        return copy;
    }

    private void validate() {
        // A properties file may supply any of these; the native library checks the result.
        if (brokerProperties != null) {
            return;
        }
        boolean hasChain = certificateChain != null || keyStoreIdentity != null || pkcs12 != null;
        boolean hasKey = privateKey != null || keyStoreIdentity != null || pkcs12 != null;
        if (server && !testMode() && (!hasChain || !hasKey)) {
            throw new IllegalStateException(
                    "a server needs both a certificate chain and a private key");
        }
        if (hasChain != hasKey) {
            throw new IllegalStateException(
                    "a certificate chain and a private key go together: set both or neither");
        }
        if (server && clientAuth() != ClientAuth.NONE && trustBundle == null) {
            throw new IllegalStateException(
                    "client authentication " + clientAuth + " needs a trust bundle");
        }
    }

    private long newNativeConfig() {
        return brokerProperties == null
                ? Native.configNew(server)
                : Native.configFromProperties(brokerProperties.toString(), server);
    }

    /** Writes every setting made on this builder into a native configuration. */
    private void applyTo(long config) {
        if (keyStoreIdentity != null) {
            keyStoreIdentity.applyTo(config);
        }
        setMaterial(config, Native.MATERIAL_CERT_CHAIN, certificateChain);
        setMaterial(config, Native.MATERIAL_PRIVATE_KEY, privateKey);
        setMaterial(config, Native.MATERIAL_TRUST_BUNDLE, trustBundle);
        setMaterial(config, Native.MATERIAL_PKCS12, pkcs12);
        if (keyPasswordSet) {
            Native.configSetKeyPassword(config, keyPassword);
        }
        for (NamedIdentity identity : namedIdentities) {
            Native.configAddIdentityForName(config, identity.serverName,
                    identity.certChain.toString(), identity.privateKey.toString());
        }
        if (clientAuth != null) {
            Native.configSetClientAuth(config, clientAuth.nativeCode());
        }
        if (applicationProtocols != null) {
            Native.configSetAlpn(config, applicationProtocols.toArray(new String[0]));
        }
        if (protocols != null) {
            Native.configSetVersions(config, versionMask(protocols));
        }
        if (verifyServer != null) {
            Native.configSetVerifyServer(config, verifyServer);
        }
        if (cipherSuites != null) {
            Native.configSetCipherSuites(config, cipherSuites.toArray(new String[0]));
        }
        // After verifyServer: test mode turns a client's server verification off.
        if (testMode != null) {
            Native.configSetTestMode(config, testMode);
        }
        if (expiryWarning != null) {
            Native.configSetExpiryWarning(config, expiryWarning.getSeconds());
        }
        if (allowExpiredLeaf != null) {
            Native.configSetAllowExpiredLeaf(config, allowExpiredLeaf);
        }
    }

    private static void setMaterial(long config, int slot, Material material) {
        if (material == null) {
            return;
        }
        if (material.path != null) {
            Native.configSetPath(config, slot, material.path.toString());
        } else {
            Native.configSetMemory(config, slot, material.name, material.bytes);
        }
    }

    private static int versionMask(List<String> protocols) {
        int mask = 0;
        if (protocols.contains("TLSv1.2")) {
            mask |= Native.VERSION_TLS12;
        }
        if (protocols.contains("TLSv1.3")) {
            mask |= Native.VERSION_TLS13;
        }
        return mask;
    }

    /** A certificate chain, private key or trust bundle: a file, or bytes with a name. */
    private static final class Material {
        final Path path;
        final String name;
        final byte[] bytes;

        private Material(Path path, String name, byte[] bytes) {
            this.path = path;
            this.name = name;
            this.bytes = bytes;
        }

        static Material file(Path path) {
            return new Material(Objects.requireNonNull(path, "path"), null, null);
        }

        static Material memory(String name, byte[] bytes) {
            Objects.requireNonNull(name, "name");
            return new Material(null, name, Objects.requireNonNull(bytes, "pemOrDer").clone());
        }

        @Override
        public String toString() {
            return path != null ? path.toString() : name + " (in memory)";
        }
    }

    /** A certificate chain and key served to clients asking for one server name. */
    private static final class NamedIdentity {
        final String serverName;
        final Path certChain;
        final Path privateKey;

        NamedIdentity(String serverName, Path certChain, Path privateKey) {
            this.serverName = serverName;
            this.certChain = certChain;
            this.privateKey = privateKey;
        }
    }
}

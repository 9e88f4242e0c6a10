package org.tlsctx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.Objects;

/**
 * A certificate chain and private key taken from one entry of a Java key store, handed to a
 * native configuration as in-memory material each time a context is loaded from it.
 *
 * <p>The chain crosses as PEM text and the key as PKCS#8 DER; the Java copy of the key's bytes
 * is wiped as soon as the native library holds its own. The JDK's {@link PrivateKey} object
 * cannot be wiped (its providers do not implement {@code destroy}), so it stays in the heap
 * until it is collected.
 */
final class KeyStoreIdentity {
    private static final byte[] LINE_SEPARATOR = {'\n'};

    private final KeyStore keyStore;
    private final Path file;
    private final String type;
    private final char[] password;
    private final String alias;

    private KeyStoreIdentity(KeyStore keyStore, Path file, String type, char[] password,
            String alias) {
        this.keyStore = keyStore;
        this.file = file;
        this.type = type;
        this.password = password == null ? null : password.clone();
        this.alias = Objects.requireNonNull(alias, "alias");
    }

    /** An entry of a key store the caller has loaded. */
    static KeyStoreIdentity of(KeyStore keyStore, String alias, char[] password) {
        return new KeyStoreIdentity(Objects.requireNonNull(keyStore, "keyStore"), null, null,
                password, alias);
    }

    /** An entry of a key store file, opened with the same password as the entry. */
    static KeyStoreIdentity of(Path file, String type, char[] password, String alias) {
        return new KeyStoreIdentity(null, Objects.requireNonNull(file, "file"),
                Objects.requireNonNull(type, "type"), password, alias);
    }

    /** What error messages call this material in place of a path. */
    String name() {
        String entry = "keystore alias \"" + alias + "\"";
        return file == null ? entry : entry + " in " + file;
    }

    /**
     * Sets the chain and key slots of a native configuration from the entry.
     *
     * @throws TlsException naming the entry when it holds no usable private key and chain
     */
    void applyTo(long config) {
        KeyStore store = keyStore != null ? keyStore : open();
        byte[] pkcs8 = pkcs8Key(store);
        try {
            Native.configSetMemory(config, Native.MATERIAL_CERT_CHAIN, name(), pemChain(store));
            Native.configSetMemory(config, Native.MATERIAL_PRIVATE_KEY, name(), pkcs8);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    private KeyStore open() {
        KeyStore store;
        try {
            store = KeyStore.getInstance(type);
        } catch (KeyStoreException e) {
            throw failure(TlsException.Reason.INVALID_CONFIG,
                    file + ": key store type " + type + " is not available in this JRE");
        }
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, password);
            return store;
        } catch (NoSuchFileException e) {
            throw failure(TlsException.Reason.FILE_NOT_FOUND, file + ": file not found");
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw failure(TlsException.Reason.WRONG_PASSWORD,
                        file + ": wrong password for the " + type + " key store (" + e.getMessage()
                                + ")");
            }
            throw failure(TlsException.Reason.FILE_UNREADABLE,
                    file + ": cannot be read as a " + type + " key store: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw failure(TlsException.Reason.UNSUPPORTED_ENCRYPTION,
                    file + ": this JRE cannot decrypt the " + type + " key store: "
                            + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw failure(TlsException.Reason.INVALID_CERTIFICATE,
                    file + ": a certificate in the " + type + " key store cannot be read: "
                            + e.getMessage());
        }
    }

    private byte[] pkcs8Key(KeyStore store) {
        Key key;
        try {
            if (!store.containsAlias(alias)) {
                throw failure(TlsException.Reason.NO_PRIVATE_KEY, name()
                        + ": no such entry (the key store holds "
                        + Collections.list(store.aliases()) + ")");
            }
            if (!store.isKeyEntry(alias)) {
                throw failure(TlsException.Reason.NO_PRIVATE_KEY,
                        name() + ": no private key found (found a trusted certificate)");
            }
            key = store.getKey(alias, password);
        } catch (KeyStoreException e) {
            throw new IllegalArgumentException("the key store has not been loaded", e);
        } catch (UnrecoverableKeyException e) {
            throw failure(TlsException.Reason.WRONG_PASSWORD,
                    name() + ": wrong password for the private key entry");
        } catch (NoSuchAlgorithmException e) {
            throw failure(TlsException.Reason.UNSUPPORTED_ENCRYPTION,
                    name() + ": this JRE cannot decrypt the private key entry: "
                            + e.getMessage());
        }
        if (!(key instanceof PrivateKey)) {
            throw failure(TlsException.Reason.NO_PRIVATE_KEY,
                    name() + ": no private key found (found a secret key)");
        }
        byte[] encoded = key.getEncoded();
        if (encoded == null || !"PKCS#8".equals(key.getFormat())) {
            if (encoded != null) {
                Arrays.fill(encoded, (byte) 0);
            }
            throw failure(TlsException.Reason.UNSUPPORTED_KEY, name() + ": the "
                    + key.getAlgorithm() + " private key cannot be exported in PKCS#8 form "
                    + "(format " + key.getFormat() + "), as with a key held in a hardware token");
        }
        return encoded;
    }

    private byte[] pemChain(KeyStore store) {
        Certificate[] chain;
        try {
            chain = store.getCertificateChain(alias);
        } catch (KeyStoreException e) {
            throw new IllegalArgumentException("the key store has not been loaded", e);
        }
        if (chain == null || chain.length == 0) {
            throw failure(TlsException.Reason.NO_CERTIFICATE,
                    name() + ": no certificate found (the entry has no certificate chain)");
        }
        Base64.Encoder base64 = Base64.getMimeEncoder(64, LINE_SEPARATOR);
        StringBuilder pem = new StringBuilder();
        for (Certificate certificate : chain) {
            try {
                pem.append("-----BEGIN CERTIFICATE-----\n")
                        .append(base64.encodeToString(certificate.getEncoded()))
                        .append("\n-----END CERTIFICATE-----\n");
            } catch (CertificateEncodingException e) {
                throw failure(TlsException.Reason.INVALID_CERTIFICATE,
                        name() + ": invalid certificate: " + e.getMessage());
            }
        }
        return pem.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static TlsException failure(TlsException.Reason reason, String message) {
        return TlsException.fromNative(reason.code(), message);
    }
}

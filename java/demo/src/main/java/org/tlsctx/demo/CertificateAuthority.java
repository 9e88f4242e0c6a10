package org.tlsctx.demo;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;

import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The demo's own certificate authority: a self-signed ECDSA P-256 root that issues server
 * certificates for the broker on loopback.
 *
 * <p>Every certificate it issues carries a serial number it has never used before, so a client
 * can tell from the served leaf alone which rotation it was handed. The issued identity is written
 * the way an operator's tooling would write it: the certificate chain (leaf, then this CA) and an
 * unencrypted PKCS#8 private key, both PEM.
 */
final class CertificateAuthority {
    private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
    private static final Duration VALIDITY = Duration.ofDays(90);

    private final SecureRandom random = new SecureRandom();
    private final Set<BigInteger> usedSerials = ConcurrentHashMap.newKeySet();
    private final KeyPair caKeyPair;
    private final X509Certificate caCertificate;

    private CertificateAuthority(KeyPair caKeyPair, X509Certificate caCertificate) {
        this.caKeyPair = caKeyPair;
        this.caCertificate = caCertificate;
    }

    /** Creates a new root with a fresh key pair; nothing is written to disk. */
    static CertificateAuthority create(String commonName) throws GeneralSecurityException {
        KeyPair keyPair = newKeyPair();
        X500Principal subject = new X500Principal("CN=" + commonName + ", O=tlsctx demo");
        Instant now = Instant.now();

        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder =
                    new JcaX509v3CertificateBuilder(
                                    subject,
                                    BigInteger.ONE,
                                    Date.from(now.minus(Duration.ofMinutes(5))),
                                    Date.from(now.plus(VALIDITY)),
                                    subject,
                                    keyPair.getPublic())
                            .addExtension(
                                    Extension.basicConstraints, true, new BasicConstraints(0))
                            .addExtension(
                                    Extension.keyUsage,
                                    true,
                                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                            .addExtension(
                                    Extension.subjectKeyIdentifier,
                                    false,
                                    extensions.createSubjectKeyIdentifier(keyPair.getPublic()));
            X509Certificate certificate = sign(builder, keyPair.getPrivate());
            CertificateAuthority authority = new CertificateAuthority(keyPair, certificate);
            authority.usedSerials.add(BigInteger.ONE);
            return authority;
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot encode the CA extensions", e);
        }
    }

    /** The root certificate clients trust. */
    X509Certificate certificate() {
        return caCertificate;
    }

    /**
     * Issues a server certificate for {@code localhost} and {@code 127.0.0.1} over a fresh key
     * pair, with a serial number this authority has not used before.
     */
    ServerIdentity issueServerIdentity() throws GeneralSecurityException {
        KeyPair keyPair = newKeyPair();
        BigInteger serial = newSerial();
        Instant now = Instant.now();

        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            GeneralNames subjectAltNames =
                    new GeneralNames(
                            new GeneralName[] {
                                new GeneralName(GeneralName.dNSName, "localhost"),
                                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                            });
            X509v3CertificateBuilder builder =
                    new JcaX509v3CertificateBuilder(
                                    caCertificate,
                                    serial,
                                    Date.from(now.minus(Duration.ofMinutes(5))),
                                    Date.from(now.plus(VALIDITY)),
                                    new X500Principal("CN=localhost, O=tlsctx demo"),
                                    keyPair.getPublic())
                            .addExtension(
                                    Extension.basicConstraints, true, new BasicConstraints(false))
                            .addExtension(
                                    Extension.keyUsage,
                                    true,
                                    new KeyUsage(KeyUsage.digitalSignature))
                            .addExtension(
                                    Extension.extendedKeyUsage,
                                    false,
                                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                            .addExtension(Extension.subjectAlternativeName, false, subjectAltNames)
                            .addExtension(
                                    Extension.subjectKeyIdentifier,
                                    false,
                                    extensions.createSubjectKeyIdentifier(keyPair.getPublic()))
                            .addExtension(
                                    Extension.authorityKeyIdentifier,
                                    false,
                                    extensions.createAuthorityKeyIdentifier(caCertificate));
            return new ServerIdentity(sign(builder, caKeyPair.getPrivate()), keyPair.getPrivate());
        } catch (IOException e) {
            throw new GeneralSecurityException(
                    "cannot encode the server certificate extensions", e);
        }
    }

    /**
     * Returns a private key that belongs to no certificate this authority issued: written next to
     * a certificate, it makes the pair a key mismatch that a reload must refuse.
     */
    PrivateKey unrelatedPrivateKey() throws GeneralSecurityException {
        return newKeyPair().getPrivate();
    }

    /**
     * Writes {@code leaf} followed by this CA as a PEM certificate chain, and {@code privateKey}
     * as a PEM PKCS#8 key.
     *
     * <p>Each file is written beside its destination and then renamed over it, so a reader never
     * sees half a file. The two renames are separate, so a reader between them sees the new chain
     * with the old key; the demo reloads only after both are in place.
     */
    void writeIdentity(
            X509Certificate leaf,
            PrivateKey privateKey,
            Path certificateChain,
            Path privateKeyFile) {
        writeAtomically(certificateChain, pem(leaf, caCertificate));
        writeAtomically(privateKeyFile, pkcs8Pem(privateKey));
    }

    /** Writes the CA certificate alone as PEM, for clients outside this process. */
    void writeCertificate(Path file) {
        writeAtomically(file, pem(caCertificate));
    }

    /** Trust managers for TLS clients that trust this authority and nothing else. */
    TrustManager[] clientTrustManagers() throws GeneralSecurityException {
        KeyStore trustStore = KeyStore.getInstance("PKCS12");
        try {
            trustStore.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot create an empty trust store", e);
        }
        trustStore.setCertificateEntry("tlsctx-demo-ca", caCertificate);
        TrustManagerFactory trustManagers =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trustStore);
        return trustManagers.getTrustManagers();
    }

    private BigInteger newSerial() {
        // 63 random bits keep the serial positive and short enough to read in the demo's output.
        while (true) {
            BigInteger serial = new BigInteger(63, random);
            if (serial.bitLength() > 32 && usedSerials.add(serial)) {
                return serial;
            }
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey)
            throws GeneralSecurityException {
        try {
            ContentSigner signer =
                    new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(signingKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(
                    "cannot create a " + SIGNATURE_ALGORITHM + " signer", e);
        }
    }

    private static String pem(X509Certificate... certificates) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (X509Certificate certificate : certificates) {
                writer.writeObject(certificate);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a certificate as PEM", e);
        }
        return text.toString();
    }

    private static String pkcs8Pem(PrivateKey privateKey) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            // Without an encryptor the generator emits "PRIVATE KEY", the unencrypted PKCS#8 form.
            writer.writeObject(new JcaPKCS8Generator(privateKey, null));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a private key as PKCS#8 PEM", e);
        }
        return text.toString();
    }

    private static void writeAtomically(Path destination, String content) {
        Path staging = destination.resolveSibling(destination.getFileName() + ".tmp");
        try {
            Files.writeString(staging, content, StandardCharsets.US_ASCII);
            Files.move(
                    staging,
                    destination,
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + destination, e);
        }
    }

    /** A server certificate and the private key that belongs to it. */
    record ServerIdentity(X509Certificate certificate, PrivateKey privateKey) {
        /** The serial number as lowercase hex without leading zeros, as clients print it. */
        String serialHex() {
            return certificate.getSerialNumber().toString(16);
        }
    }
}

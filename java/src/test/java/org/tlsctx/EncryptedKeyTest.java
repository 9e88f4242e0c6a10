package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tlsctx.TlsException.Reason;

/**
 * Encrypted private keys through {@link TlsConfig#keyPassword(String)}: traditional OpenSSL PEM
 * encryption (B08, and B03 with Bag Attributes), PKCS#8 PBES2 (B09), and a password given for
 * a plain key or none for an encrypted one (B11). Every scheme OpenSSL writes is decrypted; a
 * wrong password and a missing one are distinct reasons.
 */
class EncryptedKeyTest {
    private static final Path B03 = TestMaterial.caseDir("B03");
    private static final Path B08 = TestMaterial.caseDir("B08");
    private static final Path B09 = TestMaterial.caseDir("B09");
    private static final Path B11 = TestMaterial.caseDir("B11");

    /** Case folder, encrypted key, and the certificate it belongs to. */
    static Stream<Arguments> encryptedKeys() {
        return Stream.of(
                Arguments.of("B08", "server-rsa-trad-aes256.key", "server-rsa.crt"),
                Arguments.of("B08", "server-rsa-trad-des3.key", "server-rsa.crt"),
                Arguments.of("B08", "server-ec-trad-aes128.key", "server-ec.crt"),
                Arguments.of("B09", "server-rsa-pbes2-aes256-sha256.key", "server-rsa.crt"),
                Arguments.of("B09", "server-rsa-pbes2-aes128-sha1.key", "server-rsa.crt"),
                Arguments.of("B09", "server-rsa-pbes2-des3.key", "server-rsa.crt"),
                Arguments.of("B09", "server-rsa-pbes2-scrypt.key", "server-rsa.crt"),
                Arguments.of("B09", "server-ec-pbes2-aes256.key", "server-ec.crt"),
                Arguments.of("B11", "server-encrypted.key", "server.crt"),
                Arguments.of("B03", "key-bagattrs-trad-des3.pem", "server.crt"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("encryptedKeys")
    void encryptedKeyLoadsWithItsPassword(String caseName, String key, String certificate)
            throws Exception {
        Path dir = TestMaterial.caseDir(caseName);
        try (TlsContext context = TlsConfig.server()
                .certificateChain(dir.resolve(certificate))
                .privateKey(dir.resolve(key))
                .keyPassword(password(dir))
                .load()) {
            assertEquals(TestMaterial.fingerprint(dir.resolve(certificate)),
                    context.fingerprint());
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("encryptedKeys")
    void wrongPasswordIsAWrongPassword(String caseName, String key, String certificate) {
        Path dir = TestMaterial.caseDir(caseName);
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .certificateChain(dir.resolve(certificate))
                        .privateKey(dir.resolve(key))
                        .keyPassword("not-the-password")
                        .load());
        assertEquals(Reason.WRONG_PASSWORD, error.reason());
        assertEquals(dir.resolve(key) + ": wrong password for the encrypted private key",
                error.getMessage());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("encryptedKeys")
    void missingPasswordSaysTheKeyIsEncrypted(String caseName, String key, String certificate) {
        Path dir = TestMaterial.caseDir(caseName);
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .certificateChain(dir.resolve(certificate))
                        .privateKey(dir.resolve(key))
                        .load());
        assertEquals(Reason.KEY_ENCRYPTED, error.reason());
        assertEquals(dir.resolve(key) + ": private key is encrypted and no password was given",
                error.getMessage());
    }

    @Test
    void b08ReloadKeepsThePasswordOfTheFirstLoad(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Files.copy(B08.resolve("server-rsa.crt"), chain);
        Files.copy(B08.resolve("server-rsa-trad-aes256.key"), key);
        try (ReloadingTlsContext server = TlsConfig.server()
                .certificateChain(chain)
                .privateKey(key)
                .keyPassword(password(B08))
                .pollInterval(Duration.ZERO)
                .reloading()) {
            // The same key encrypted differently: the reload must decrypt it again.
            Files.copy(B08.resolve("server-rsa-trad-des3.key"), key,
                    StandardCopyOption.REPLACE_EXISTING);
            assertEquals(ReloadResult.SWAPPED, server.reload());
            assertNull(server.lastError());
            assertEquals(2, server.generation());
        }
    }

    @Test
    void b11PasswordForAPlainKeyIsIgnored() throws Exception {
        try (TlsContext context = TlsConfig.server()
                .certificateChain(B11.resolve("server.crt"))
                .privateKey(B11.resolve("server-plain.key"))
                .keyPassword(password(B11))
                .load()) {
            assertEquals(TestMaterial.fingerprint(B11.resolve("server.crt")),
                    context.fingerprint());
        }
    }

    @Test
    void b11EmptyPasswordForAnEncryptedKeyIsMissingOrWrongNeverNoKey() {
        Path key = B11.resolve("server-encrypted.key");
        PrivateKeyException error = assertThrows(PrivateKeyException.class,
                () -> TlsConfig.server()
                        .certificateChain(B11.resolve("server.crt"))
                        .privateKey(key)
                        .keyPassword("")
                        .load());
        // B11 step 3 allows either answer; both say what to fix.
        assertTrue(Set.of(Reason.KEY_ENCRYPTED, Reason.WRONG_PASSWORD).contains(error.reason()),
                error.reason() + ": " + error.getMessage());
        assertTrue(error.getMessage().startsWith(key + ": "), error.getMessage());
    }

    private static String password(Path caseDir) throws Exception {
        return Files.readString(caseDir.resolve("password.txt"));
    }
}

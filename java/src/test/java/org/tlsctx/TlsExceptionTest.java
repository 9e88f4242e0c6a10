package org.tlsctx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tlsctx.TlsException.Reason;

/** The exception class and reason {@link TlsException#fromNative} picks for each native code. */
class TlsExceptionTest {
    /** Every code of {@code tls_result} in include/tlsctx.h, with its reason. */
    private static final Map<Integer, Reason> CODES = Map.ofEntries(
            Map.entry(100, Reason.NULL_ARGUMENT),
            Map.entry(101, Reason.INVALID_ARGUMENT),
            Map.entry(102, Reason.INVALID_HANDLE),
            Map.entry(103, Reason.WRONG_ROLE),
            Map.entry(104, Reason.PANIC),
            Map.entry(105, Reason.INVALID_STATE),
            Map.entry(106, Reason.BUFFER_TOO_SMALL),
            Map.entry(200, Reason.FILE_NOT_FOUND),
            Map.entry(201, Reason.FILE_UNREADABLE),
            Map.entry(202, Reason.FILE_EMPTY),
            Map.entry(203, Reason.MALFORMED_PEM),
            Map.entry(204, Reason.NO_CERTIFICATE),
            Map.entry(205, Reason.NO_PRIVATE_KEY),
            Map.entry(206, Reason.MULTIPLE_PRIVATE_KEYS),
            Map.entry(207, Reason.KEY_ENCRYPTED),
            Map.entry(208, Reason.WRONG_PASSWORD),
            Map.entry(209, Reason.UNSUPPORTED_ENCRYPTION),
            Map.entry(210, Reason.UNSUPPORTED_KEY),
            Map.entry(211, Reason.KEY_MISMATCH),
            Map.entry(212, Reason.INVALID_CERTIFICATE),
            Map.entry(213, Reason.INVALID_CONFIG),
            Map.entry(214, Reason.CERTIFICATE_EXPIRED),
            Map.entry(215, Reason.CERTIFICATE_NOT_YET_VALID),
            Map.entry(300, Reason.TLS_PROTOCOL));

    @Test
    void everyNativeCodeHasItsReasonAndEveryReasonItsCode() {
        for (Map.Entry<Integer, Reason> entry : CODES.entrySet()) {
            assertSame(entry.getValue(), Reason.of(entry.getKey()));
            assertEquals((int) entry.getKey(), entry.getValue().code());
        }
        assertEquals(CODES.size() + 1, Reason.values().length);
    }

    @Test
    void nativeCodesMapToTheExceptionOfTheirCategory() {
        for (Map.Entry<Integer, Reason> entry : CODES.entrySet()) {
            int code = entry.getKey();
            TlsException exception = TlsException.fromNative(code, "path: problem " + code);
            assertEquals(expectedClass(code), exception.getClass(), entry.getValue().name());
            assertEquals(code, exception.code());
            assertSame(entry.getValue(), exception.reason());
            assertEquals("path: problem " + code, exception.getMessage());
        }
    }

    @Test
    void unknownCodesAreTheBaseClassWithReasonUnknown() {
        for (int code : new int[] {216, 299, 107, 301, 0, -1}) {
            TlsException exception = TlsException.fromNative(code, "a newer failure");
            assertEquals(TlsException.class, exception.getClass());
            assertSame(Reason.UNKNOWN, exception.reason());
            assertEquals(code, exception.code());
        }
        assertEquals(-1, Reason.UNKNOWN.code());
    }

    private static Class<?> expectedClass(int code) {
        if ((code >= 200 && code <= 204) || code == 212) {
            return CertificateFileException.class;
        }
        if (code >= 205 && code <= 211) {
            return PrivateKeyException.class;
        }
        if (code == 214 || code == 215) {
            return CertificateValidityException.class;
        }
        if (code == 101 || code == 103 || code == 213) {
            return TlsConfigException.class;
        }
        return TlsException.class;
    }
}

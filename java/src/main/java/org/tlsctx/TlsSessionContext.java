package org.tlsctx;

import java.util.Collections;
import java.util.Enumeration;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;

/**
 * The session context of a {@link TlsSslContext}: it holds no sessions.
 *
 * <p>Session resumption is done inside rustls (session tickets and a session cache shared by
 * the generations of a reloading context), so no resumable session is visible from Java:
 * {@link #getSession(byte[])} always returns null and {@link #getIds()} is empty. The timeout
 * and cache size are recorded so that code which sets them keeps working, but they do not change
 * what rustls does.
 */
final class TlsSessionContext implements SSLSessionContext {
    private volatile int sessionTimeout = 86_400;
    private volatile int sessionCacheSize;

    @Override
    public SSLSession getSession(byte[] sessionId) {
        if (sessionId == null) {
            throw new NullPointerException("sessionId");
        }
        return null;
    }

    @Override
    public Enumeration<byte[]> getIds() {
        return Collections.emptyEnumeration();
    }

    @Override
    public void setSessionTimeout(int seconds) {
        if (seconds < 0) {
            throw new IllegalArgumentException("session timeout must not be negative");
        }
        sessionTimeout = seconds;
    }

    @Override
    public int getSessionTimeout() {
        return sessionTimeout;
    }

    @Override
    public void setSessionCacheSize(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("session cache size must not be negative");
        }
        sessionCacheSize = size;
    }

    @Override
    public int getSessionCacheSize() {
        return sessionCacheSize;
    }
}

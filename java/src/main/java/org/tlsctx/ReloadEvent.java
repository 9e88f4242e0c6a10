package org.tlsctx;

import java.time.Instant;

/** What one reload attempt did, as a {@link ReloadListener} is told. */
public final class ReloadEvent {
    /** The outcome of a reload attempt. */
    public enum Attempt {
        /** A new generation was built and now serves new connections. */
        SWAPPED,
        /** The files were unchanged; nothing was built. */
        UNCHANGED,
        /** The files could not be loaded; the current generation keeps serving. */
        FAILED
    }

    private final Attempt attempt;
    private final long generation;
    private final String serialNumber;
    private final String fingerprint;
    private final Instant notAfter;
    private final String error;

    ReloadEvent(Attempt attempt, long generation, String serialNumber, String fingerprint,
            Instant notAfter, String error) {
        this.attempt = attempt;
        this.generation = generation;
        this.serialNumber = serialNumber;
        this.fingerprint = fingerprint;
        this.notAfter = notAfter;
        this.error = error;
    }

    /**
     * What the attempt did.
     *
     * @return swapped, unchanged or failed
     */
    public Attempt attempt() {
        return attempt;
    }

    /**
     * The generation serving after the attempt: the new one when it swapped.
     *
     * @return the generation number
     */
    public long generation() {
        return generation;
    }

    /**
     * The serving leaf's serial number, lowercase hex.
     *
     * @return the serial, or null without a certificate
     */
    public String serialNumber() {
        return serialNumber;
    }

    /**
     * The serving leaf's SHA-256 fingerprint, lowercase hex.
     *
     * @return the fingerprint, or null without a certificate
     */
    public String fingerprint() {
        return fingerprint;
    }

    /**
     * When the serving leaf expires.
     *
     * @return its notAfter, or null without a certificate
     */
    public Instant notAfter() {
        return notAfter;
    }

    /**
     * Why the attempt failed, naming the file and the problem.
     *
     * @return the message for {@link Attempt#FAILED}, null otherwise
     */
    public String error() {
        return error;
    }

    @Override
    public String toString() {
        return "ReloadEvent{" + attempt + ", generation=" + generation + ", serial="
                + serialNumber + (error == null ? "" : ", error=" + error) + '}';
    }
}

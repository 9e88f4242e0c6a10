/*
 * A line echo server over TLS that rotates its certificate on SIGHUP, using only the tlsctx
 * C ABI (include/tlsctx.h) and plain POSIX sockets.
 *
 * Usage: tls_server [-t TRUST_BUNDLE] [-m none|optional|require] [-a PROTOCOL[,PROTOCOL...]]
 *                   [-n SERVER_NAME:CERT_CHAIN:PRIVATE_KEY]... CERT_CHAIN PRIVATE_KEY PORT
 *
 * It listens on 127.0.0.1:PORT (0 picks a free port) and prints `listening on PORT`. Each line a
 * client sends comes back unchanged. Up to MAX_CLIENTS connections are served at once from one
 * thread with poll(2). Each -n serves another certificate chain and key to clients that ask for
 * SERVER_NAME by SNI (the paths must not hold a colon); the others get CERT_CHAIN. Each finished
 * handshake prints one line
 *     handshake: generation N, TLS 1.3, ALPN h2, client certificate yes|no
 *
 * SIGHUP reloads the certificate chain and private key from the same paths: new connections get
 * the new generation, open ones keep theirs. A reload that fails keeps the old generation
 * serving. Each reload prints one of
 *     reload: swapped generation N
 *     reload: unchanged
 *     reload failed: <message naming the file and the problem>
 * followed by `live generations: N`. SIGTERM or SIGINT closes every connection with a
 * close_notify, frees everything and exits 0.
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsctx.h"

#define MAX_CLIENTS 8
#define MAX_ALPN_PROTOCOLS 8
#define MAX_NAMED_IDENTITIES 4

/* The largest TLS record on the wire: header, 16 KiB of plaintext and up to 2 KiB of expansion. */
#define TLS_RECORD_MAX (5 + 16384 + 2048)

/* A line longer than this is echoed in pieces of this size. */
#define LINE_MAX_BYTES 16384

/* A certificate chain and key served to clients that ask for `server_name`; the three strings
 * point into `storage`. */
struct named_identity {
    char *storage;
    const char *server_name;
    const char *cert_chain_path;
    const char *private_key_path;
};

/* Options from the command line. */
struct options {
    const char *cert_chain_path;
    const char *private_key_path;
    const char *trust_bundle_path;
    uint32_t client_auth;
    const char *alpn_protocols[MAX_ALPN_PROTOCOLS];
    size_t alpn_count;
    char *alpn_storage;
    struct named_identity named[MAX_NAMED_IDENTITIES];
    size_t named_count;
    uint16_t port;
};

/* One accepted TCP connection and its TLS state. */
struct client {
    int fd;
    tls_conn *conn;
    bool handshake_reported;

    /* Bytes read from the socket that the TLS connection has not taken yet. */
    uint8_t tls_in[2 * TLS_RECORD_MAX];
    size_t tls_in_len;

    /* TLS bytes taken from the connection and not yet accepted by the socket. */
    uint8_t tls_out[TLS_RECORD_MAX];
    size_t tls_out_len;
    size_t tls_out_sent;

    /* Plaintext received and not yet echoed; the first `echo_len` bytes end with a newline and
     * wait for the connection to take them. */
    uint8_t line[LINE_MAX_BYTES];
    size_t line_len;
    size_t echo_len;

    /* Set once the connection is ending: the pending bytes are flushed, then it is closed. */
    bool closing;

    /* Set after a TLS error: only the alert that may be pending still goes out. */
    bool failed;
};

static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t shutdown_requested;

/* Written to by the signal handler so that poll() wakes up for a signal that arrives between the
 * flag checks and the call. */
static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo)
{
    int saved_errno = errno;
    char byte = (char)signo;

    if (signo == SIGHUP)
        reload_requested = 1;
    else
        shutdown_requested = 1;
    if (write(signal_pipe[1], &byte, 1) < 0) {
        /* The pipe is full: a wake-up is already pending. */
    }
    errno = saved_errno;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int install_signal_handlers(void)
{
    struct sigaction action;
    const int handled[] = {SIGHUP, SIGTERM, SIGINT};

    if (pipe(signal_pipe) != 0 || set_nonblocking(signal_pipe[0]) != 0 ||
        set_nonblocking(signal_pipe[1]) != 0)
        return -1;

    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
        if (sigaction(handled[i], &action, NULL) != 0)
            return -1;
    }

    /* A peer that disconnects while we send must cost an EPIPE, not the process. */
    action.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &action, NULL);
}

static void usage(const char *program)
{
    fprintf(stderr,
            "usage: %s [-t TRUST_BUNDLE] [-m none|optional|require] [-a PROTOCOL[,PROTOCOL...]]\n"
            "       %*s [-n SERVER_NAME:CERT_CHAIN:PRIVATE_KEY]... CERT_CHAIN PRIVATE_KEY PORT\n",
            program, (int)strlen(program), "");
}

static bool parse_client_auth(const char *text, uint32_t *mode_out)
{
    if (strcmp(text, "none") == 0)
        *mode_out = TLS_CLIENT_AUTH_NONE;
    else if (strcmp(text, "optional") == 0)
        *mode_out = TLS_CLIENT_AUTH_OPTIONAL;
    else if (strcmp(text, "require") == 0)
        *mode_out = TLS_CLIENT_AUTH_REQUIRE;
    else
        return false;
    return true;
}

/* Splits a comma-separated ALPN list into `options`; the strings live in `alpn_storage`. */
static bool parse_alpn(const char *text, struct options *options)
{
    char *cursor;

    options->alpn_storage = strdup(text);
    if (options->alpn_storage == NULL)
        return false;
    cursor = options->alpn_storage;
    while (cursor != NULL) {
        char *comma = strchr(cursor, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*cursor == '\0' || options->alpn_count == MAX_ALPN_PROTOCOLS)
            return false;
        options->alpn_protocols[options->alpn_count++] = cursor;
        cursor = comma != NULL ? comma + 1 : NULL;
    }
    return true;
}

/* Splits SERVER_NAME:CERT_CHAIN:PRIVATE_KEY into the next named identity of `options`. */
static bool parse_named_identity(const char *text, struct options *options)
{
    struct named_identity *identity;
    char *first_colon;
    char *second_colon;

    if (options->named_count == MAX_NAMED_IDENTITIES)
        return false;
    identity = &options->named[options->named_count];
    identity->storage = strdup(text);
    if (identity->storage == NULL)
        return false;
    options->named_count++;
    first_colon = strchr(identity->storage, ':');
    second_colon = first_colon != NULL ? strchr(first_colon + 1, ':') : NULL;
    if (second_colon == NULL || first_colon == identity->storage ||
        second_colon == first_colon + 1 || second_colon[1] == '\0' ||
        strchr(second_colon + 1, ':') != NULL)
        return false;
    *first_colon = '\0';
    *second_colon = '\0';
    identity->server_name = identity->storage;
    identity->cert_chain_path = first_colon + 1;
    identity->private_key_path = second_colon + 1;
    return true;
}

static void options_free(struct options *options)
{
    free(options->alpn_storage);
    options->alpn_storage = NULL;
    for (size_t i = 0; i < options->named_count; i++) {
        free(options->named[i].storage);
        options->named[i].storage = NULL;
    }
    options->named_count = 0;
}

static bool parse_options(int argc, char **argv, struct options *options)
{
    int opt;
    char *end = NULL;
    long port;

    memset(options, 0, sizeof(*options));
    options->client_auth = TLS_CLIENT_AUTH_NONE;
    while ((opt = getopt(argc, argv, "t:m:a:n:")) != -1) {
        switch (opt) {
        case 't':
            options->trust_bundle_path = optarg;
            break;
        case 'm':
            if (!parse_client_auth(optarg, &options->client_auth)) {
                fprintf(stderr, "unknown client-auth mode: %s\n", optarg);
                return false;
            }
            break;
        case 'a':
            if (options->alpn_storage != NULL || !parse_alpn(optarg, options)) {
                fprintf(stderr, "invalid ALPN list: %s\n", optarg);
                return false;
            }
            break;
        case 'n':
            if (!parse_named_identity(optarg, options)) {
                fprintf(stderr, "invalid -n SERVER_NAME:CERT_CHAIN:PRIVATE_KEY: %s\n", optarg);
                return false;
            }
            break;
        default:
            return false;
        }
    }
    if (argc - optind != 3)
        return false;
    options->cert_chain_path = argv[optind];
    options->private_key_path = argv[optind + 1];
    port = strtol(argv[optind + 2], &end, 10);
    if (*argv[optind + 2] == '\0' || *end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr, "invalid port: %s\n", argv[optind + 2]);
        return false;
    }
    options->port = (uint16_t)port;
    return true;
}

/* Builds the reloading context; on failure prints the library's message and returns 0. */
static uint64_t open_reloader(const struct options *options)
{
    tls_config *config = NULL;
    uint64_t reloader = 0;
    tls_result result = tls_config_new(TLS_ROLE_SERVER, &config);

    if (result == TLS_RESULT_OK)
        result = tls_config_set_cert_chain(config, options->cert_chain_path);
    if (result == TLS_RESULT_OK)
        result = tls_config_set_private_key(config, options->private_key_path);
    if (result == TLS_RESULT_OK && options->trust_bundle_path != NULL)
        result = tls_config_set_trust_bundle(config, options->trust_bundle_path);
    if (result == TLS_RESULT_OK)
        result = tls_config_set_client_auth(config, options->client_auth);
    if (result == TLS_RESULT_OK && options->alpn_count > 0)
        result = tls_config_set_alpn(config, options->alpn_protocols, options->alpn_count);
    for (size_t i = 0; result == TLS_RESULT_OK && i < options->named_count; i++) {
        const struct named_identity *identity = &options->named[i];

        result = tls_config_add_identity_for_name(config, identity->server_name,
                                                  identity->cert_chain_path,
                                                  identity->private_key_path);
    }
    if (result == TLS_RESULT_OK)
        result = tls_reloader_new(config, 0, &reloader);
    tls_config_free(config);
    if (result != TLS_RESULT_OK) {
        fprintf(stderr, "cannot load the TLS context: %s (%s)\n", tls_last_error(),
                tls_result_name(result));
        return 0;
    }
    return reloader;
}

/* Prints the generation now serving and its leaf. */
static void print_current_generation(uint64_t reloader)
{
    uint64_t handle = 0;
    tls_ctx_info info;

    if (tls_reloader_current(reloader, &handle) != TLS_RESULT_OK)
        return;
    if (tls_ctx_info_get(handle, &info) == TLS_RESULT_OK) {
        printf("serving generation %llu sha256 %s serial %s not_after %lld\n",
               (unsigned long long)info.generation, info.fingerprint, info.serial,
               (long long)info.not_after);
    }
    tls_ctx_release(handle);
}

static void print_live_generations(uint64_t reloader)
{
    uint64_t live = 0;

    if (tls_reloader_live_generations(reloader, &live) == TLS_RESULT_OK)
        printf("live generations: %llu\n", (unsigned long long)live);
}

static void reload(uint64_t reloader)
{
    tls_reload_outcome outcome;
    tls_result result = tls_reloader_reload(reloader, &outcome);

    if (result != TLS_RESULT_OK) {
        printf("reload failed: %s\n", tls_last_error());
    } else if (outcome == TLS_RELOAD_OUTCOME_SWAPPED) {
        uint64_t handle = 0;
        tls_ctx_info info;

        info.generation = 0;
        if (tls_reloader_current(reloader, &handle) == TLS_RESULT_OK) {
            tls_ctx_info_get(handle, &info);
            tls_ctx_release(handle);
        }
        printf("reload: swapped generation %llu\n", (unsigned long long)info.generation);
        print_current_generation(reloader);
    } else {
        printf("reload: unchanged\n");
    }
    print_live_generations(reloader);
    fflush(stdout);
}

static int open_listener(uint16_t port, uint16_t *bound_port_out)
{
    struct sockaddr_in address;
    socklen_t address_len = sizeof(address);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(fd, 16) != 0 ||
        set_nonblocking(fd) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &address_len) != 0) {
        close(fd);
        return -1;
    }
    *bound_port_out = ntohs(address.sin_port);
    return fd;
}

static void client_free(struct client *client)
{
    close(client->fd);
    tls_conn_free(client->conn);
    free(client);
}

/* Starts a connection on the generation serving right now. The handle from
 * tls_reloader_current is released at once: the connection holds its own reference, so the
 * generation stays alive exactly as long as this connection needs it. */
static struct client *client_accept(int listener, uint64_t reloader)
{
    uint64_t handle = 0;
    struct client *client;
    int fd = accept(listener, NULL, NULL);

    if (fd < 0)
        return NULL;
    client = calloc(1, sizeof(*client));
    if (client == NULL || set_nonblocking(fd) != 0) {
        free(client);
        close(fd);
        return NULL;
    }
    client->fd = fd;
    if (tls_reloader_current(reloader, &handle) != TLS_RESULT_OK ||
        tls_conn_new_server(handle, &client->conn) != TLS_RESULT_OK) {
        fprintf(stderr, "cannot start a connection: %s\n", tls_last_error());
        if (handle != 0)
            tls_ctx_release(handle);
        client_free(client);
        return NULL;
    }
    tls_ctx_release(handle);
    return client;
}

static bool client_has_output(const struct client *client)
{
    return client->tls_out_sent < client->tls_out_len || tls_conn_wants_write(client->conn);
}

/* Sends what the connection has to send until the socket would block. False when the socket
 * failed and the client must go. */
static bool client_flush(struct client *client)
{
    for (;;) {
        ssize_t sent;

        if (client->tls_out_sent == client->tls_out_len) {
            size_t len = 0;

            client->tls_out_len = 0;
            client->tls_out_sent = 0;
            if (!tls_conn_wants_write(client->conn))
                return true;
            if (tls_conn_write_tls(client->conn, client->tls_out, sizeof(client->tls_out),
                                   &len) != TLS_RESULT_OK || len == 0)
                return true;
            client->tls_out_len = len;
        }
        sent = send(client->fd, client->tls_out + client->tls_out_sent,
                    client->tls_out_len - client->tls_out_sent, 0);
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return true;
        if (sent <= 0)
            return false;
        client->tls_out_sent += (size_t)sent;
    }
}

/* How many bytes at the start of `bytes` the connection may be offered: one whole TLS record,
 * or 0 while that record has not fully arrived.
 *
 * The connection would take more in one call, up to 16 KiB of unread plaintext; offering one
 * record at a time makes each line's plaintext be read and echoed before the next record is
 * taken, so a client sending faster than it reads is held back by TCP, not by our buffers. A
 * length no record can have is offered as it is, for the connection to reject. */
static size_t next_record_len(const uint8_t *bytes, size_t len)
{
    size_t record_len;

    if (len < 5)
        return 0;
    record_len = 5 + (((size_t)bytes[3] << 8) | bytes[4]);
    if (record_len > TLS_RECORD_MAX)
        return len;
    return len >= record_len ? record_len : 0;
}

static void report_handshake(struct client *client)
{
    uint16_t version = 0;
    uint64_t generation = 0;
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    const uint8_t *client_der = NULL;
    size_t client_der_len = 0;
    bool client_certificate;

    client->handshake_reported = true;
    tls_conn_protocol_version(client->conn, &version);
    tls_conn_generation(client->conn, &generation);
    tls_conn_alpn(client->conn, &alpn, &alpn_len);
    client_certificate =
        tls_conn_peer_certificate(client->conn, 0, &client_der, &client_der_len) == TLS_RESULT_OK;
    printf("handshake: generation %llu, TLS %s, ALPN %.*s, client certificate %s\n",
           (unsigned long long)generation,
           version == 0x0304 ? "1.3" : version == 0x0303 ? "1.2" : "?",
           alpn_len > 0 ? (int)alpn_len : 4, alpn_len > 0 ? (const char *)alpn : "none",
           client_certificate ? "yes" : "no");
    fflush(stdout);
}

/* Marks the bytes up to the last newline as ready to echo; a full buffer without a newline is
 * echoed as it is, and so is a last unterminated line once the peer has closed. */
static void client_mark_lines(struct client *client)
{
    for (size_t i = client->line_len; i > client->echo_len; i--) {
        if (client->line[i - 1] == '\n') {
            client->echo_len = i;
            return;
        }
    }
    if (client->line_len == sizeof(client->line) || tls_conn_peer_closed(client->conn))
        client->echo_len = client->line_len;
}

static void client_fail(struct client *client, const char *stage)
{
    fprintf(stderr, "connection failed while %s: %s\n", stage, tls_last_error());
    client->failed = true;
    client->closing = true;
}

/* Does one step of work that needs no socket: echo ready lines, take received plaintext, or run
 * the next buffered record through the connection. False when there was nothing to do.
 *
 * Plaintext is taken out before each record goes in and echoing waits while the connection's
 * outgoing queue is full, so neither of its buffers grows past one record. */
static bool client_step(struct client *client)
{
    size_t room = sizeof(client->line) - client->line_len;
    size_t record_len;
    size_t consumed = 0;

    if (client->failed)
        return false;

    if (client->echo_len > 0) {
        size_t written = 0;

        if (tls_conn_write(client->conn, client->line, client->echo_len, &written) !=
            TLS_RESULT_OK) {
            client_fail(client, "echoing");
            return false;
        }
        memmove(client->line, client->line + written, client->line_len - written);
        client->line_len -= written;
        client->echo_len -= written;
        return written > 0;
    }

    if (room > 0) {
        size_t got = 0;

        if (tls_conn_read(client->conn, client->line + client->line_len, room, &got) !=
            TLS_RESULT_OK) {
            client_fail(client, "reading");
            return false;
        }
        client->line_len += got;
        client_mark_lines(client);
        if (got > 0 || client->echo_len > 0)
            return true;
    } else {
        return false;
    }

    if (tls_conn_peer_closed(client->conn)) {
        if (!client->closing) {
            tls_conn_send_close_notify(client->conn);
            client->closing = true;
        }
        client->tls_in_len = 0;
        return false;
    }

    record_len = next_record_len(client->tls_in, client->tls_in_len);
    if (record_len == 0)
        return false;
    if (tls_conn_read_tls(client->conn, client->tls_in, record_len, &consumed) != TLS_RESULT_OK) {
        client_fail(client, "receiving");
        return false;
    }
    memmove(client->tls_in, client->tls_in + consumed, client->tls_in_len - consumed);
    client->tls_in_len -= consumed;
    if (!client->handshake_reported && !tls_conn_is_handshaking(client->conn))
        report_handshake(client);
    return consumed > 0;
}

/* Moves the connection forward until it waits for the socket. False when the client must go. */
static bool client_service(struct client *client)
{
    for (;;) {
        bool progressed = false;

        while (client_step(client))
            progressed = true;
        if (!client_flush(client))
            return false;
        if (client_has_output(client) || !progressed)
            return true;
    }
}

/* Reads what the socket has. False when the peer is gone. */
static bool client_receive(struct client *client)
{
    size_t room = sizeof(client->tls_in) - client->tls_in_len;
    ssize_t got;

    if (room == 0)
        return true;
    got = recv(client->fd, client->tls_in + client->tls_in_len, room, 0);
    if (got < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (got == 0)
        return false;
    client->tls_in_len += (size_t)got;
    return true;
}

/* Sends a close_notify as far as the socket takes it without waiting. */
static void client_close_politely(struct client *client)
{
    if (!client->closing && !tls_conn_is_handshaking(client->conn))
        tls_conn_send_close_notify(client->conn);
    client_flush(client);
}

static int serve(int listener, uint64_t reloader)
{
    struct client *clients[MAX_CLIENTS] = {NULL};
    struct pollfd fds[2 + MAX_CLIENTS];

    while (!shutdown_requested) {
        size_t client_count = 0;
        nfds_t fd_count = 2;
        int ready;

        if (reload_requested) {
            reload_requested = 0;
            reload(reloader);
        }

        for (size_t i = 0; i < MAX_CLIENTS; i++)
            client_count += clients[i] != NULL;
        fds[0].fd = client_count < MAX_CLIENTS ? listener : -1;
        fds[0].events = POLLIN;
        fds[1].fd = signal_pipe[0];
        fds[1].events = POLLIN;
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            struct client *client = clients[i];

            fds[2 + i].fd = client != NULL ? client->fd : -1;
            fds[2 + i].events = 0;
            fds[2 + i].revents = 0;
            if (client == NULL)
                continue;
            /* Reading waits while output is pending, so a peer that does not read cannot make
             * the echo queue grow without bound. */
            if (client_has_output(client))
                fds[2 + i].events |= POLLOUT;
            else if (!client->closing)
                fds[2 + i].events |= POLLIN;
        }
        fd_count = 2 + MAX_CLIENTS;

        ready = poll(fds, fd_count, -1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            perror("poll");
            break;
        }

        if (fds[1].revents & POLLIN) {
            char drained[64];
            while (read(signal_pipe[0], drained, sizeof(drained)) > 0) {
            }
        }

        if (fds[0].fd >= 0 && (fds[0].revents & POLLIN)) {
            for (size_t i = 0; i < MAX_CLIENTS; i++) {
                if (clients[i] == NULL) {
                    clients[i] = client_accept(listener, reloader);
                    break;
                }
            }
        }

        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            struct client *client = clients[i];
            bool keep = true;
            short revents = fds[2 + i].revents;

            if (client == NULL || fds[2 + i].fd != client->fd || revents == 0)
                continue;
            if (revents & (POLLIN | POLLHUP | POLLERR))
                keep = client_receive(client);
            if (keep)
                keep = client_service(client);
            if (!keep || (client->closing && !client_has_output(client))) {
                client_free(client);
                clients[i] = NULL;
            }
        }
    }

    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i] != NULL) {
            client_close_politely(clients[i]);
            client_free(clients[i]);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options options;
    uint64_t reloader;
    uint16_t port = 0;
    int listener;
    int status;

    if (!parse_options(argc, argv, &options)) {
        usage(argv[0]);
        options_free(&options);
        return 2;
    }
    if (install_signal_handlers() != 0) {
        perror("signal handlers");
        options_free(&options);
        return 1;
    }

    reloader = open_reloader(&options);
    options_free(&options);
    if (reloader == 0)
        return 1;
    listener = open_listener(options.port, &port);
    if (listener < 0) {
        perror("listen on 127.0.0.1");
        tls_reloader_free(reloader);
        return 1;
    }

    print_current_generation(reloader);
    printf("listening on %u\n", (unsigned)port);
    fflush(stdout);

    status = serve(listener, reloader);

    close(listener);
    tls_reloader_free(reloader);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    printf("shut down\n");
    fflush(stdout);
    return status;
}

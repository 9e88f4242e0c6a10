/*
 * The helpers declared in support.h, shared by abi_test.c and material_test.c.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

unsigned checks_passed;
unsigned checks_failed;
const char *cases_dir;
const char *material_dir;

bool check(bool condition, const char *file, int line, const char *format, ...)
{
    va_list args;

    if (condition) {
        checks_passed++;
        return true;
    }
    checks_failed++;
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    return false;
}

bool check_result(tls_result actual, tls_result expected, const char *file, int line,
                  const char *call)
{
    if (actual == expected)
        return check(true, file, line, "%s", call);
    return check(false, file, line, "%s returned %u (%s), expected %u (%s); last error: %s", call,
                 (unsigned)actual, tls_result_name(actual), (unsigned)expected,
                 tls_result_name(expected), tls_last_error());
}

/* Returns `<cases_dir>/<case_name>/<file_name>` in a static buffer of one of four rotating slots,
 * so that a call can take a few case paths at once. */
const char *case_path(const char *case_name, const char *file_name)
{
    static char slots[4][4096];
    static unsigned next;
    char *path = slots[next++ % 4];

    snprintf(path, sizeof(slots[0]), "%s/%s/%s", cases_dir, case_name, file_name);
    return path;
}

/* Reads a whole file into a malloc'd buffer; NULL when it cannot be read. */
uint8_t *read_file(const char *path, size_t *len_out)
{
    FILE *file = fopen(path, "rb");
    uint8_t *bytes = NULL;
    size_t capacity = 0;
    size_t len = 0;

    if (file == NULL)
        return NULL;
    for (;;) {
        if (len == capacity) {
            size_t grown = capacity == 0 ? 4096 : capacity * 2;
            uint8_t *larger = realloc(bytes, grown);
            if (larger == NULL) {
                free(bytes);
                fclose(file);
                return NULL;
            }
            bytes = larger;
            capacity = grown;
        }
        size_t got = fread(bytes + len, 1, capacity - len, file);
        len += got;
        if (got == 0)
            break;
    }
    fclose(file);
    *len_out = len;
    return bytes;
}

bool write_file(const char *path, const void *bytes, size_t len)
{
    FILE *file = fopen(path, "wb");
    bool written;

    if (file == NULL)
        return false;
    written = fwrite(bytes, 1, len, file) == len;
    return fclose(file) == 0 && written;
}

bool copy_file(const char *from, const char *to)
{
    size_t len = 0;
    uint8_t *bytes = read_file(from, &len);
    bool copied;

    if (bytes == NULL)
        return false;
    copied = write_file(to, bytes, len);
    free(bytes);
    return copied;
}

/* Takes the plaintext waiting in `side` into its inbox, so that rustls' receive buffer never
 * fills up between two feeds. */
static tls_result drain_plaintext(struct endpoint *side)
{
    for (;;) {
        size_t got = 0;
        size_t room = sizeof(side->inbox) - side->inbox_len;
        tls_result result = tls_conn_read(side->conn, side->inbox + side->inbox_len, room, &got);
        if (result != TLS_RESULT_OK)
            return result;
        side->inbox_len += got;
        if (got == 0 || side->inbox_len == sizeof(side->inbox))
            return TLS_RESULT_OK;
    }
}

/* Moves every pending TLS byte from `from` to `to`, feeding it whole; sets `*moved` when any
 * byte moved. */
tls_result transfer(struct endpoint *from, struct endpoint *to, bool *moved)
{
    static uint8_t wire[256 * 1024];

    while (tls_conn_wants_write(from->conn)) {
        size_t len = 0;
        size_t offset = 0;
        tls_result result = tls_conn_write_tls(from->conn, wire, sizeof(wire), &len);
        if (result != TLS_RESULT_OK)
            return result;
        if (len == 0)
            break;
        *moved = true;
        while (offset < len) {
            size_t consumed = 0;
            result = tls_conn_read_tls(to->conn, wire + offset, len - offset, &consumed);
            if (result != TLS_RESULT_OK)
                return result;
            result = drain_plaintext(to);
            if (result != TLS_RESULT_OK)
                return result;
            if (consumed == 0)
                break;
            offset += consumed;
        }
    }
    return TLS_RESULT_OK;
}

/* Moves bytes both ways until neither side has anything to send. */
tls_result pump(struct endpoint *client, struct endpoint *server)
{
    for (int round = 0; round < 64; round++) {
        bool moved = false;
        tls_result result = transfer(client, server, &moved);
        if (result == TLS_RESULT_OK)
            result = transfer(server, client, &moved);
        if (result != TLS_RESULT_OK)
            return result;
        if (!moved)
            return TLS_RESULT_OK;
    }
    return TLS_RESULT_INVALID_STATE;
}

/* Starts a server connection on `server_ctx` (releasing nothing) and a client connection to
 * localhost on `client_ctx`, and runs the handshake. */
tls_result handshake(uint64_t server_ctx, uint64_t client_ctx, const char *server_name,
                     struct endpoint *client, struct endpoint *server)
{
    tls_result result;

    client->conn = NULL;
    client->inbox_len = 0;
    server->conn = NULL;
    server->inbox_len = 0;
    result = tls_conn_new_server(server_ctx, &server->conn);
    if (result != TLS_RESULT_OK)
        return result;
    result = tls_conn_new_client(client_ctx, server_name, &client->conn);
    if (result != TLS_RESULT_OK)
        return result;
    result = pump(client, server);
    if (result != TLS_RESULT_OK)
        return result;
    if (tls_conn_is_handshaking(client->conn) || tls_conn_is_handshaking(server->conn))
        return TLS_RESULT_INVALID_STATE;
    return TLS_RESULT_OK;
}

void endpoints_free(struct endpoint *client, struct endpoint *server)
{
    tls_conn_free(client->conn);
    tls_conn_free(server->conn);
    client->conn = NULL;
    server->conn = NULL;
}

/* Sends `message` from `from` to `to` and checks that exactly those bytes arrive. */
bool exchange(struct endpoint *from, struct endpoint *to, const char *message)
{
    size_t len = strlen(message);
    size_t written = 0;
    bool moved = false;
    bool same;

    to->inbox_len = 0;
    if (tls_conn_write(from->conn, (const uint8_t *)message, len, &written) != TLS_RESULT_OK ||
        written != len)
        return false;
    if (transfer(from, to, &moved) != TLS_RESULT_OK)
        return false;
    same = to->inbox_len == len && memcmp(to->inbox, message, len) == 0;
    to->inbox_len = 0;
    return same;
}

bool last_error_has(const char *first, const char *second)
{
    const char *message = tls_last_error();

    return strstr(message, first) != NULL && (second == NULL || strstr(message, second) != NULL);
}

/* A scratch directory under the material directory; the caller removes what it put there. */
bool scratch_dir(char *path, size_t size, const char *label)
{
    snprintf(path, size, "%s/%s-XXXXXX", material_dir, label);
    return mkdtemp(path) != NULL;
}

void join_path(char *out, size_t size, const char *dir, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

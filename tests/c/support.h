/*
 * What the C test programs share: the CHECK counters, the paths of the shared certificate cases,
 * file helpers, and two connections handshaking in memory through the tlsctx C ABI.
 */

#ifndef TLSCTX_TEST_SUPPORT_H
#define TLSCTX_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsctx.h"

extern unsigned checks_passed;
extern unsigned checks_failed;

/* The shared acceptance cases and the directory run.sh prepared with DER files and scratch
 * space; set by main from the command line. */
extern const char *cases_dir;
extern const char *material_dir;

/* Counts one check; a failure prints where it is and what was expected, and testing goes on. */
#define CHECK(condition, message) \
    check((condition), __FILE__, __LINE__, "%s", (message))

/* Checks a tls_result against the expected one, naming both and the library's message. */
#define CHECK_RESULT(call, expected) \
    check_result((call), (expected), __FILE__, __LINE__, #call)

bool check(bool condition, const char *file, int line, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
bool check_result(tls_result actual, tls_result expected, const char *file, int line,
                  const char *call);

/* Returns `<cases_dir>/<case_name>/<file_name>` in a static buffer of one of four rotating slots,
 * so that a call can take a few case paths at once. */
const char *case_path(const char *case_name, const char *file_name);

/* Reads a whole file into a malloc'd buffer; NULL when it cannot be read. */
uint8_t *read_file(const char *path, size_t *len_out);
bool write_file(const char *path, const void *bytes, size_t len);
bool copy_file(const char *from, const char *to);

/* A scratch directory under the material directory; the caller removes what it put there. */
bool scratch_dir(char *path, size_t size, const char *label);
void join_path(char *out, size_t size, const char *dir, const char *name);

/* Whether tls_last_error() holds `first` and, unless NULL, `second`. */
bool last_error_has(const char *first, const char *second);

/* One side of an in-memory connection and the plaintext it has received so far. */
struct endpoint {
    tls_conn *conn;
    uint8_t inbox[64 * 1024];
    size_t inbox_len;
};

/* Moves every pending TLS byte from `from` to `to`; sets `*moved` when any byte moved. */
tls_result transfer(struct endpoint *from, struct endpoint *to, bool *moved);

/* Moves bytes both ways until neither side has anything to send. */
tls_result pump(struct endpoint *client, struct endpoint *server);

/* Starts a server connection on `server_ctx` and a client connection to `server_name` on
 * `client_ctx` (releasing neither context), and runs the handshake. */
tls_result handshake(uint64_t server_ctx, uint64_t client_ctx, const char *server_name,
                     struct endpoint *client, struct endpoint *server);

void endpoints_free(struct endpoint *client, struct endpoint *server);

/* Sends `message` from `from` to `to` and checks that exactly those bytes arrive. */
bool exchange(struct endpoint *from, struct endpoint *to, const char *message);

#endif

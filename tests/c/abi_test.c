/*
 * Tests of the tlsctx C ABI through include/tlsctx.h only: loading the shared certificate cases,
 * handle misuse, in-memory handshakes between two connections, and reloads that swap, keep the
 * old generation, or report unchanged files.
 *
 * Usage: abi_test CASES_DIR MATERIAL_DIR
 *
 * CASES_DIR is the shared acceptance cases (B01, B05, B16, B19 are used). MATERIAL_DIR holds, for
 * each of b01, b05 and b16, `<case>-server.der` (the DER of that case's server.crt) and
 * `<case>-server.sha256` (its lowercase hex SHA-256), and `b05-client.der`, written by
 * tests/c/run.sh with openssl; the test also makes its scratch directories for rotated files
 * there.
 *
 * Prints one line per failed check and a final line `N passed, M failed`; exits 1 on any
 * failure.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

/* The expected leaf of a case: its DER and the hex SHA-256 of that DER. */
struct expected_leaf {
    uint8_t *der;
    size_t der_len;
    char fingerprint[65];
};

static bool expected_leaf_load(const char *case_label, struct expected_leaf *leaf)
{
    char path[4096];
    size_t len = 0;
    uint8_t *text;

    memset(leaf, 0, sizeof(*leaf));
    snprintf(path, sizeof(path), "%s/%s-server.der", material_dir, case_label);
    leaf->der = read_file(path, &leaf->der_len);
    snprintf(path, sizeof(path), "%s/%s-server.sha256", material_dir, case_label);
    text = read_file(path, &len);
    if (leaf->der == NULL || text == NULL || len < 64) {
        fprintf(stderr, "missing %s material in %s (run tests/c/run.sh)\n", case_label,
                material_dir);
        free(text);
        return false;
    }
    memcpy(leaf->fingerprint, text, 64);
    leaf->fingerprint[64] = '\0';
    free(text);
    return true;
}

static struct expected_leaf b01_leaf, b05_leaf, b16_leaf;

/* ---- Building contexts ---------------------------------------------------------------------- */

static tls_config *server_config(const char *cert_path, const char *key_path)
{
    tls_config *config = NULL;
    static const char *const alpn[] = {"h2", "http/1.1"};

    if (tls_config_new(TLS_ROLE_SERVER, &config) != TLS_RESULT_OK)
        return NULL;
    CHECK_RESULT(tls_config_set_cert_chain(config, cert_path), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_private_key(config, key_path), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_alpn(config, alpn, 2), TLS_RESULT_OK);
    return config;
}

/* Loads a server context, or returns 0 with the result in `*result_out`. */
static uint64_t load_server(const char *cert_path, const char *key_path, tls_result *result_out)
{
    tls_config *config = server_config(cert_path, key_path);
    uint64_t handle = 0;
    tls_result result = TLS_RESULT_NULL_ARGUMENT;

    if (config != NULL)
        result = tls_ctx_load(config, &handle);
    tls_config_free(config);
    if (result_out != NULL)
        *result_out = result;
    return result == TLS_RESULT_OK ? handle : 0;
}

/* A client context trusting `trust_path`, offering `h2` and the versions in `mask`. */
static uint64_t load_client(const char *trust_path, uint32_t versions_mask)
{
    tls_config *config = NULL;
    uint64_t handle = 0;
    static const char *const alpn[] = {"h2"};

    if (!CHECK(tls_config_new(TLS_ROLE_CLIENT, &config) == TLS_RESULT_OK, "client config"))
        return 0;
    CHECK_RESULT(tls_config_set_trust_bundle(config, trust_path), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_versions(config, versions_mask), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_alpn(config, alpn, 1), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_OK);
    tls_config_free(config);
    return handle;
}

/* ---- Inspecting connections and reloaders --------------------------------------------------- */

/* Whether the leaf the peer of `side` presented is byte for byte `leaf`. */
static bool peer_leaf_is(const struct endpoint *side, const struct expected_leaf *leaf)
{
    const uint8_t *der = NULL;
    size_t len = 0;

    if (tls_conn_peer_certificate(side->conn, 0, &der, &len) != TLS_RESULT_OK)
        return false;
    return len == leaf->der_len && memcmp(der, leaf->der, len) == 0;
}

static uint64_t ctx_generation(uint64_t handle)
{
    tls_ctx_info info;

    if (tls_ctx_info_get(handle, &info) != TLS_RESULT_OK)
        return 0;
    return info.generation;
}

static uint64_t reloader_live(uint64_t reloader)
{
    uint64_t count = UINT64_MAX;

    if (tls_reloader_live_generations(reloader, &count) != TLS_RESULT_OK)
        return UINT64_MAX;
    return count;
}

static uint64_t reloader_generation(uint64_t reloader)
{
    uint64_t handle = 0;
    uint64_t generation;

    if (tls_reloader_current(reloader, &handle) != TLS_RESULT_OK)
        return 0;
    generation = ctx_generation(handle);
    tls_ctx_release(handle);
    return generation;
}

/* ---- Loading ------------------------------------------------------------------------------- */

static void test_load_pkcs1_and_pkcs8_keys(void)
{
    const char *cert = case_path("B05", "server.crt");
    const char *key_names[] = {"server-pkcs1.key", "server-pkcs8.key"};

    for (size_t i = 0; i < 2; i++) {
        tls_result result;
        uint64_t handle = load_server(cert, case_path("B05", key_names[i]), &result);
        tls_ctx_info info;
        char subject[256];
        size_t subject_len = 0;

        CHECK_RESULT(result, TLS_RESULT_OK);
        CHECK(handle != 0, key_names[i]);
        CHECK_RESULT(tls_ctx_info_get(handle, &info), TLS_RESULT_OK);
        CHECK(info.generation == 1, "a context loaded on its own is generation 1");
        CHECK(strcmp(info.fingerprint, b05_leaf.fingerprint) == 0,
              "fingerprint is the SHA-256 of B05 server.crt's DER");
        CHECK(info.not_before == 1704067200, "notBefore is 2024-01-01T00:00:00Z");
        CHECK(info.not_after > info.not_before, "notAfter follows notBefore");
        CHECK(info.serial[0] != '\0', "serial is set");
        CHECK_RESULT(tls_ctx_subject(handle, subject, sizeof(subject), &subject_len),
                     TLS_RESULT_OK);
        CHECK(subject_len == strlen(subject) && subject_len > 0, "subject is NUL-terminated");
        CHECK_RESULT(tls_ctx_subject(handle, subject, 2, &subject_len),
                     TLS_RESULT_BUFFER_TOO_SMALL);
        CHECK_RESULT(tls_ctx_release(handle), TLS_RESULT_OK);
    }
}

static void test_load_errors(void)
{
    char dir[4096], empty_path[4200], missing_path[4200];
    tls_result result;
    uint64_t handle;
    const char *b19_key = case_path("B19", "other-rsa.key");

    handle = load_server(case_path("B19", "server.crt"), b19_key, &result);
    CHECK_RESULT(result, TLS_RESULT_KEY_MISMATCH);
    CHECK(handle == 0, "no context from a mismatched key");
    CHECK(last_error_has(b19_key, "does not match"), tls_last_error());

    handle = load_server(case_path("B19", "server.crt"), case_path("B19", "other-ec.key"),
                         &result);
    CHECK_RESULT(result, TLS_RESULT_KEY_MISMATCH);
    CHECK(last_error_has("other-ec.key", "does not match"), tls_last_error());

    if (!CHECK(scratch_dir(dir, sizeof(dir), "load"), "scratch directory"))
        return;
    join_path(missing_path, sizeof(missing_path), dir, "absent.key");
    handle = load_server(case_path("B05", "server.crt"), missing_path, &result);
    CHECK_RESULT(result, TLS_RESULT_FILE_NOT_FOUND);
    CHECK(last_error_has(missing_path, "not found"), tls_last_error());

    handle = load_server(missing_path, case_path("B05", "server-pkcs1.key"), &result);
    CHECK_RESULT(result, TLS_RESULT_FILE_NOT_FOUND);
    CHECK(last_error_has(missing_path, NULL), tls_last_error());

    join_path(empty_path, sizeof(empty_path), dir, "empty.key");
    CHECK(write_file(empty_path, "", 0), "write an empty key file");
    handle = load_server(case_path("B05", "server.crt"), empty_path, &result);
    CHECK_RESULT(result, TLS_RESULT_FILE_EMPTY);
    CHECK(last_error_has(empty_path, "empty"), tls_last_error());

    handle = load_server(empty_path, case_path("B05", "server-pkcs1.key"), &result);
    CHECK_RESULT(result, TLS_RESULT_FILE_EMPTY);
    CHECK(last_error_has(empty_path, NULL), tls_last_error());
    CHECK(handle == 0, "no context from an empty file");

    unlink(empty_path);
    rmdir(dir);
}

/* A failed call writes nothing to its out-parameter. */
static void test_out_parameter_untouched_on_failure(void)
{
    tls_config *config = server_config(case_path("B19", "server.crt"),
                                       case_path("B19", "other-rsa.key"));
    uint64_t handle = 0x5eed;

    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_KEY_MISMATCH);
    CHECK(handle == 0x5eed, "handle_out is untouched after a failed load");
    CHECK_RESULT(tls_reloader_new(config, 0, &handle), TLS_RESULT_KEY_MISMATCH);
    CHECK(handle == 0x5eed, "reloader_out is untouched after a failed first load");
    tls_config_free(config);
}

/* ---- Misuse --------------------------------------------------------------------------------- */

static void test_null_arguments(void)
{
    tls_config *config = NULL;
    uint64_t handle = 0;
    uint64_t reloader = 0;
    uint8_t buf[16];
    size_t len = 0;
    uint16_t version = 0;
    tls_reload_outcome outcome;

    CHECK_RESULT(tls_config_new(TLS_ROLE_SERVER, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_config_set_cert_chain(NULL, "server.crt"), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_config_set_private_key(NULL, "server.key"), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_config_set_versions(NULL, TLS_VERSION_TLS13), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_ctx_load(NULL, &handle), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_reloader_new(NULL, 0, &reloader), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_read_tls(NULL, buf, sizeof(buf), &len), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_write_tls(NULL, buf, sizeof(buf), &len), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_read(NULL, buf, sizeof(buf), &len), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_write(NULL, buf, sizeof(buf), &len), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_send_close_notify(NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_protocol_version(NULL, &version), TLS_RESULT_NULL_ARGUMENT);
    CHECK(!tls_conn_is_handshaking(NULL), "is_handshaking(NULL) is false");
    CHECK(!tls_conn_wants_write(NULL), "wants_write(NULL) is false");
    CHECK(!tls_conn_peer_closed(NULL), "peer_closed(NULL) is false");
    CHECK(last_error_has("NULL", NULL), tls_last_error());

    CHECK_RESULT(tls_config_new(TLS_ROLE_SERVER, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_cert_chain(config, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_config_set_private_key(config, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_config_set_trust_bundle(config, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_config_set_alpn(config, NULL, 1), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_config_set_alpn(config, NULL, 0), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_versions(config, 0), TLS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(tls_config_set_client_auth(config, 99), TLS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(tls_config_set_cert_chain(config, case_path("B05", "server.crt")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_private_key(config, case_path("B05", "server-pkcs1.key")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_reloader_new(config, 0, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_OK);
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    tls_config_free(config);

    CHECK_RESULT(tls_ctx_info_get(handle, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_ctx_subject(handle, (char *)buf, sizeof(buf), NULL),
                 TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_new_server(handle, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_reloader_current(reloader, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_reloader_reload(reloader, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_reloader_live_generations(reloader, NULL), TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_reloader_last_error(reloader, (char *)buf, sizeof(buf), NULL),
                 TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_UNCHANGED, "the same files reload as unchanged");

    CHECK_RESULT(tls_conn_new_client(handle, "localhost", &(tls_conn *){NULL}),
                 TLS_RESULT_WRONG_ROLE);
    CHECK_RESULT(tls_reloader_free(reloader), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_release(handle), TLS_RESULT_OK);
}

static void test_handles(void)
{
    tls_result result;
    uint64_t first = load_server(case_path("B05", "server.crt"),
                                 case_path("B05", "server-pkcs1.key"), &result);
    uint64_t second;
    uint64_t reloader = 0;
    uint64_t never_issued = (UINT64_C(0x7ffffff0) << 32) | UINT64_C(0x7ffffff0);
    tls_ctx_info info;
    tls_config *config;

    CHECK_RESULT(result, TLS_RESULT_OK);

    /* Each acquire is matched by one release; the handle lives until the last. */
    CHECK_RESULT(tls_ctx_acquire(first), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_release(first), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_info_get(first, &info), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_release(first), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_release(first), TLS_RESULT_INVALID_HANDLE);
    CHECK(last_error_has("released or never issued", NULL), tls_last_error());
    CHECK_RESULT(tls_ctx_acquire(first), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_ctx_info_get(first, &info), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_conn_new_server(first, &(tls_conn *){NULL}), TLS_RESULT_INVALID_HANDLE);

    /* The freed slot is reused by the next load; the old handle must not reach the new context. */
    second = load_server(case_path("B05", "server.crt"), case_path("B05", "server-pkcs8.key"),
                         &result);
    CHECK_RESULT(result, TLS_RESULT_OK);
    CHECK((second & 0xffffffffu) == (first & 0xffffffffu), "the slot is reused");
    CHECK(second != first, "a reused slot gets a different handle");
    CHECK_RESULT(tls_ctx_release(first), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_ctx_acquire(first), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_ctx_info_get(second, &info), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_release(second), TLS_RESULT_OK);

    CHECK_RESULT(tls_ctx_release(0), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_ctx_acquire(0), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_ctx_info_get(0, &info), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_ctx_release(never_issued), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_ctx_acquire(never_issued), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_reloader_reload(never_issued, &(tls_reload_outcome){0}),
                 TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_reloader_free(0), TLS_RESULT_INVALID_HANDLE);

    tls_conn_free(NULL);
    tls_config_free(NULL);
    CHECK(true, "tls_conn_free(NULL) and tls_config_free(NULL) return");

    config = server_config(case_path("B05", "server.crt"), case_path("B05", "server-pkcs1.key"));
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    tls_config_free(config);
    CHECK_RESULT(tls_reloader_free(reloader), TLS_RESULT_OK);
    CHECK_RESULT(tls_reloader_free(reloader), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_reloader_current(reloader, &first), TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_reloader_live_generations(reloader, &first), TLS_RESULT_INVALID_HANDLE);
}

/* ---- Handshakes ----------------------------------------------------------------------------- */

static void run_handshake_case(const char *case_name, const char *key_name,
                               const struct expected_leaf *leaf, uint32_t versions_mask,
                               uint16_t expected_version)
{
    char label[128];
    tls_result result;
    uint64_t server_ctx = load_server(case_path(case_name, "server.crt"),
                                      case_path(case_name, key_name), &result);
    uint64_t client_ctx = load_client(case_path(case_name, "ca.crt"), versions_mask);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    const uint8_t *alpn = NULL;
    size_t alpn_len = 0;
    uint16_t version = 0;
    uint16_t suite = 0;
    uint64_t generation = 0;
    const uint8_t *der = NULL;
    size_t der_len = 0;
    size_t written = 0;

    snprintf(label, sizeof(label), "%s %s TLS 0x%04x", case_name, key_name, expected_version);
    CHECK_RESULT(result, TLS_RESULT_OK);
    if (!CHECK(client != NULL && server != NULL && server_ctx != 0 && client_ctx != 0, label))
        goto out;

    result = handshake(server_ctx, client_ctx, "localhost", client, server);
    if (!CHECK_RESULT(result, TLS_RESULT_OK))
        goto out;

    /* Both connections hold their own reference; the contexts may go right away. */
    CHECK_RESULT(tls_ctx_release(server_ctx), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_release(client_ctx), TLS_RESULT_OK);
    server_ctx = client_ctx = 0;

    CHECK_RESULT(tls_conn_protocol_version(client->conn, &version), TLS_RESULT_OK);
    CHECK(version == expected_version, label);
    CHECK_RESULT(tls_conn_protocol_version(server->conn, &version), TLS_RESULT_OK);
    CHECK(version == expected_version, label);
    CHECK_RESULT(tls_conn_cipher_suite(server->conn, &suite), TLS_RESULT_OK);
    CHECK(suite != 0, "a cipher suite is negotiated");
    CHECK_RESULT(tls_conn_alpn(server->conn, &alpn, &alpn_len), TLS_RESULT_OK);
    CHECK(alpn_len == 2 && memcmp(alpn, "h2", 2) == 0, "server negotiated ALPN h2");
    CHECK_RESULT(tls_conn_alpn(client->conn, &alpn, &alpn_len), TLS_RESULT_OK);
    CHECK(alpn_len == 2 && memcmp(alpn, "h2", 2) == 0, "client negotiated ALPN h2");
    CHECK_RESULT(tls_conn_generation(server->conn, &generation), TLS_RESULT_OK);
    CHECK(generation == 1, "a connection on a loaded context is on generation 1");

    CHECK(peer_leaf_is(client, leaf), "the client received the case's server.crt as DER");
    CHECK_RESULT(tls_conn_peer_certificate(client->conn, 5, &der, &der_len),
                 TLS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(tls_conn_peer_certificate(server->conn, 0, &der, &der_len),
                 TLS_RESULT_INVALID_ARGUMENT);

    CHECK(exchange(client, server, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
          "client to server bytes arrive intact");
    CHECK(exchange(server, client, "HTTP/1.1 204 No Content\r\n\r\n"),
          "server to client bytes arrive intact");

    CHECK(!tls_conn_peer_closed(server->conn), "no close_notify yet");
    CHECK_RESULT(tls_conn_send_close_notify(client->conn), TLS_RESULT_OK);
    CHECK_RESULT(tls_conn_write(client->conn, (const uint8_t *)"x", 1, &written),
                 TLS_RESULT_INVALID_STATE);
    CHECK_RESULT(pump(client, server), TLS_RESULT_OK);
    CHECK(tls_conn_peer_closed(server->conn), "the server saw the client's close_notify");
    CHECK_RESULT(tls_conn_send_close_notify(server->conn), TLS_RESULT_OK);
    CHECK_RESULT(pump(client, server), TLS_RESULT_OK);
    CHECK(tls_conn_peer_closed(client->conn), "the client saw the server's close_notify");

out:
    if (client != NULL && server != NULL)
        endpoints_free(client, server);
    free(client);
    free(server);
    if (server_ctx != 0)
        tls_ctx_release(server_ctx);
    if (client_ctx != 0)
        tls_ctx_release(client_ctx);
}

static void test_handshakes(void)
{
    run_handshake_case("B05", "server-pkcs1.key", &b05_leaf, TLS_VERSION_TLS12, 0x0303);
    run_handshake_case("B05", "server-pkcs1.key", &b05_leaf, TLS_VERSION_TLS13, 0x0304);
    run_handshake_case("B16", "server.key", &b16_leaf, TLS_VERSION_TLS12, 0x0303);
    run_handshake_case("B16", "server.key", &b16_leaf, TLS_VERSION_TLS13, 0x0304);
}

/* A client that does not trust the server's CA, or asks for another name, fails the handshake
 * with a TLS error; nothing crashes and both connections free cleanly. */
static void test_handshake_refused(void)
{
    tls_result result;
    uint64_t server_ctx = load_server(case_path("B05", "server.crt"),
                                      case_path("B05", "server-pkcs1.key"), &result);
    uint64_t wrong_ca_client = load_client(case_path("B01", "ca.crt"),
                                           TLS_VERSION_TLS12 | TLS_VERSION_TLS13);
    uint64_t right_ca_client = load_client(case_path("B05", "ca.crt"), TLS_VERSION_TLS13);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));

    if (!CHECK(client != NULL && server != NULL, "allocate endpoints"))
        goto out;

    CHECK_RESULT(handshake(server_ctx, wrong_ca_client, "localhost", client, server),
                 TLS_RESULT_TLS_PROTOCOL);
    CHECK(last_error_has("TLS error", NULL), tls_last_error());
    endpoints_free(client, server);

    CHECK_RESULT(handshake(server_ctx, right_ca_client, "not-this-server.example", client,
                           server),
                 TLS_RESULT_TLS_PROTOCOL);
    endpoints_free(client, server);

    CHECK_RESULT(handshake(server_ctx, right_ca_client, "127.0.0.1", client, server),
                 TLS_RESULT_OK);
    endpoints_free(client, server);

out:
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(wrong_ca_client);
    tls_ctx_release(right_ca_client);
}

/* B05 step 3: a client identity with a PKCS#1 key against a server that requires client
 * certificates from ca.crt; a client without one is refused. */
static void test_client_auth(void)
{
    tls_config *config = NULL;
    tls_result result;
    uint64_t server_ctx = 0;
    uint64_t identified_client = 0;
    uint64_t anonymous_client = load_client(case_path("B05", "ca.crt"), TLS_VERSION_TLS13);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    struct expected_leaf client_leaf = {NULL, 0, {0}};
    char der_path[4200];

    snprintf(der_path, sizeof(der_path), "%s/b05-client.der", material_dir);
    client_leaf.der = read_file(der_path, &client_leaf.der_len);
    CHECK(client_leaf.der != NULL, der_path);

    config = server_config(case_path("B05", "server.crt"), case_path("B05", "server-pkcs1.key"));
    CHECK_RESULT(tls_config_set_client_auth(config, TLS_CLIENT_AUTH_REQUIRE), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_INVALID_CONFIG);
    CHECK(last_error_has("trust bundle", NULL), tls_last_error());
    CHECK_RESULT(tls_config_set_trust_bundle(config, case_path("B05", "ca.crt")), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_OK);
    tls_config_free(config);

    CHECK_RESULT(tls_config_new(TLS_ROLE_CLIENT, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_trust_bundle(config, case_path("B05", "ca.crt")), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_cert_chain(config, case_path("B05", "client.crt")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_private_key(config, case_path("B05", "client-pkcs1.key")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &identified_client), TLS_RESULT_OK);
    tls_config_free(config);

    if (!CHECK(client != NULL && server != NULL && server_ctx != 0, "client-auth setup"))
        goto out;
    result = handshake(server_ctx, identified_client, "localhost", client, server);
    CHECK_RESULT(result, TLS_RESULT_OK);
    if (result == TLS_RESULT_OK) {
        CHECK(peer_leaf_is(server, &client_leaf), "the server received B05 client.crt");
        CHECK(exchange(client, server, "identified\n"), "data flows with a client identity");
    }
    endpoints_free(client, server);

    CHECK_RESULT(handshake(server_ctx, anonymous_client, "localhost", client, server),
                 TLS_RESULT_TLS_PROTOCOL);
    endpoints_free(client, server);

out:
    free(client);
    free(server);
    free(client_leaf.der);
    if (server_ctx != 0)
        tls_ctx_release(server_ctx);
    if (identified_client != 0)
        tls_ctx_release(identified_client);
    tls_ctx_release(anonymous_client);
}

/* The documented contract of tls_conn_read_tls: it takes what it can and the caller offers the
 * rest again. A peer that wrote 64 KiB arrives in one socket read in practice, so the whole of it
 * is offered at once here; plaintext is drained between the offers. */
static void test_large_offer_is_taken_in_parts(void)
{
    enum { TOTAL = 64 * 1024 };
    tls_result result;
    uint64_t server_ctx = load_server(case_path("B05", "server.crt"),
                                      case_path("B05", "server-pkcs1.key"), &result);
    uint64_t client_ctx = load_client(case_path("B05", "ca.crt"), TLS_VERSION_TLS13);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    uint8_t *plaintext = malloc(TOTAL);
    uint8_t *wire = malloc(2 * TOTAL);
    size_t wire_len = 0;
    size_t offset = 0;
    size_t written = 0;
    size_t received = 0;
    bool intact = true;

    if (!CHECK(client && server && plaintext && wire, "allocate buffers"))
        goto out;
    if (!CHECK_RESULT(handshake(server_ctx, client_ctx, "localhost", client, server),
                      TLS_RESULT_OK))
        goto out;
    for (size_t i = 0; i < TOTAL; i++)
        plaintext[i] = (uint8_t)(i * 7 + 3);
    CHECK_RESULT(tls_conn_write(client->conn, plaintext, TOTAL, &written), TLS_RESULT_OK);
    CHECK(written == TOTAL, "64 KiB of plaintext queued");
    CHECK_RESULT(tls_conn_write_tls(client->conn, wire, 2 * TOTAL, &wire_len), TLS_RESULT_OK);

    result = TLS_RESULT_OK;
    for (int attempt = 0; offset < wire_len && attempt < 1000; attempt++) {
        size_t consumed = 0;
        result = tls_conn_read_tls(server->conn, wire + offset, wire_len - offset, &consumed);
        if (result != TLS_RESULT_OK)
            break;
        offset += consumed;
        for (;;) {
            uint8_t chunk[4096];
            size_t got = 0;
            result = tls_conn_read(server->conn, chunk, sizeof(chunk), &got);
            if (result != TLS_RESULT_OK || got == 0)
                break;
            if (received + got > TOTAL || memcmp(plaintext + received, chunk, got) != 0)
                intact = false;
            received += got;
        }
        if (result != TLS_RESULT_OK)
            break;
    }
    CHECK_RESULT(result, TLS_RESULT_OK);
    CHECK(offset == wire_len, "every offered byte is taken eventually");
    CHECK(received == TOTAL && intact, "all 64 KiB arrive intact");

out:
    if (client != NULL && server != NULL)
        endpoints_free(client, server);
    free(client);
    free(server);
    free(plaintext);
    free(wire);
    tls_ctx_release(server_ctx);
    tls_ctx_release(client_ctx);
}

/* ---- Reloading ------------------------------------------------------------------------------ */

/* Starts a server connection on the reloader's current generation, as a server does per accept:
 * acquire, connect, release. */
static tls_result handshake_on_current(uint64_t reloader, uint64_t client_ctx,
                                       struct endpoint *client, struct endpoint *server)
{
    uint64_t handle = 0;
    tls_result result = tls_reloader_current(reloader, &handle);

    if (result != TLS_RESULT_OK)
        return result;
    result = handshake(handle, client_ctx, "localhost", client, server);
    tls_ctx_release(handle);
    return result;
}

/* A failed reload keeps generation 2 serving with its leaf, and says which file failed. */
static void check_reload_kept_old(uint64_t reloader, uint64_t client_ctx, tls_result expected,
                                  const char *key_path, const char *problem)
{
    tls_reload_outcome outcome = (tls_reload_outcome)77;
    char message[1024];
    size_t message_len = 0;
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    uint64_t generation = 0;

    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), expected);
    CHECK(outcome == (tls_reload_outcome)77, "outcome_out is untouched after a failed reload");
    CHECK(last_error_has(key_path, problem), tls_last_error());
    CHECK_RESULT(tls_reloader_last_error(reloader, message, sizeof(message), &message_len),
                 TLS_RESULT_OK);
    CHECK(strstr(message, key_path) != NULL && strstr(message, problem) != NULL, message);
    CHECK(reloader_generation(reloader) == 2, "the current generation stays 2");
    CHECK(reloader_live(reloader) == 1, "no generation was added");

    if (!CHECK(client != NULL && server != NULL, "allocate endpoints"))
        goto out;
    CHECK_RESULT(handshake_on_current(reloader, client_ctx, client, server), TLS_RESULT_OK);
    CHECK(peer_leaf_is(client, &b01_leaf), "new handshakes still get B01's leaf");
    CHECK_RESULT(tls_conn_generation(server->conn, &generation), TLS_RESULT_OK);
    CHECK(generation == 2, "new connections are on generation 2");
    endpoints_free(client, server);

out:
    free(client);
    free(server);
}

static void test_reload(void)
{
    char dir[4096], cert_path[4200], key_path[4200];
    char message[1024];
    size_t message_len = 99;
    tls_config *config = NULL;
    uint64_t reloader = 0;
    uint64_t b05_client = load_client(case_path("B05", "ca.crt"), TLS_VERSION_TLS13);
    uint64_t b01_client = load_client(case_path("B01", "ca.crt"), TLS_VERSION_TLS13);
    uint64_t live_before = tls_live_generations();
    uint64_t generation = 0;
    tls_reload_outcome outcome;
    struct endpoint *old_client = calloc(1, sizeof(*old_client));
    struct endpoint *old_server = calloc(1, sizeof(*old_server));
    struct endpoint *new_client = calloc(1, sizeof(*new_client));
    struct endpoint *new_server = calloc(1, sizeof(*new_server));

    if (!CHECK(old_client && old_server && new_client && new_server, "allocate endpoints"))
        goto out;
    if (!CHECK(scratch_dir(dir, sizeof(dir), "reload"), "scratch directory"))
        goto out;
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(case_path("B05", "server.crt"), cert_path), "copy B05 server.crt");
    CHECK(copy_file(case_path("B05", "server-pkcs1.key"), key_path), "copy B05 key");

    config = server_config(cert_path, key_path);
    if (!CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK))
        goto out;
    tls_config_free(config);
    config = NULL;
    CHECK(reloader_generation(reloader) == 1, "the first load is generation 1");
    CHECK(reloader_live(reloader) == 1, "one generation alive after the first load");
    CHECK(tls_live_generations() == live_before + 1, "the process counts the new generation");
    CHECK_RESULT(tls_reloader_last_error(reloader, message, sizeof(message), &message_len),
                 TLS_RESULT_OK);
    CHECK(message_len == 0 && message[0] == '\0', "no reload error yet");

    /* A connection on generation 1 stays open across the rotation. */
    CHECK_RESULT(handshake_on_current(reloader, b05_client, old_client, old_server),
                 TLS_RESULT_OK);
    CHECK(peer_leaf_is(old_client, &b05_leaf), "generation 1 serves B05's leaf");

    CHECK(copy_file(case_path("B01", "server.crt"), cert_path), "rotate to B01 server.crt");
    CHECK(copy_file(case_path("B01", "server.key"), key_path), "rotate to B01 server.key");
    outcome = (tls_reload_outcome)77;
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_SWAPPED, "new files swap in a new generation");
    CHECK(reloader_generation(reloader) == 2, "the reload made generation 2");
    CHECK(reloader_live(reloader) == 2, "generation 1 lives on while its connection does");
    CHECK(tls_live_generations() == live_before + 2, "the process counts both generations");

    CHECK(exchange(old_client, old_server, "still here\n"), "the old connection still carries");
    CHECK(exchange(old_server, old_client, "still here\n"), "data both ways after the swap");
    CHECK_RESULT(tls_conn_generation(old_server->conn, &generation), TLS_RESULT_OK);
    CHECK(generation == 1, "the old connection stays on generation 1");

    CHECK_RESULT(handshake_on_current(reloader, b01_client, new_client, new_server),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_conn_generation(new_server->conn, &generation), TLS_RESULT_OK);
    CHECK(generation == 2, "a new connection is on generation 2");
    CHECK(peer_leaf_is(new_client, &b01_leaf), "generation 2 serves B01's leaf");
    CHECK(exchange(new_client, new_server, "new\n"), "the new connection carries data");
    endpoints_free(new_client, new_server);

    endpoints_free(old_client, old_server);
    CHECK(reloader_live(reloader) == 1, "generation 1 is freed with its last connection");
    CHECK(tls_live_generations() == live_before + 1, "the process lets generation 1 go");

    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_UNCHANGED, "the same bytes reload as unchanged");
    CHECK(reloader_generation(reloader) == 2, "unchanged makes no generation");
    CHECK(reloader_live(reloader) == 1, "unchanged keeps one generation alive");

    CHECK(copy_file(case_path("B19", "other-rsa.key"), key_path), "write a mismatched key");
    check_reload_kept_old(reloader, b01_client, TLS_RESULT_KEY_MISMATCH, key_path,
                          "does not match");

    CHECK(write_file(key_path, "", 0), "truncate the key file");
    check_reload_kept_old(reloader, b01_client, TLS_RESULT_FILE_EMPTY, key_path, "empty");

    CHECK(unlink(key_path) == 0, "remove the key file");
    check_reload_kept_old(reloader, b01_client, TLS_RESULT_FILE_NOT_FOUND, key_path,
                          "not found");

    /* Putting the served key back is no change; the error is cleared by that success. */
    CHECK(copy_file(case_path("B01", "server.key"), key_path), "restore B01 server.key");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_UNCHANGED, "restoring the served files is unchanged");
    CHECK_RESULT(tls_reloader_last_error(reloader, message, sizeof(message), &message_len),
                 TLS_RESULT_OK);
    CHECK(message_len == 0, "a successful reload clears the reload error");

    /* A later valid rotation is still picked up, and a connection outlives its reloader. */
    CHECK(copy_file(case_path("B05", "server.crt"), cert_path), "rotate back to B05");
    CHECK(copy_file(case_path("B05", "server-pkcs8.key"), key_path), "rotate back to B05");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_SWAPPED, "rotating back swaps");
    CHECK(reloader_generation(reloader) == 3, "generation 3");
    CHECK_RESULT(handshake_on_current(reloader, b05_client, old_client, old_server),
                 TLS_RESULT_OK);
    CHECK(peer_leaf_is(old_client, &b05_leaf), "generation 3 serves B05's leaf");
    CHECK_RESULT(tls_reloader_free(reloader), TLS_RESULT_OK);
    reloader = 0;
    CHECK(tls_live_generations() == live_before + 1, "a connection keeps its generation alive");
    CHECK(exchange(old_client, old_server, "after free\n"), "and keeps working");
    endpoints_free(old_client, old_server);
    CHECK(tls_live_generations() == live_before, "the last connection frees its generation");

    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);

out:
    if (old_client && old_server)
        endpoints_free(old_client, old_server);
    if (new_client && new_server)
        endpoints_free(new_client, new_server);
    free(old_client);
    free(old_server);
    free(new_client);
    free(new_server);
    tls_config_free(config);
    if (reloader != 0)
        tls_reloader_free(reloader);
    tls_ctx_release(b05_client);
    tls_ctx_release(b01_client);
}

/* The watcher of tls_reloader_new_with_watch swaps a rotation in without a reload call. */
static void test_watch(void)
{
    char dir[4096], cert_path[4200], key_path[4200];
    tls_config *config = NULL;
    uint64_t reloader = 0;
    int waited_ms = 0;

    if (!CHECK(scratch_dir(dir, sizeof(dir), "watch"), "scratch directory"))
        return;
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(case_path("B05", "server.crt"), cert_path), "copy B05 server.crt");
    CHECK(copy_file(case_path("B05", "server-pkcs1.key"), key_path), "copy B05 key");

    config = server_config(cert_path, key_path);
    CHECK_RESULT(tls_reloader_new_with_watch(config, 100, 50, NULL), TLS_RESULT_NULL_ARGUMENT);
    if (!CHECK_RESULT(tls_reloader_new_with_watch(config, 100, 50, &reloader), TLS_RESULT_OK))
        goto out;
    CHECK(reloader_generation(reloader) == 1, "the watched context starts at generation 1");

    /* Written in place, key first: a torn pair in between is refused, the whole pair swapped. */
    CHECK(copy_file(case_path("B01", "server.key"), key_path), "rotate to B01 server.key");
    CHECK(copy_file(case_path("B01", "server.crt"), cert_path), "rotate to B01 server.crt");
    while (reloader_generation(reloader) != 2 && waited_ms < 3000) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
        waited_ms += 20;
    }
    CHECK(reloader_generation(reloader) == 2, "the watcher swaps within 3 s");
    CHECK_RESULT(tls_reloader_free(reloader), TLS_RESULT_OK);
    reloader = 0;

    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);

out:
    tls_config_free(config);
    if (reloader != 0)
        tls_reloader_free(reloader);
}

/* What a reload listener heard, in order. */
struct heard {
    int count;
    uint32_t attempts[8];
    uint64_t generations[8];
    char serials[8][65];
    char errors[8][512];
};

static void remember_report(void *userdata, const tls_reload_report *report)
{
    struct heard *heard = userdata;

    if (heard->count >= 8)
        return;
    heard->attempts[heard->count] = report->attempt;
    heard->generations[heard->count] = report->current.generation;
    snprintf(heard->serials[heard->count], sizeof(heard->serials[0]), "%s",
             report->current.serial);
    snprintf(heard->errors[heard->count], sizeof(heard->errors[0]), "%s",
             report->error != NULL ? report->error : "");
    heard->count++;
}

static void test_listener_and_stats(void)
{
    char dir[4096], cert_path[4200], key_path[4200];
    tls_config *config = NULL;
    uint64_t reloader = 0;
    tls_reload_outcome outcome = 0;
    tls_reload_stats stats;
    struct heard heard = {0};

    if (!CHECK(scratch_dir(dir, sizeof(dir), "listener"), "scratch directory"))
        return;
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(case_path("B05", "server.crt"), cert_path), "copy B05 server.crt");
    CHECK(copy_file(case_path("B05", "server-pkcs1.key"), key_path), "copy B05 key");
    config = server_config(cert_path, key_path);
    if (!CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK))
        goto out;
    CHECK_RESULT(tls_reloader_set_listener(0, remember_report, &heard),
                 TLS_RESULT_INVALID_HANDLE);
    CHECK_RESULT(tls_reloader_set_listener(reloader, remember_report, &heard), TLS_RESULT_OK);

    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(copy_file(case_path("B01", "server.crt"), cert_path), "rotate to B01 server.crt");
    CHECK(copy_file(case_path("B01", "server.key"), key_path), "rotate to B01 server.key");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(copy_file(case_path("B19", "other-rsa.key"), key_path), "break the key");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_KEY_MISMATCH);

    CHECK(heard.count == 3, "one report per attempt");
    CHECK(heard.attempts[0] == TLS_RELOAD_ATTEMPT_UNCHANGED && heard.generations[0] == 1 &&
              strcmp(heard.serials[0], "d4ea23449b23fea2") == 0 && heard.errors[0][0] == 0,
          "first report: unchanged, generation 1, B05 serial");
    CHECK(heard.attempts[1] == TLS_RELOAD_ATTEMPT_SWAPPED && heard.generations[1] == 2 &&
              strcmp(heard.serials[1], "5f19806269c0012e") == 0,
          "second report: swapped to generation 2, B01 serial");
    CHECK(heard.attempts[2] == TLS_RELOAD_ATTEMPT_FAILED && heard.generations[2] == 2 &&
              strstr(heard.errors[2], key_path) != NULL &&
              strstr(heard.errors[2], "does not match") != NULL,
          "third report: failed naming the key, generation 2 kept");

    CHECK_RESULT(tls_reloader_stats(reloader, NULL), TLS_RESULT_NULL_ARGUMENT);
    if (CHECK_RESULT(tls_reloader_stats(reloader, &stats), TLS_RESULT_OK)) {
        CHECK(stats.swapped == 1 && stats.unchanged == 1 && stats.failed == 1,
              "counts 1 swapped, 1 unchanged, 1 failed");
        CHECK(stats.generation == 2 && stats.live_generations == 1, "generation 2, 1 alive");
        CHECK(stats.not_after == 2493071999, "B01 leaf notAfter 2048-12-31T23:59:59Z");
        CHECK(stats.last_swap > 1700000000, "the last swap has a time");
    }

    CHECK_RESULT(tls_reloader_set_listener(reloader, NULL, NULL), TLS_RESULT_OK);
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_KEY_MISMATCH);
    CHECK(heard.count == 3, "a removed listener hears nothing");
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);

out:
    tls_config_free(config);
    if (reloader != 0)
        tls_reloader_free(reloader);
}

/* Moves every TLS byte `from` wants to send into `wire` with tls_conn_wrap; returns false on
 * a failed call. ORs the flags of every call into `*seen_flags`. */
static bool wrap_pending(tls_conn *from, uint8_t *wire, size_t size, size_t *wire_len,
                         uint32_t *seen_flags)
{
    for (;;) {
        tls_step step = {0};
        if (tls_conn_wrap(from, NULL, 0, wire + *wire_len, size - *wire_len, &step) !=
            TLS_RESULT_OK)
            return false;
        *seen_flags |= step.flags;
        *wire_len += step.produced;
        if (step.produced == 0)
            return true;
    }
}

/* Feeds `wire` to `to` a record at a time with tls_conn_unwrap (tls_conn_unwrap_in_place when
 * `in_place`), keeping a partial record; returns false on a failed call. ORs the flags of every
 * call into `*seen_flags`. */
static bool unwrap_records(tls_conn *to, uint8_t *wire, size_t *wire_len, uint32_t *seen_flags,
                           bool in_place)
{
    uint8_t plaintext[TLS_MAX_RECORD_LEN];
    size_t offset = 0;
    while (offset < *wire_len) {
        tls_step step = {0};
        tls_result result =
            in_place ? tls_conn_unwrap_in_place(to, wire + offset, *wire_len - offset, plaintext,
                                                sizeof(plaintext), &step)
                     : tls_conn_unwrap(to, wire + offset, *wire_len - offset, plaintext,
                                       sizeof(plaintext), &step);
        if (result != TLS_RESULT_OK)
            return false;
        *seen_flags |= step.flags;
        if (step.consumed == 0)
            break;
        offset += step.consumed;
    }
    memmove(wire, wire + offset, *wire_len - offset);
    *wire_len -= offset;
    return true;
}

static bool unwrap_all(tls_conn *to, uint8_t *wire, size_t *wire_len, uint32_t *seen_flags)
{
    return unwrap_records(to, wire, wire_len, seen_flags, false);
}

/* The engine-style calls: a handshake driven by tls_conn_wrap and tls_conn_unwrap alone, whole
 * records with the exact TLS 1.3 sizes, underflow and overflow, overlapping buffers refused,
 * and the stream calls mixed with them on one connection. */
static void test_record_calls(void)
{
    enum { WIRE = 64 * 1024, RECORD = 16384 };
    tls_result result;
    uint64_t server_ctx = load_server(case_path("B16", "server.crt"),
                                      case_path("B16", "server.key"), &result);
    uint64_t client_ctx = load_client(case_path("B16", "ca.crt"), TLS_VERSION_TLS13);
    tls_conn *client = NULL, *server = NULL;
    uint8_t *to_server = malloc(WIRE), *to_client = malloc(WIRE);
    uint8_t *plaintext = malloc(RECORD), *received = malloc(RECORD);
    size_t to_server_len = 0, to_client_len = 0, written = 0;
    uint32_t client_flags = 0, server_flags = 0;
    tls_step step = {0};

    if (!CHECK(to_server && to_client && plaintext && received, "allocate buffers") ||
        !CHECK(server_ctx != 0 && client_ctx != 0, "load the B16 contexts"))
        goto out;
    CHECK_RESULT(tls_conn_new_server(server_ctx, &server), TLS_RESULT_OK);
    CHECK_RESULT(tls_conn_new_client(client_ctx, "localhost", &client), TLS_RESULT_OK);
    if (!CHECK(server != NULL && client != NULL, "both connections exist"))
        goto out;

    for (int round = 0; round < 8; round++) {
        if (!CHECK(wrap_pending(client, to_server, WIRE, &to_server_len, &client_flags),
                   tls_last_error()) ||
            !CHECK(unwrap_all(server, to_server, &to_server_len, &server_flags),
                   tls_last_error()) ||
            !CHECK(wrap_pending(server, to_client, WIRE, &to_client_len, &server_flags),
                   tls_last_error()) ||
            !CHECK(unwrap_all(client, to_client, &to_client_len, &client_flags),
                   tls_last_error()))
            goto out;
        if (!tls_conn_is_handshaking(client) && !tls_conn_is_handshaking(server) &&
            to_server_len == 0 && to_client_len == 0 && !tls_conn_wants_write(server))
            break;
    }
    CHECK(!tls_conn_is_handshaking(client) && !tls_conn_is_handshaking(server),
          "the handshake ends through wrap and unwrap alone");
    CHECK(client_flags & TLS_STEP_HANDSHAKE_FINISHED, "the client saw its handshake finish");
    CHECK(server_flags & TLS_STEP_HANDSHAKE_FINISHED, "the server saw its handshake finish");

    /* A full record: TLS 1.3 adds a 5-byte header, the content type byte and a 16-byte tag. */
    for (size_t i = 0; i < RECORD; i++)
        plaintext[i] = (uint8_t)(i * 13 + 1);
    CHECK_RESULT(tls_conn_wrap(client, plaintext, RECORD, to_server, RECORD + 28, &step),
                 TLS_RESULT_OK);
    CHECK(step.consumed == 0 && step.produced == 0 && (step.flags & TLS_STEP_OVERFLOW),
          "wrap overflows into a destination one byte short of the largest record it may write "
          "(16384 + 29), though this one needs only 16406");
    CHECK_RESULT(tls_conn_wrap(client, plaintext, RECORD, to_server, WIRE, &step),
                 TLS_RESULT_OK);
    CHECK(step.consumed == RECORD && step.produced == RECORD + 22,
          "wrap takes 16384 bytes and writes one record of 16406");
    CHECK(step.flags == 0, "no flag is set after a plain wrap");
    to_server_len = step.produced;

    CHECK_RESULT(tls_conn_unwrap(server, to_server, 100, received, RECORD, &step), TLS_RESULT_OK);
    CHECK(step.consumed == 0 && step.produced == 0 && step.flags == TLS_STEP_UNDERFLOW,
          "100 bytes of a record underflow");
    CHECK_RESULT(tls_conn_unwrap(server, to_server, to_server_len, received, RECORD - 1, &step),
                 TLS_RESULT_OK);
    CHECK(step.consumed == 0 && step.produced == 0 && step.flags == TLS_STEP_OVERFLOW,
          "a destination one byte short of the plaintext overflows");
    CHECK_RESULT(tls_conn_unwrap(server, to_server, to_server_len, received, RECORD, &step),
                 TLS_RESULT_OK);
    CHECK(step.consumed == RECORD + 22 && step.produced == RECORD && step.flags == 0,
          "unwrap takes the whole record and writes its 16384 bytes");
    CHECK(memcmp(plaintext, received, RECORD) == 0, "the plaintext arrives intact");

    /* Source and destination in one buffer must not overlap. */
    CHECK_RESULT(tls_conn_wrap(client, to_server, 1000, to_server + 500, 4096, &step),
                 TLS_RESULT_INVALID_ARGUMENT);
    CHECK(last_error_has("overlap", NULL), tls_last_error());
    CHECK_RESULT(tls_conn_unwrap(server, to_server + 500, 1000, to_server, 4096, &step),
                 TLS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(tls_conn_wrap(client, plaintext, 10, to_server, WIRE, NULL),
                 TLS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(tls_conn_unwrap(NULL, to_server, 10, received, RECORD, &step),
                 TLS_RESULT_NULL_ARGUMENT);

    /* Stream calls on one side, record calls on the other. */
    CHECK_RESULT(tls_conn_write(server, (const uint8_t *)"pong", 4, &written), TLS_RESULT_OK);
    CHECK_RESULT(tls_conn_write_tls(server, to_client, WIRE, &to_client_len), TLS_RESULT_OK);
    CHECK(to_client_len == 4 + 22, "a 4-byte message makes a 26-byte record");
    CHECK_RESULT(tls_conn_unwrap(client, to_client, to_client_len, received, RECORD, &step),
                 TLS_RESULT_OK);
    CHECK(step.consumed == 26 && step.produced == 4 && memcmp(received, "pong", 4) == 0,
          "a record from tls_conn_write unwraps to its 4 bytes");

    /* close_notify: an encrypted alert of 5 + 2 + 1 + 16 bytes. */
    CHECK_RESULT(tls_conn_send_close_notify(client), TLS_RESULT_OK);
    CHECK_RESULT(tls_conn_wrap(client, NULL, 0, to_server, WIRE, &step), TLS_RESULT_OK);
    CHECK(step.produced == 24 && step.flags == TLS_STEP_OUTBOUND_CLOSED,
          "wrap writes the 24-byte close_notify");
    CHECK_RESULT(tls_conn_unwrap(server, to_server, step.produced, received, RECORD, &step),
                 TLS_RESULT_OK);
    CHECK(step.consumed == 24 && step.produced == 0 && step.flags == TLS_STEP_PEER_CLOSED,
          "the server sees the close_notify");

out:
    tls_conn_free(client);
    tls_conn_free(server);
    if (server_ctx != 0)
        tls_ctx_release(server_ctx);
    if (client_ctx != 0)
        tls_ctx_release(client_ctx);
    free(to_server);
    free(to_client);
    free(plaintext);
    free(received);
}

/* tls_conn_unwrap_in_place: a handshake and records of 16 KiB and 1 KiB in TLS 1.3 and 1.2,
 * decrypted in the caller's buffer; a partial record is left untouched. */
static void test_unwrap_in_place(void)
{
    enum { WIRE = 64 * 1024, RECORD = 16384 };
    static const uint32_t versions[] = {TLS_VERSION_TLS13, TLS_VERSION_TLS12};
    tls_result result;
    uint64_t server_ctx = load_server(case_path("B16", "server.crt"),
                                      case_path("B16", "server.key"), &result);
    uint8_t *to_server = malloc(WIRE), *to_client = malloc(WIRE), *copy = malloc(WIRE);
    uint8_t *plaintext = malloc(RECORD), *received = malloc(RECORD);

    if (!CHECK(to_server && to_client && copy && plaintext && received, "allocate buffers") ||
        !CHECK(server_ctx != 0, "load the B16 server context"))
        goto out;
    for (size_t i = 0; i < RECORD; i++)
        plaintext[i] = (uint8_t)(i * 7 + 3);

    for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
        uint64_t client_ctx = load_client(case_path("B16", "ca.crt"), versions[v]);
        tls_conn *client = NULL, *server = NULL;
        size_t to_server_len = 0, to_client_len = 0;
        uint32_t client_flags = 0, server_flags = 0;
        tls_step step = {0};
        /* TLS 1.3 adds the content type byte and a 16-byte tag; TLS 1.2 with AES-GCM an 8-byte
         * explicit nonce and the tag. */
        size_t overhead = versions[v] == TLS_VERSION_TLS13 ? 5 + 1 + 16 : 5 + 8 + 16;

        if (!CHECK(client_ctx != 0, "load the B16 client context") ||
            !CHECK_RESULT(tls_conn_new_server(server_ctx, &server), TLS_RESULT_OK) ||
            !CHECK_RESULT(tls_conn_new_client(client_ctx, "localhost", &client), TLS_RESULT_OK))
            goto next;
        for (int round = 0; round < 8; round++) {
            if (!CHECK(wrap_pending(client, to_server, WIRE, &to_server_len, &client_flags),
                       tls_last_error()) ||
                !CHECK(unwrap_records(server, to_server, &to_server_len, &server_flags, true),
                       tls_last_error()) ||
                !CHECK(wrap_pending(server, to_client, WIRE, &to_client_len, &server_flags),
                       tls_last_error()) ||
                !CHECK(unwrap_records(client, to_client, &to_client_len, &client_flags, true),
                       tls_last_error()))
                goto next;
        }
        CHECK(!tls_conn_is_handshaking(client) && !tls_conn_is_handshaking(server) &&
                  to_server_len == 0 && to_client_len == 0,
              "the handshake ends with every record decrypted in place");

        for (size_t size = RECORD; size >= 1024; size /= 16) {
            CHECK_RESULT(tls_conn_wrap(client, plaintext, size, to_server, WIRE, &step),
                         TLS_RESULT_OK);
            CHECK(step.consumed == size && step.produced == size + overhead,
                  "wrap writes one record of the plaintext and the version's overhead");
            to_server_len = step.produced;
            memcpy(copy, to_server, to_server_len);

            CHECK_RESULT(tls_conn_unwrap_in_place(server, to_server, to_server_len - 1, received,
                                                  RECORD, &step),
                         TLS_RESULT_OK);
            CHECK(step.consumed == 0 && step.produced == 0 && step.flags == TLS_STEP_UNDERFLOW,
                  "a record one byte short underflows");
            CHECK(memcmp(copy, to_server, to_server_len) == 0,
                  "an underflow leaves the source as it was");
            CHECK_RESULT(tls_conn_unwrap_in_place(server, to_server, to_server_len, received,
                                                  size - 1, &step),
                         TLS_RESULT_OK);
            CHECK(step.consumed == 0 && step.produced == 0 && step.flags == TLS_STEP_OVERFLOW,
                  "a destination one byte short of the plaintext overflows");
            CHECK(memcmp(copy, to_server, to_server_len) == 0,
                  "an overflow leaves the source as it was");
            /* Bytes after the record are the next record's: they must stay as they are. */
            memset(to_server + to_server_len, 0xa5, 64);
            CHECK_RESULT(tls_conn_unwrap_in_place(server, to_server, to_server_len + 64, received,
                                                  RECORD, &step),
                         TLS_RESULT_OK);
            CHECK(step.consumed == to_server_len && step.produced == size && step.flags == 0,
                  "unwrap in place takes the whole record and writes its plaintext");
            bool after_untouched = true;
            for (size_t i = 0; i < 64; i++)
                after_untouched = after_untouched && to_server[to_server_len + i] == 0xa5;
            CHECK(after_untouched, "the bytes after the record are left as they were");
            CHECK(memcmp(plaintext, received, size) == 0, "the plaintext arrives intact");
            CHECK(memcmp(copy, to_server, to_server_len) != 0,
                  "the record was decrypted where it lay");
        }

        CHECK_RESULT(tls_conn_unwrap_in_place(server, to_server + 500, 1000, to_server, 4096,
                                              &step),
                     TLS_RESULT_INVALID_ARGUMENT);
        CHECK(last_error_has("overlap", NULL), tls_last_error());
        CHECK_RESULT(tls_conn_unwrap_in_place(server, NULL, 10, received, RECORD, &step),
                     TLS_RESULT_NULL_ARGUMENT);
        CHECK_RESULT(tls_conn_unwrap_in_place(server, NULL, 0, received, RECORD, &step),
                     TLS_RESULT_OK);
        CHECK(step.consumed == 0 && step.flags == TLS_STEP_UNDERFLOW,
              "an empty source underflows");


        CHECK_RESULT(tls_conn_send_close_notify(client), TLS_RESULT_OK);
        CHECK_RESULT(tls_conn_wrap(client, NULL, 0, to_server, WIRE, &step), TLS_RESULT_OK);
        to_server_len = step.produced;
        CHECK_RESULT(tls_conn_unwrap_in_place(server, to_server, to_server_len, received, RECORD,
                                              &step),
                     TLS_RESULT_OK);
        CHECK(step.consumed == to_server_len && step.flags == TLS_STEP_PEER_CLOSED,
              "the server sees the close_notify");
    next:
        tls_conn_free(client);
        tls_conn_free(server);
        if (client_ctx != 0)
            tls_ctx_release(client_ctx);
    }

out:
    if (server_ctx != 0)
        tls_ctx_release(server_ctx);
    free(to_server);
    free(to_client);
    free(copy);
    free(plaintext);
    free(received);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CASES_DIR MATERIAL_DIR\n", argv[0]);
        return 2;
    }
    cases_dir = argv[1];
    material_dir = argv[2];
    if (!expected_leaf_load("b01", &b01_leaf) || !expected_leaf_load("b05", &b05_leaf) ||
        !expected_leaf_load("b16", &b16_leaf))
        return 2;

    CHECK(tls_live_generations() == 0, "no generation is alive before the first load");
    CHECK(strcmp(tls_last_error(), "") == 0, "the last error starts empty");
    CHECK(strcmp(tls_result_name(TLS_RESULT_KEY_MISMATCH), "key mismatch") == 0,
          "result names are readable");

    test_load_pkcs1_and_pkcs8_keys();
    test_load_errors();
    test_out_parameter_untouched_on_failure();
    test_null_arguments();
    test_handles();
    test_handshakes();
    test_handshake_refused();
    test_client_auth();
    test_large_offer_is_taken_in_parts();
    test_record_calls();
    test_unwrap_in_place();
    test_reload();
    test_watch();
    test_listener_and_stats();

    CHECK(tls_live_generations() == 0, "every generation is freed at the end");

    free(b01_leaf.der);
    free(b05_leaf.der);
    free(b16_leaf.der);
    printf("%u passed, %u failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

/*
 * The certificate-material cases (B01, B03, B05, B08, B09, B11, B12, B16, B18, B19, B21) and the
 * configuration surface through the tlsctx C ABI, each with the exact result and message the
 * library gives; and one trigger for every tls_result code.
 *
 * Usage: material_test CASES_DIR MATERIAL_DIR
 *
 * CASES_DIR is the shared acceptance cases. MATERIAL_DIR is prepared by tests/c/run.sh with
 * openssl: for each certificate file the test compares against, `<case>-<file>.der` (the DER of
 * its first block) and `<case>-<file>.sha256` (the lowercase hex SHA-256 of that DER); for a file
 * of several blocks also `<case>-<file>.<index>.der`; and `validity/` with a key and leaves for
 * it that expired (`expired-1.crt`, `expired-2.crt`), are not valid yet (`future.crt`) or are
 * valid now (`current.crt`). The test makes its scratch directories there too.
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
#include <unistd.h>

#include "support.h"

/* Checks that tls_last_error() is exactly "<path>: <problem>". */
#define CHECK_MESSAGE(path, problem) check_message((path), (problem), false, __FILE__, __LINE__)

/* Checks that tls_last_error() starts with "<path>: <problem>". */
#define CHECK_MESSAGE_START(path, problem) \
    check_message((path), (problem), true, __FILE__, __LINE__)

static bool check_message(const char *path, const char *problem, bool prefix_only,
                          const char *file, int line)
{
    char expected[8192];
    const char *actual = tls_last_error();
    size_t len;

    snprintf(expected, sizeof(expected), "%s: %s", path, problem);
    len = prefix_only ? strlen(expected) : strlen(expected) + 1;
    return check(strncmp(actual, expected, len) == 0, file, line,
                 "last error \"%s\", expected %s\"%s\"", actual,
                 prefix_only ? "it to start with " : "", expected);
}

/* A path under MATERIAL_DIR in one of four rotating static slots, as case_path does. */
static const char *material_path(const char *name)
{
    static char slots[4][4096];
    static unsigned next;
    char *path = slots[next++ % 4];

    snprintf(path, sizeof(slots[0]), "%s/%s", material_dir, name);
    return path;
}

/* Reads the password of a case: password.txt, which has no trailing newline. */
static char *case_password(const char *case_name)
{
    size_t len = 0;
    uint8_t *bytes = read_file(case_path(case_name, "password.txt"), &len);
    char *password;

    if (bytes == NULL)
        return NULL;
    password = malloc(len + 1);
    if (password != NULL) {
        memcpy(password, bytes, len);
        password[len] = '\0';
    }
    free(bytes);
    return password;
}

/* ---- Building contexts ---------------------------------------------------------------------- */

/* A server configuration for `cert_path` and `key_path`, with `password` unless it is NULL. */
static tls_config *server_config(const char *cert_path, const char *key_path,
                                 const char *password)
{
    tls_config *config = NULL;

    if (tls_config_new(TLS_ROLE_SERVER, &config) != TLS_RESULT_OK)
        return NULL;
    CHECK_RESULT(tls_config_set_cert_chain(config, cert_path), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_private_key(config, key_path), TLS_RESULT_OK);
    if (password != NULL)
        CHECK_RESULT(tls_config_set_key_password(config, password), TLS_RESULT_OK);
    return config;
}

/* Loads a server context into `*handle_out` (0 on failure) and returns the result. */
static tls_result load_server(const char *cert_path, const char *key_path, const char *password,
                              uint64_t *handle_out)
{
    tls_config *config = server_config(cert_path, key_path, password);
    tls_result result = TLS_RESULT_NULL_ARGUMENT;

    *handle_out = 0;
    if (config != NULL)
        result = tls_ctx_load(config, handle_out);
    tls_config_free(config);
    return result;
}

/* A client context trusting `trust_path`, presenting `cert_path` and `key_path` unless they are
 * NULL; 0 when it cannot be loaded. */
static uint64_t load_client(const char *trust_path, const char *cert_path, const char *key_path)
{
    tls_config *config = NULL;
    uint64_t handle = 0;

    if (!CHECK_RESULT(tls_config_new(TLS_ROLE_CLIENT, &config), TLS_RESULT_OK))
        return 0;
    CHECK_RESULT(tls_config_set_trust_bundle(config, trust_path), TLS_RESULT_OK);
    if (cert_path != NULL) {
        CHECK_RESULT(tls_config_set_cert_chain(config, cert_path), TLS_RESULT_OK);
        CHECK_RESULT(tls_config_set_private_key(config, key_path), TLS_RESULT_OK);
    }
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_OK);
    tls_config_free(config);
    return handle;
}

/* ---- What a context serves ------------------------------------------------------------------ */

/* Whether the certificate at `index` that the peer of `conn` presented is byte for byte the DER
 * file `der_name` in MATERIAL_DIR (or an absolute path). */
static bool peer_certificate_is(const tls_conn *conn, size_t index, const char *der_name)
{
    const uint8_t *der = NULL;
    size_t len = 0;
    size_t expected_len = 0;
    uint8_t *expected = read_file(der_name[0] == '/' ? der_name : material_path(der_name),
                                  &expected_len);
    bool same;

    if (expected == NULL) {
        fprintf(stderr, "missing %s in %s (run tests/c/run.sh)\n", der_name, material_dir);
        return false;
    }
    same = tls_conn_peer_certificate(conn, index, &der, &len) == TLS_RESULT_OK &&
           len == expected_len && memcmp(der, expected, len) == 0;
    free(expected);
    return same;
}

/* Whether the leaf of the context behind `handle` has the SHA-256 in `<sha_name>.sha256`. */
static bool leaf_fingerprint_is(uint64_t handle, const char *sha_name)
{
    char name[512];
    size_t len = 0;
    uint8_t *expected;
    tls_ctx_info info;
    bool same;

    snprintf(name, sizeof(name), "%s.sha256", sha_name);
    expected = read_file(material_path(name), &len);
    if (expected == NULL || len < 64) {
        fprintf(stderr, "missing %s in %s (run tests/c/run.sh)\n", name, material_dir);
        free(expected);
        return false;
    }
    same = tls_ctx_info_get(handle, &info) == TLS_RESULT_OK &&
           memcmp(info.fingerprint, expected, 64) == 0 && info.fingerprint[64] == '\0';
    free(expected);
    return same;
}

/* Handshakes (TLS 1.3 or 1.2, as negotiated) with a client that trusts `trust_path` and checks
 * that the server presents exactly the `count` DER files in `der_names`, in that order. */
static void check_serves(uint64_t server_ctx, const char *trust_path,
                         const char *const *der_names, size_t count, const char *label)
{
    uint64_t client_ctx = load_client(trust_path, NULL, NULL);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    const uint8_t *der = NULL;
    size_t len = 0;

    if (!check(client != NULL && server != NULL && client_ctx != 0, __FILE__, __LINE__,
               "%s: client context", label))
        goto out;
    if (!check_result(handshake(server_ctx, client_ctx, "localhost", client, server),
                      TLS_RESULT_OK, __FILE__, __LINE__, label))
        goto out;
    for (size_t i = 0; i < count; i++) {
        check(peer_certificate_is(client->conn, i, der_names[i]), __FILE__, __LINE__,
              "%s: certificate %zu served is %s", label, i, der_names[i]);
    }
    check(tls_conn_peer_certificate(client->conn, count, &der, &len) ==
              TLS_RESULT_INVALID_ARGUMENT,
          __FILE__, __LINE__, "%s: exactly %zu certificates served", label, count);
    check(exchange(client, server, "ping\n"), __FILE__, __LINE__, "%s: data flows", label);

out:
    if (client != NULL && server != NULL)
        endpoints_free(client, server);
    free(client);
    free(server);
    tls_ctx_release(client_ctx);
}

/* Loads `cert_path` and `key_path` (with `password` unless NULL) and checks LOAD-OK: a context
 * whose leaf is `leaf_name`, which a client trusting `trust_path` gets in a handshake, followed
 * by the DER file `issuer_der` unless that is NULL. */
static void check_loads(const char *cert_path, const char *key_path, const char *password,
                        const char *leaf_name, const char *issuer_der, const char *trust_path)
{
    uint64_t handle = 0;
    char leaf_der[512];
    const char *served[2] = {leaf_der, issuer_der};

    if (!check_result(load_server(cert_path, key_path, password, &handle), TLS_RESULT_OK,
                      __FILE__, __LINE__, key_path))
        return;
    check(leaf_fingerprint_is(handle, leaf_name), __FILE__, __LINE__,
          "%s with %s: the leaf is %s", cert_path, key_path, leaf_name);
    snprintf(leaf_der, sizeof(leaf_der), "%s.der", leaf_name);
    check_serves(handle, trust_path, served, issuer_der == NULL ? 1 : 2, key_path);
    tls_ctx_release(handle);
}

/* Loads and checks that it fails with `expected` and the message "<named>: <problem>", and that
 * no context was made. */
static void check_load_fails(const char *cert_path, const char *key_path, const char *password,
                             tls_result expected, const char *named, const char *problem)
{
    uint64_t handle = 0;

    check_result(load_server(cert_path, key_path, password, &handle), expected, __FILE__,
                 __LINE__, named);
    CHECK_MESSAGE(named, problem);
    CHECK(handle == 0, "no context from a failed load");
}

static uint64_t reloader_generation(uint64_t reloader)
{
    uint64_t handle = 0;
    tls_ctx_info info;

    if (tls_reloader_current(reloader, &handle) != TLS_RESULT_OK)
        return 0;
    info.generation = 0;
    tls_ctx_info_get(handle, &info);
    tls_ctx_release(handle);
    return info.generation;
}

/* Checks that the reloader's current generation is `generation` and serves `der_names`. */
static void check_reloader_serves(uint64_t reloader, uint64_t generation, const char *trust_path,
                                  const char *const *der_names, size_t count, const char *label)
{
    uint64_t handle = 0;

    check(reloader_generation(reloader) == generation, __FILE__, __LINE__,
          "%s: the current generation is %llu", label, (unsigned long long)generation);
    if (!CHECK_RESULT(tls_reloader_current(reloader, &handle), TLS_RESULT_OK))
        return;
    check_serves(handle, trust_path, der_names, count, label);
    tls_ctx_release(handle);
}

/* ---- B01: CRLF and CR-only line endings ----------------------------------------------------- */

static void test_b01_line_endings(void)
{
    const char *full_chain[] = {"B01-fullchain-mixed.crt.0.der", "B01-fullchain-mixed.crt.1.der"};
    uint64_t handle = 0;

    /* Step 1 and 3: CRLF and CR-only files serve the same leaf as the LF reference. */
    check_loads(case_path("B01", "server-crlf.crt"), case_path("B01", "server-crlf.key"), NULL,
                "B01-server.crt", NULL, case_path("B01", "ca.crt"));
    check_loads(case_path("B01", "server-cr-only.crt"), case_path("B01", "server-cr-only.key"),
                NULL, "B01-server.crt", NULL, case_path("B01", "ca.crt"));

    /* Step 2: a CRLF leaf block then an LF CA block: both served, in file order. */
    CHECK_RESULT(load_server(case_path("B01", "fullchain-mixed.crt"),
                             case_path("B01", "server.key"), NULL, &handle),
                 TLS_RESULT_OK);
    check_serves(handle, case_path("B01", "ca.crt"), full_chain, 2, "B01 fullchain-mixed.crt");
    CHECK(leaf_fingerprint_is(handle, "B01-server.crt"), "the full chain's leaf is server.crt");
    tls_ctx_release(handle);
}

/* Step 4: a CRLF trust bundle verifies client certificates. */
static void test_b01_crlf_trust_bundle(void)
{
    tls_config *config = server_config(case_path("B01", "server.crt"),
                                       case_path("B01", "server.key"), NULL);
    uint64_t server_ctx = 0;
    uint64_t with_cert = load_client(case_path("B01", "ca.crt"), case_path("B01", "client.crt"),
                                     case_path("B01", "client.key"));
    uint64_t without_cert = load_client(case_path("B01", "ca.crt"), NULL, NULL);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));

    CHECK_RESULT(tls_config_set_trust_bundle(config, case_path("B01", "ca-crlf.crt")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_client_auth(config, TLS_CLIENT_AUTH_REQUIRE), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_OK);
    tls_config_free(config);
    if (!CHECK(client != NULL && server != NULL && server_ctx != 0, "B01 client-auth setup"))
        goto out;

    CHECK_RESULT(handshake(server_ctx, with_cert, "localhost", client, server), TLS_RESULT_OK);
    CHECK(peer_certificate_is(server->conn, 0, "B01-client.crt.der"),
          "B01: the server received client.crt, verified by ca-crlf.crt");
    endpoints_free(client, server);

    CHECK_RESULT(handshake(server_ctx, without_cert, "localhost", client, server),
                 TLS_RESULT_TLS_PROTOCOL);
    CHECK(last_error_has("TLS error", NULL), tls_last_error());
    endpoints_free(client, server);

out:
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(with_cert);
    tls_ctx_release(without_cert);
}

/* Step 5: rewriting the LF files with CRLF (the same material) is never an error. */
static void test_b01_reload_lf_to_crlf(void)
{
    const char *leaf[] = {"B01-server.crt.der"};
    char dir[4096], cert_path[4200], key_path[4200];
    tls_config *config;
    uint64_t reloader = 0;
    tls_reload_outcome outcome = (tls_reload_outcome)77;

    if (!CHECK(scratch_dir(dir, sizeof(dir), "b01"), "scratch directory"))
        return;
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(case_path("B01", "server.crt"), cert_path), "copy B01 server.crt");
    CHECK(copy_file(case_path("B01", "server.key"), key_path), "copy B01 server.key");
    config = server_config(cert_path, key_path, NULL);
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    tls_config_free(config);

    CHECK(copy_file(case_path("B01", "server-crlf.crt"), cert_path), "write the CRLF chain");
    CHECK(copy_file(case_path("B01", "server-crlf.key"), key_path), "write the CRLF key");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_SWAPPED || outcome == TLS_RELOAD_OUTCOME_UNCHANGED,
          "LF to CRLF reloads as swapped or unchanged");
    check_reloader_serves(reloader, outcome == TLS_RELOAD_OUTCOME_SWAPPED ? 2 : 1,
                          case_path("B01", "ca.crt"), leaf, 1, "B01 after the CRLF reload");

    tls_reloader_free(reloader);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
}

/* ---- B03: text around the PEM blocks -------------------------------------------------------- */

static void test_b03_text_before_blocks(void)
{
    const char *chain[] = {"B03-server.crt.der", "B03-ca.crt.der"};
    uint64_t handle = 0;
    char *password = case_password("B03");
    char trad_key[4096];

    snprintf(trad_key, sizeof(trad_key), "%s", case_path("B03", "key-bagattrs-trad-des3.pem"));

    /* Step 1: Bag Attributes and subject=/issuer= lines before the leaf, the CA and the key. */
    CHECK_RESULT(load_server(case_path("B03", "chain-bagattrs.crt"),
                             case_path("B03", "key-bagattrs.pem"), NULL, &handle),
                 TLS_RESULT_OK);
    check_serves(handle, case_path("B03", "ca.crt"), chain, 2, "B03 chain-bagattrs.crt");
    tls_ctx_release(handle);

    /* Steps 2 and 3. */
    check_loads(case_path("B03", "chain-subject-lines.crt"), case_path("B03", "server.key"),
                NULL, "B03-server.crt", "B03-ca.crt.der", case_path("B03", "ca.crt"));
    check_loads(case_path("B03", "server-with-text-dump.crt"), case_path("B03", "server.key"),
                NULL, "B03-server.crt", NULL, case_path("B03", "ca.crt"));

    /* Step 4: a traditional DES3 key after Bag Attributes; without its password it is an
     * encrypted key, never "no private key found". */
    CHECK(password != NULL, "read B03 password.txt");
    check_loads(case_path("B03", "server.crt"), trad_key, password, "B03-server.crt",
                NULL, case_path("B03", "ca.crt"));
    check_load_fails(case_path("B03", "server.crt"), trad_key, NULL, TLS_RESULT_KEY_ENCRYPTED,
                     trad_key, "private key is encrypted and no password was given");
    free(password);
}

/* ---- B05: PKCS#1 RSA keys ------------------------------------------------------------------- */

static void test_b05_pkcs1_keys(void)
{
    tls_config *config = server_config(case_path("B05", "server.crt"),
                                       case_path("B05", "server-pkcs1.key"), NULL);
    uint64_t server_ctx = 0;
    uint64_t client_ctx = load_client(case_path("B05", "ca.crt"), case_path("B05", "client.crt"),
                                      case_path("B05", "client-pkcs1.key"));
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));

    check_loads(case_path("B05", "server.crt"), case_path("B05", "server-pkcs1.key"), NULL,
                "B05-server.crt", NULL, case_path("B05", "ca.crt"));
    check_loads(case_path("B05", "server.crt"), case_path("B05", "server-pkcs8.key"), NULL,
                "B05-server.crt", NULL, case_path("B05", "ca.crt"));

    /* Step 3: a client identity with a PKCS#1 key against a server requiring client
     * certificates. */
    CHECK_RESULT(tls_config_set_trust_bundle(config, case_path("B05", "ca.crt")), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_client_auth(config, TLS_CLIENT_AUTH_REQUIRE), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_OK);
    tls_config_free(config);
    if (CHECK(client != NULL && server != NULL && client_ctx != 0, "B05 client-auth setup")) {
        CHECK_RESULT(handshake(server_ctx, client_ctx, "localhost", client, server),
                     TLS_RESULT_OK);
        CHECK(peer_certificate_is(server->conn, 0, "B05-client.crt.der"),
              "B05: the server received client.crt");
        endpoints_free(client, server);
    }
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(client_ctx);
}

/* ---- B08, B09, B11: encrypted keys ---------------------------------------------------------- */

/* One encrypted key and the certificate it belongs to. */
struct encrypted_key {
    const char *case_name;
    const char *key;
    const char *cert;
};

static const struct encrypted_key encrypted_keys[] = {
    {"B08", "server-rsa-trad-aes256.key", "server-rsa.crt"},
    {"B08", "server-rsa-trad-des3.key", "server-rsa.crt"},
    {"B08", "server-ec-trad-aes128.key", "server-ec.crt"},
    {"B09", "server-rsa-pbes2-aes256-sha256.key", "server-rsa.crt"},
    {"B09", "server-rsa-pbes2-aes128-sha1.key", "server-rsa.crt"},
    {"B09", "server-rsa-pbes2-des3.key", "server-rsa.crt"},
    {"B09", "server-rsa-pbes2-scrypt.key", "server-rsa.crt"},
    {"B09", "server-ec-pbes2-aes256.key", "server-ec.crt"},
    {"B11", "server-encrypted.key", "server.crt"},
};

/* Each key loads with its password and serves its leaf; a wrong password and a missing one are
 * two distinct errors naming the key. */
static void test_encrypted_keys(void)
{
    for (size_t i = 0; i < sizeof(encrypted_keys) / sizeof(encrypted_keys[0]); i++) {
        const struct encrypted_key *entry = &encrypted_keys[i];
        char *password = case_password(entry->case_name);
        char key[4096], cert[4096], leaf_name[256];

        snprintf(key, sizeof(key), "%s", case_path(entry->case_name, entry->key));
        snprintf(cert, sizeof(cert), "%s", case_path(entry->case_name, entry->cert));
        snprintf(leaf_name, sizeof(leaf_name), "%s-%s", entry->case_name, entry->cert);
        if (!CHECK(password != NULL, "read password.txt"))
            continue;

        check_loads(cert, key, password, leaf_name, NULL,
                    case_path(entry->case_name, "ca.crt"));
        check_load_fails(cert, key, "not-the-password", TLS_RESULT_WRONG_PASSWORD, key,
                         "wrong password for the encrypted private key");
        check_load_fails(cert, key, NULL, TLS_RESULT_KEY_ENCRYPTED, key,
                         "private key is encrypted and no password was given");
        free(password);
    }
}

/* B11: a password given for a plain key is ignored; an empty password counts as none. */
static void test_b11_password_and_plain_key(void)
{
    char *password = case_password("B11");
    char encrypted[4096];

    snprintf(encrypted, sizeof(encrypted), "%s", case_path("B11", "server-encrypted.key"));

    if (!CHECK(password != NULL, "read B11 password.txt"))
        return;
    check_loads(case_path("B11", "server.crt"), case_path("B11", "server-plain.key"), password,
                "B11-server.crt", NULL, case_path("B11", "ca.crt"));
    check_load_fails(case_path("B11", "server.crt"), encrypted, "", TLS_RESULT_KEY_ENCRYPTED,
                     encrypted, "private key is encrypted and no password was given");
    free(password);
}

/* B08 step 5: the password is kept for reloads after the configuration is freed. */
static void test_b08_reload_keeps_the_password(void)
{
    const char *rsa_leaf[] = {"B08-server-rsa.crt.der"};
    char dir[4096], cert_path[4200], key_path[4200];
    char *password = case_password("B08");
    tls_config *config;
    uint64_t reloader = 0;
    tls_reload_outcome outcome = (tls_reload_outcome)77;

    if (!CHECK(password != NULL && scratch_dir(dir, sizeof(dir), "b08"), "B08 setup")) {
        free(password);
        return;
    }
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(case_path("B08", "server-rsa.crt"), cert_path), "copy server-rsa.crt");
    CHECK(copy_file(case_path("B08", "server-rsa-trad-aes256.key"), key_path), "copy the key");
    config = server_config(cert_path, key_path, password);
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    tls_config_free(config);
    free(password);

    /* The same key encrypted again with DES3: new bytes, so the reload must decrypt. */
    CHECK(copy_file(case_path("B08", "server-rsa-trad-des3.key"), key_path), "rewrite the key");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_SWAPPED, "the re-encrypted key swaps in");
    check_reloader_serves(reloader, 2, case_path("B08", "ca.crt"), rsa_leaf, 1,
                          "B08 after the reload");

    tls_reloader_free(reloader);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
}

/* ---- B12: Ed25519 and Ed448 ----------------------------------------------------------------- */

static void test_b12_edwards_keys(void)
{
    tls_config *config = server_config(case_path("B12", "server-ed25519.crt"),
                                       case_path("B12", "server-ed25519.key"), NULL);
    uint64_t server_ctx = 0;
    uint64_t client_ctx = load_client(case_path("B12", "ca.crt"),
                                      case_path("B12", "client-ed25519.crt"),
                                      case_path("B12", "client-ed25519.key"));
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    char ed448_key[4096];
    uint16_t version = 0;

    snprintf(ed448_key, sizeof(ed448_key), "%s", case_path("B12", "server-ed448.key"));

    check_loads(case_path("B12", "server-ed25519.crt"), case_path("B12", "server-ed25519.key"),
                NULL, "B12-server-ed25519.crt", NULL, case_path("B12", "ca.crt"));

    /* Steps 1 and 2: a TLS 1.3 handshake where both sides sign with Ed25519. */
    CHECK_RESULT(tls_config_set_trust_bundle(config, case_path("B12", "ca.crt")), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_client_auth(config, TLS_CLIENT_AUTH_REQUIRE), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_versions(config, TLS_VERSION_TLS13), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_OK);
    tls_config_free(config);
    if (CHECK(client != NULL && server != NULL && client_ctx != 0, "B12 setup")) {
        CHECK_RESULT(handshake(server_ctx, client_ctx, "localhost", client, server),
                     TLS_RESULT_OK);
        CHECK_RESULT(tls_conn_protocol_version(server->conn, &version), TLS_RESULT_OK);
        CHECK(version == 0x0304, "B12: TLS 1.3");
        CHECK(peer_certificate_is(client->conn, 0, "B12-server-ed25519.crt.der"),
              "B12: the client received server-ed25519.crt");
        CHECK(peer_certificate_is(server->conn, 0, "B12-client-ed25519.crt.der"),
              "B12: the server accepted client-ed25519.crt");
        endpoints_free(client, server);
    }

    /* Step 3: the provider does not sign with Ed448, so the load says so. */
    check_load_fails(case_path("B12", "server-ed448.crt"), ed448_key, NULL,
                     TLS_RESULT_UNSUPPORTED_KEY, ed448_key,
                     "unsupported private key: unsupported key type Ed448");

    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(client_ctx);
}

/* ---- B16: empty files and files of the wrong kind ------------------------------------------- */

/* One row of B16's table: the file put in the certificate or the key slot and what it gives. */
struct wrong_file {
    const char *file;
    bool in_cert_slot;
    tls_result code;
    const char *problem;
};

static const struct wrong_file wrong_files[] = {
    {"empty.key", false, TLS_RESULT_FILE_EMPTY, "file is empty"},
    {"blank.key", false, TLS_RESULT_FILE_EMPTY, "file is empty"},
    {"empty.crt", true, TLS_RESULT_FILE_EMPTY, "file is empty"},
    {"key-slot-contains-cert.pem", false, TLS_RESULT_NO_PRIVATE_KEY,
     "no private key found (found a certificate)"},
    {"cert-slot-contains-key.pem", true, TLS_RESULT_NO_CERTIFICATE,
     "no certificate found (found a private key)"},
    {"csr-in-cert-slot.pem", true, TLS_RESULT_NO_CERTIFICATE,
     "no certificate found (found a certificate request)"},
    {"two-keys.key", false, TLS_RESULT_MULTIPLE_PRIVATE_KEYS,
     "expected one private key, found 2"},
    {"empty-block.crt", true, TLS_RESULT_MALFORMED_PEM, "malformed PEM: empty CERTIFICATE block"},
};

#define WRONG_FILE_COUNT (sizeof(wrong_files) / sizeof(wrong_files[0]))

static void test_b16_wrong_files_at_load(void)
{
    for (size_t i = 0; i < WRONG_FILE_COUNT; i++) {
        const struct wrong_file *row = &wrong_files[i];
        char bad[4096];

        snprintf(bad, sizeof(bad), "%s", case_path("B16", row->file));
        if (row->in_cert_slot)
            check_load_fails(bad, case_path("B16", "server.key"), NULL, row->code, bad,
                             row->problem);
        else
            check_load_fails(case_path("B16", "server.crt"), bad, NULL, row->code, bad,
                             row->problem);
    }
}

/* RELOAD-KEEP-OLD for every row: the bad file is written over the served one, the reload fails
 * naming it, generation 1 keeps serving; putting the good file back reloads cleanly. */
static void test_b16_wrong_files_at_reload(void)
{
    const char *leaf[] = {"B16-server.crt.der"};
    char dir[4096], cert_path[4200], key_path[4200];
    char message[2048];
    size_t message_len = 0;
    tls_config *config;
    uint64_t reloader = 0;

    if (!CHECK(scratch_dir(dir, sizeof(dir), "b16"), "scratch directory"))
        return;
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(case_path("B16", "server.crt"), cert_path), "copy B16 server.crt");
    CHECK(copy_file(case_path("B16", "server.key"), key_path), "copy B16 server.key");
    config = server_config(cert_path, key_path, NULL);
    if (!CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK))
        goto out;

    for (size_t i = 0; i < WRONG_FILE_COUNT; i++) {
        const struct wrong_file *row = &wrong_files[i];
        const char *slot = row->in_cert_slot ? cert_path : key_path;
        const char *good = case_path("B16", row->in_cert_slot ? "server.crt" : "server.key");
        tls_reload_outcome outcome = (tls_reload_outcome)77;

        CHECK(copy_file(case_path("B16", row->file), slot), row->file);
        check_result(tls_reloader_reload(reloader, &outcome), row->code, __FILE__, __LINE__,
                     row->file);
        CHECK(outcome == (tls_reload_outcome)77, "outcome_out is untouched on failure");
        CHECK_MESSAGE(slot, row->problem);
        CHECK_RESULT(tls_reloader_last_error(reloader, message, sizeof(message), &message_len),
                     TLS_RESULT_OK);
        CHECK(strstr(message, slot) != NULL && strstr(message, row->problem) != NULL, message);
        check_reloader_serves(reloader, 1, case_path("B16", "ca.crt"), leaf, 1, row->file);

        CHECK(copy_file(good, slot), "restore the served file");
        CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
        CHECK(outcome == TLS_RELOAD_OUTCOME_UNCHANGED, "restoring the served file is unchanged");
        CHECK_RESULT(tls_reloader_last_error(reloader, message, sizeof(message), &message_len),
                     TLS_RESULT_OK);
        CHECK(message_len == 0, "the restoring reload clears the reload error");
    }
    check_reloader_serves(reloader, 1, case_path("B16", "ca.crt"), leaf, 1, "B16 at the end");

out:
    tls_config_free(config);
    if (reloader != 0)
        tls_reloader_free(reloader);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
}

/* ---- B18: DER where PEM is expected --------------------------------------------------------- */

static void test_b18_der_files(void)
{
    const char *der_leaf[1];
    const char *key_names[] = {"server-key-pkcs8.der", "server-key-pkcs1.der"};
    char bare[4096], server_der[4096];
    tls_config *config;
    uint64_t handle = 0;

    /* Steps 1 and 2: DER certificate, DER keys and a DER trust bundle are detected by content;
     * the served leaf is server.der itself. */
    snprintf(bare, sizeof(bare), "%s", case_path("B18", "server-bare-base64.txt"));
    snprintf(server_der, sizeof(server_der), "%s", case_path("B18", "server.der"));
    der_leaf[0] = server_der;
    for (size_t i = 0; i < 2; i++) {
        CHECK_RESULT(load_server(server_der, case_path("B18", key_names[i]), NULL, &handle),
                     TLS_RESULT_OK);
        check_serves(handle, case_path("B18", "ca.der"), der_leaf, 1, key_names[i]);
        tls_ctx_release(handle);
    }
    config = server_config(server_der, case_path("B18", "server-key-pkcs8.der"), NULL);
    CHECK_RESULT(tls_config_set_trust_bundle(config, case_path("B18", "ca.der")), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_client_auth(config, TLS_CLIENT_AUTH_REQUIRE), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_OK);
    tls_config_free(config);
    tls_ctx_release(handle);

    /* Step 3. */
    check_load_fails(bare, case_path("B18", "server.key"), NULL, TLS_RESULT_MALFORMED_PEM, bare,
                     "malformed PEM: no PEM BEGIN/END armour found");
}

/* ---- B19: a key that does not match the certificate ----------------------------------------- */

static void test_b19_mismatched_keys(void)
{
    const char *leaf[] = {"B19-server.crt.der"};
    const char *keys[] = {"other-rsa.key", "other-ec.key"};
    char dir[4096], cert_path[4200], key_path[4200], problem[8192];
    tls_config *config = NULL;
    uint64_t handle = 0;
    uint64_t reloader = 0;
    tls_reload_outcome outcome;

    /* Step 1. */
    for (size_t i = 0; i < 2; i++) {
        char key[4096];

        snprintf(key, sizeof(key), "%s", case_path("B19", keys[i]));
        snprintf(problem, sizeof(problem),
                 "private key does not match the certificate's public key (certificate %s)",
                 case_path("B19", "server.crt"));
        check_load_fails(case_path("B19", "server.crt"), key, NULL, TLS_RESULT_KEY_MISMATCH, key,
                         problem);
    }

    /* Step 2: a client identity is checked the same way. */
    CHECK_RESULT(tls_config_new(TLS_ROLE_CLIENT, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_trust_bundle(config, case_path("B19", "ca.crt")), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_cert_chain(config, case_path("B19", "client.crt")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_private_key(config, case_path("B19", "client-other.key")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_KEY_MISMATCH);
    snprintf(problem, sizeof(problem),
             "private key does not match the certificate's public key (certificate %s)",
             case_path("B19", "client.crt"));
    CHECK_MESSAGE(case_path("B19", "client-other.key"), problem);
    tls_config_free(config);

    /* Step 3: RELOAD-KEEP-OLD, and a later valid change is picked up. */
    if (!CHECK(scratch_dir(dir, sizeof(dir), "b19"), "scratch directory"))
        return;
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(case_path("B19", "server.crt"), cert_path), "copy B19 server.crt");
    CHECK(copy_file(case_path("B19", "server.key"), key_path), "copy B19 server.key");
    config = server_config(cert_path, key_path, NULL);
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    tls_config_free(config);

    CHECK(copy_file(case_path("B19", "other-rsa.key"), key_path), "write other-rsa.key");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_KEY_MISMATCH);
    snprintf(problem, sizeof(problem),
             "private key does not match the certificate's public key (certificate %s)",
             cert_path);
    CHECK_MESSAGE(key_path, problem);
    check_reloader_serves(reloader, 1, case_path("B19", "ca.crt"), leaf, 1, "B19 kept");

    CHECK(copy_file(case_path("B05", "server.crt"), cert_path), "rotate to B05 server.crt");
    CHECK(copy_file(case_path("B05", "server-pkcs8.key"), key_path), "rotate to B05 key");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_SWAPPED, "a valid change after the failure swaps");
    leaf[0] = "B05-server.crt.der";
    check_reloader_serves(reloader, 2, case_path("B05", "ca.crt"), leaf, 1, "B19 then B05");

    tls_reloader_free(reloader);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
}

/* ---- B21: PKCS#12 files --------------------------------------------------------------------- */

static tls_result load_pkcs12(const char *path, const char *password, uint64_t *handle_out)
{
    tls_config *config = NULL;
    tls_result result = tls_config_new(TLS_ROLE_SERVER, &config);

    *handle_out = 0;
    if (result == TLS_RESULT_OK)
        result = tls_config_set_pkcs12(config, path);
    if (result == TLS_RESULT_OK && password != NULL)
        result = tls_config_set_key_password(config, password);
    if (result == TLS_RESULT_OK)
        result = tls_ctx_load(config, handle_out);
    tls_config_free(config);
    return result;
}

static void test_b21_pkcs12(void)
{
    const char *chain[] = {"B21-server.crt.der", "B21-ca.crt.der"};
    const char *files[] = {"server-openssl3-default.p12", "server-legacy-3des-rc2.p12",
                           "server-nomac.p12"};
    char *password = case_password("B21");
    char p12[4096];
    uint64_t handle = 0;

    snprintf(p12, sizeof(p12), "%s", case_path("B21", "server-openssl3-default.p12"));
    if (!CHECK(password != NULL, "read B21 password.txt"))
        return;
    for (size_t i = 0; i < 3; i++) {
        const char *path = case_path("B21", files[i]);

        if (!CHECK_RESULT(load_pkcs12(path, password, &handle), TLS_RESULT_OK))
            continue;
        CHECK(leaf_fingerprint_is(handle, "B21-server.crt"), files[i]);
        check_serves(handle, case_path("B21", "ca.crt"), chain, 2, files[i]);
        tls_ctx_release(handle);
    }

    /* Step 2: a wrong password; without one the file cannot be opened either. */
    CHECK_RESULT(load_pkcs12(p12, "not-the-password", &handle), TLS_RESULT_WRONG_PASSWORD);
    CHECK_MESSAGE(p12, "wrong password for the encrypted private key");
    CHECK(handle == 0, "no context from a wrong PKCS#12 password");

    /* Step 4: the PEM path given a PKCS#12 file. */
    check_load_fails(p12, case_path("B21", "server.key"), NULL, TLS_RESULT_MALFORMED_PEM, p12,
                     "malformed PEM: file is PKCS#12, not PEM");
    free(password);
}

/* ---- The configuration surface -------------------------------------------------------------- */

/* Writes `text` to `<dir>/tls.properties` and returns that path in `path`. */
static bool write_properties(const char *dir, const char *text, char *path, size_t size)
{
    join_path(path, size, dir, "tls.properties");
    return write_file(path, text, strlen(text));
}

static void test_broker_properties(void)
{
    char dir[4096], path[4200], text[16384];
    tls_config *config = NULL;
    uint64_t server_ctx = 0;
    uint64_t client_ctx = 0;
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));

    if (!CHECK(client != NULL && server != NULL && scratch_dir(dir, sizeof(dir), "properties"),
               "properties setup"))
        goto out;

    snprintf(text, sizeof(text),
             "# broker TLS\ntls.test.mode.enable=false\ntls.server.need.client.auth=require\n"
             "tls.server.certPath=%s\ntls.server.keyPath=%s\ntls.server.trustCertPath=%s\n",
             case_path("B05", "server.crt"), case_path("B05", "server-pkcs1.key"),
             case_path("B05", "ca.crt"));
    CHECK(write_properties(dir, text, path, sizeof(path)), "write the server tls.properties");
    CHECK_RESULT(tls_config_from_properties(path, TLS_ROLE_SERVER, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_OK);
    tls_config_free(config);
    config = NULL;
    CHECK(leaf_fingerprint_is(server_ctx, "B05-server.crt"), "properties: B05 server.crt");

    snprintf(text, sizeof(text),
             "tls.test.mode.enable=false\ntls.client.authServer=true\ntls.client.certPath=%s\n"
             "tls.client.keyPath=%s\ntls.client.trustCertPath=%s\n",
             case_path("B05", "client.crt"), case_path("B05", "client-pkcs1.key"),
             case_path("B05", "ca.crt"));
    CHECK(write_properties(dir, text, path, sizeof(path)), "write the client tls.properties");
    CHECK_RESULT(tls_config_from_properties(path, TLS_ROLE_CLIENT, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &client_ctx), TLS_RESULT_OK);
    tls_config_free(config);
    config = NULL;

    CHECK_RESULT(handshake(server_ctx, client_ctx, "localhost", client, server), TLS_RESULT_OK);
    CHECK(peer_certificate_is(server->conn, 0, "B05-client.crt.der"),
          "properties: the server required and got B05 client.crt");
    CHECK(peer_certificate_is(client->conn, 0, "B05-server.crt.der"),
          "properties: the client verified B05 server.crt");
    endpoints_free(client, server);

    CHECK(write_properties(dir, "tls.server.need.client.auth=always\n", path, sizeof(path)),
          "write a bad tls.properties");
    CHECK_RESULT(tls_config_from_properties(path, TLS_ROLE_SERVER, &config),
                 TLS_RESULT_INVALID_CONFIG);
    CHECK(config == NULL, "no configuration from a bad properties file");
    CHECK_MESSAGE_START("invalid configuration", path);
    CHECK(last_error_has(": tls.server.need.client.auth=always is not valid; expected none, "
                         "optional or require",
                         NULL),
          tls_last_error());

    unlink(path);
    CHECK_RESULT(tls_config_from_properties(path, TLS_ROLE_SERVER, &config),
                 TLS_RESULT_FILE_NOT_FOUND);
    CHECK_MESSAGE(path, "file not found");
    rmdir(dir);

out:
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(client_ctx);
}

static void test_material_in_memory(void)
{
    const char *leaf[] = {"B05-server.crt.der"};
    const char *cert_name = "keystore alias \"broker\"";
    const char *key_name = "keystore alias \"broker\" key";
    size_t cert_len = 0, key_len = 0, other_len = 0;
    uint8_t *cert = read_file(case_path("B05", "server.crt"), &cert_len);
    uint8_t *key = read_file(case_path("B05", "server-pkcs8.key"), &key_len);
    uint8_t *other_key = read_file(case_path("B19", "other-rsa.key"), &other_len);
    tls_config *config = NULL;
    uint64_t reloader = 0;
    uint64_t handle = 0;
    tls_reload_outcome outcome;
    char problem[512];

    if (!CHECK(cert != NULL && key != NULL && other_key != NULL, "read in-memory material"))
        goto out;
    CHECK_RESULT(tls_config_new(TLS_ROLE_SERVER, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_material(config, TLS_MATERIAL_CERT_CHAIN, cert_name, cert,
                                         cert_len),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_material(config, TLS_MATERIAL_PRIVATE_KEY, key_name, key,
                                         key_len),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_UNCHANGED, "in-memory material never changes");
    check_reloader_serves(reloader, 1, case_path("B05", "ca.crt"), leaf, 1, "in memory");

    /* Errors name the material by the name it was given. */
    CHECK_RESULT(tls_config_set_material(config, TLS_MATERIAL_PRIVATE_KEY, key_name, other_key,
                                         other_len),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_KEY_MISMATCH);
    snprintf(problem, sizeof(problem),
             "private key does not match the certificate's public key (certificate %s)",
             cert_name);
    CHECK_MESSAGE(key_name, problem);
    CHECK_RESULT(tls_config_set_material(config, TLS_MATERIAL_PRIVATE_KEY, key_name, key, 0),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_FILE_EMPTY);
    CHECK_MESSAGE(key_name, "file is empty");
    CHECK_RESULT(tls_config_set_material(config, 42, key_name, key, key_len),
                 TLS_RESULT_INVALID_ARGUMENT);

out:
    tls_config_free(config);
    if (reloader != 0)
        tls_reloader_free(reloader);
    free(cert);
    free(key);
    free(other_key);
}

/* A client that asks for localhost by SNI gets B01's leaf; one that connects by IP address
 * (no SNI) gets the main B05 chain. */
static void test_identity_for_server_name(void)
{
    tls_config *config = server_config(case_path("B05", "server.crt"),
                                       case_path("B05", "server-pkcs8.key"), NULL);
    tls_config *client_config = NULL;
    uint64_t server_ctx = 0;
    uint64_t trusts_b01 = load_client(case_path("B01", "ca.crt"), NULL, NULL);
    uint64_t trusts_b05 = load_client(case_path("B05", "ca.crt"), NULL, NULL);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    const char *missing = material_path("absent.crt");

    CHECK_RESULT(tls_config_add_identity_for_name(config, "LocalHost",
                                                  case_path("B01", "server.crt"),
                                                  case_path("B01", "server.key")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_OK);
    if (!CHECK(client != NULL && server != NULL && server_ctx != 0, "SNI setup"))
        goto out;

    CHECK_RESULT(handshake(server_ctx, trusts_b01, "localhost", client, server), TLS_RESULT_OK);
    CHECK(peer_certificate_is(client->conn, 0, "B01-server.crt.der"),
          "SNI localhost: B01 server.crt");
    endpoints_free(client, server);
    CHECK_RESULT(handshake(server_ctx, trusts_b05, "127.0.0.1", client, server), TLS_RESULT_OK);
    CHECK(peer_certificate_is(client->conn, 0, "B05-server.crt.der"),
          "no SNI: the main chain, B05 server.crt");
    endpoints_free(client, server);

    /* A named identity's files are read and checked at load like the main ones. */
    CHECK_RESULT(tls_config_add_identity_for_name(config, "broker.example", missing,
                                                  case_path("B01", "server.key")),
                 TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &(uint64_t){0}), TLS_RESULT_FILE_NOT_FOUND);
    CHECK_MESSAGE(missing, "file not found");

    CHECK_RESULT(tls_config_new(TLS_ROLE_CLIENT, &client_config), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_add_identity_for_name(client_config, "localhost",
                                                  case_path("B01", "server.crt"),
                                                  case_path("B01", "server.key")),
                 TLS_RESULT_WRONG_ROLE);
    CHECK(strcmp(tls_last_error(),
                 "certificates chosen by server name are for server configurations only") == 0,
          tls_last_error());

out:
    tls_config_free(config);
    tls_config_free(client_config);
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(trusts_b01);
    tls_ctx_release(trusts_b05);
}

static void test_cipher_suites(void)
{
    const char *const chosen[] = {"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_CHACHA20_POLY1305_SHA256"};
    const char *const none_offered[] = {"TLS_RSA_WITH_AES_128_CBC_SHA"};
    tls_config *config = server_config(case_path("B05", "server.crt"),
                                       case_path("B05", "server-pkcs8.key"), NULL);
    uint64_t server_ctx = 0;
    uint64_t default_ctx = 0;
    uint64_t client_ctx = load_client(case_path("B05", "ca.crt"), NULL, NULL);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    uint16_t suite = 0;

    /* A name rustls does not offer is skipped; the rest is what the server accepts. */
    CHECK_RESULT(tls_config_set_cipher_suites(config, chosen, 2), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_OK);
    if (CHECK(client != NULL && server != NULL && server_ctx != 0, "cipher suites setup")) {
        CHECK_RESULT(handshake(server_ctx, client_ctx, "localhost", client, server),
                     TLS_RESULT_OK);
        CHECK_RESULT(tls_conn_cipher_suite(client->conn, &suite), TLS_RESULT_OK);
        CHECK(suite == 0x1303, "TLS_CHACHA20_POLY1305_SHA256 (0x1303) is negotiated");
        endpoints_free(client, server);
    }

    CHECK_RESULT(tls_config_set_cipher_suites(config, none_offered, 1), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &(uint64_t){0}), TLS_RESULT_INVALID_CONFIG);
    CHECK(strncmp(tls_last_error(),
                  "invalid configuration: none of the cipher suites TLS_RSA_WITH_AES_128_CBC_SHA "
                  "is offered; offered are ",
                  strlen("invalid configuration: none of the cipher suites "
                         "TLS_RSA_WITH_AES_128_CBC_SHA is offered; offered are ")) == 0,
          tls_last_error());

    /* NULL with 0 restores the default list. */
    CHECK_RESULT(tls_config_set_cipher_suites(config, NULL, 0), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &default_ctx), TLS_RESULT_OK);
    tls_ctx_release(default_ctx);
    CHECK_RESULT(tls_config_set_cipher_suites(config, NULL, 1), TLS_RESULT_NULL_ARGUMENT);

    tls_config_free(config);
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(client_ctx);
}

/* Test mode: a server with no material serves a self-signed localhost certificate that a
 * test-mode client accepts and a verifying client refuses. */
static void test_test_mode(void)
{
    tls_config *config = NULL;
    uint64_t reloader = 0;
    uint64_t server_ctx = 0;
    uint64_t test_client = 0;
    uint64_t verifying_client = load_client(case_path("B05", "ca.crt"), NULL, NULL);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    tls_reload_outcome outcome;
    tls_ctx_info info;
    const uint8_t *der = NULL;
    size_t len = 0;

    CHECK_RESULT(tls_config_new(TLS_ROLE_SERVER, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &server_ctx), TLS_RESULT_INVALID_CONFIG);
    CHECK_RESULT(tls_config_set_test_mode(config, true), TLS_RESULT_OK);
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    tls_config_free(config);
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_UNCHANGED, "the test certificate is made once");

    CHECK_RESULT(tls_config_new(TLS_ROLE_CLIENT, &config), TLS_RESULT_OK);
    CHECK_RESULT(tls_config_set_test_mode(config, true), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &test_client), TLS_RESULT_OK);
    tls_config_free(config);

    if (!CHECK(client != NULL && server != NULL &&
                   tls_reloader_current(reloader, &server_ctx) == TLS_RESULT_OK,
               "test mode setup"))
        goto out;
    CHECK_RESULT(tls_ctx_info_get(server_ctx, &info), TLS_RESULT_OK);
    CHECK(strlen(info.fingerprint) == 64, "the test certificate has a fingerprint");
    CHECK_RESULT(handshake(server_ctx, test_client, "localhost", client, server), TLS_RESULT_OK);
    CHECK_RESULT(tls_conn_peer_certificate(client->conn, 0, &der, &len), TLS_RESULT_OK);
    CHECK(len > 0, "the test-mode client received a certificate");
    CHECK(exchange(client, server, "test mode\n"), "data flows in test mode");
    endpoints_free(client, server);

    CHECK_RESULT(handshake(server_ctx, verifying_client, "localhost", client, server),
                 TLS_RESULT_TLS_PROTOCOL);
    CHECK(last_error_has("TLS error: invalid peer certificate", NULL), tls_last_error());
    endpoints_free(client, server);

out:
    free(client);
    free(server);
    if (server_ctx != 0)
        tls_ctx_release(server_ctx);
    tls_ctx_release(test_client);
    tls_ctx_release(verifying_client);
    tls_reloader_free(reloader);
}

/* The leaves in MATERIAL_DIR/validity were made by `openssl ca` with fixed dates: expired in 2021
 * and 2022, valid from 2040, and valid from 2024 to 2048. */
static void test_leaf_validity(void)
{
    char dir[4096], cert_path[4200], key_path[4200];
    char expired[4096], expired_later[4096], future[4096], current[4096], key[4096];
    tls_config *config;
    uint64_t reloader = 0;
    uint64_t handle = 0;
    tls_reload_outcome outcome;

    snprintf(expired, sizeof(expired), "%s", material_path("validity/expired-1.crt"));
    snprintf(expired_later, sizeof(expired_later), "%s", material_path("validity/expired-2.crt"));
    snprintf(future, sizeof(future), "%s", material_path("validity/future.crt"));
    snprintf(current, sizeof(current), "%s", material_path("validity/current.crt"));
    snprintf(key, sizeof(key), "%s", material_path("validity/leaf.key"));

    CHECK_RESULT(load_server(current, key, NULL, &handle), TLS_RESULT_OK);
    tls_ctx_release(handle);

    CHECK_RESULT(load_server(expired, key, NULL, &handle), TLS_RESULT_CERTIFICATE_EXPIRED);
    CHECK_MESSAGE_START(expired, "certificate expired: valid until Jan  1 00:00:00 2021 +00:00, "
                                 "now ");
    CHECK_RESULT(load_server(future, key, NULL, &handle), TLS_RESULT_CERTIFICATE_NOT_YET_VALID);
    CHECK_MESSAGE_START(future, "certificate not yet valid: valid from Jan  1 00:00:00 2040 "
                                "+00:00, now ");

    /* Allowed at the first load only: a reload never swaps to an expired leaf. */
    config = server_config(expired, key, NULL);
    CHECK_RESULT(tls_config_set_allow_expired_leaf(config, true), TLS_RESULT_OK);
    CHECK_RESULT(tls_ctx_load(config, &handle), TLS_RESULT_OK);
    tls_ctx_release(handle);
    tls_config_free(config);

    if (!CHECK(scratch_dir(dir, sizeof(dir), "validity"), "scratch directory"))
        return;
    join_path(cert_path, sizeof(cert_path), dir, "server.crt");
    join_path(key_path, sizeof(key_path), dir, "server.key");
    CHECK(copy_file(expired, cert_path), "copy the expired leaf");
    CHECK(copy_file(key, key_path), "copy its key");
    config = server_config(cert_path, key_path, NULL);
    CHECK_RESULT(tls_config_set_allow_expired_leaf(config, true), TLS_RESULT_OK);
    CHECK_RESULT(tls_reloader_new(config, 0, &reloader), TLS_RESULT_OK);
    tls_config_free(config);

    CHECK(copy_file(expired_later, cert_path), "write another expired leaf");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_CERTIFICATE_EXPIRED);
    CHECK_MESSAGE_START(cert_path, "certificate expired: valid until ");
    CHECK(reloader_generation(reloader) == 1, "the expired leaf was not swapped in");

    CHECK(copy_file(current, cert_path), "write the renewed leaf");
    CHECK_RESULT(tls_reloader_reload(reloader, &outcome), TLS_RESULT_OK);
    CHECK(outcome == TLS_RELOAD_OUTCOME_SWAPPED, "the renewal swaps in");
    CHECK(reloader_generation(reloader) == 2, "generation 2 after the renewal");

    tls_reloader_free(reloader);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
}

/* ---- Every result code ---------------------------------------------------------------------- */

/* Each trigger makes one call fail with its code and writes into `named` the path the message
 * must name, or an empty string when the problem is not about a file. */
typedef tls_result (*error_trigger)(char *named, size_t size);

static tls_result trigger_null_argument(char *named, size_t size)
{
    snprintf(named, size, "%s", "");
    return tls_config_set_cert_chain(NULL, "server.crt");
}

static tls_result trigger_invalid_argument(char *named, size_t size)
{
    tls_config *config = NULL;
    tls_result result;

    snprintf(named, size, "%s", "");
    if (tls_config_new(TLS_ROLE_SERVER, &config) != TLS_RESULT_OK)
        return TLS_RESULT_OK;
    result = tls_config_set_cert_chain(config, "\xff\xfe.crt");
    tls_config_free(config);
    return result;
}

static tls_result trigger_invalid_handle(char *named, size_t size)
{
    snprintf(named, size, "%s", "");
    return tls_ctx_release((UINT64_C(0x7ffffff1) << 32) | UINT64_C(0x7ffffff1));
}

static tls_result trigger_wrong_role(char *named, size_t size)
{
    uint64_t server_ctx = 0;
    tls_conn *conn = NULL;
    tls_result result;

    snprintf(named, size, "%s", "");
    if (load_server(case_path("B05", "server.crt"), case_path("B05", "server-pkcs8.key"), NULL,
                    &server_ctx) != TLS_RESULT_OK)
        return TLS_RESULT_OK;
    result = tls_conn_new_client(server_ctx, "localhost", &conn);
    tls_conn_free(conn);
    tls_ctx_release(server_ctx);
    return result;
}

/* Writing plaintext after close_notify. */
static tls_result trigger_invalid_state(char *named, size_t size)
{
    uint64_t server_ctx = 0;
    uint64_t client_ctx = load_client(case_path("B05", "ca.crt"), NULL, NULL);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    size_t written = 0;
    tls_result result = TLS_RESULT_OK;

    snprintf(named, size, "%s", "");
    if (client != NULL && server != NULL &&
        load_server(case_path("B05", "server.crt"), case_path("B05", "server-pkcs8.key"), NULL,
                    &server_ctx) == TLS_RESULT_OK &&
        handshake(server_ctx, client_ctx, "localhost", client, server) == TLS_RESULT_OK &&
        tls_conn_send_close_notify(client->conn) == TLS_RESULT_OK)
        result = tls_conn_write(client->conn, (const uint8_t *)"late", 4, &written);
    if (client != NULL && server != NULL)
        endpoints_free(client, server);
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(client_ctx);
    return result;
}

static tls_result trigger_buffer_too_small(char *named, size_t size)
{
    uint64_t handle = 0;
    char subject[1];
    size_t len = 0;
    tls_result result;

    snprintf(named, size, "%s", "");
    if (load_server(case_path("B05", "server.crt"), case_path("B05", "server-pkcs8.key"), NULL,
                    &handle) != TLS_RESULT_OK)
        return TLS_RESULT_OK;
    result = tls_ctx_subject(handle, subject, sizeof(subject), &len);
    tls_ctx_release(handle);
    return result;
}

static tls_result trigger_file_not_found(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", material_path("no-such-file.key"));
    return load_server(case_path("B05", "server.crt"), named, NULL, &handle);
}

/* A directory: root reads a mode 000 file anyway, so a permission test would not fail as root. */
static tls_result trigger_file_unreadable(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", material_dir);
    return load_server(case_path("B05", "server.crt"), named, NULL, &handle);
}

static tls_result trigger_file_empty(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B16", "empty.key"));
    return load_server(case_path("B16", "server.crt"), named, NULL, &handle);
}

static tls_result trigger_malformed_pem(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B18", "server-bare-base64.txt"));
    return load_server(named, case_path("B18", "server.key"), NULL, &handle);
}

static tls_result trigger_no_certificate(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B16", "cert-slot-contains-key.pem"));
    return load_server(named, case_path("B16", "server.key"), NULL, &handle);
}

static tls_result trigger_no_private_key(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B16", "key-slot-contains-cert.pem"));
    return load_server(case_path("B16", "server.crt"), named, NULL, &handle);
}

static tls_result trigger_multiple_private_keys(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B16", "two-keys.key"));
    return load_server(case_path("B16", "server.crt"), named, NULL, &handle);
}

static tls_result trigger_key_encrypted(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B09", "server-rsa-pbes2-aes256-sha256.key"));
    return load_server(case_path("B09", "server-rsa.crt"), named, NULL, &handle);
}

static tls_result trigger_wrong_password(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B08", "server-ec-trad-aes128.key"));
    return load_server(case_path("B08", "server-ec.crt"), named, "wrong", &handle);
}

/* B08's AES-256 key relabelled as Camellia, a cipher tlsctx does not decrypt. */
static tls_result trigger_unsupported_encryption(char *named, size_t size)
{
    size_t len = 0;
    uint8_t *text = read_file(case_path("B08", "server-rsa-trad-aes256.key"), &len);
    char *relabelled = malloc(len + 16);
    const char *cipher;
    uint64_t handle = 0;
    tls_result result = TLS_RESULT_OK;

    snprintf(named, size, "%s", material_path("camellia.key"));
    if (text != NULL && relabelled != NULL) {
        memcpy(relabelled, text, len);
        relabelled[len] = '\0';
        cipher = strstr(relabelled, "DEK-Info: AES-256-CBC");
        if (cipher != NULL) {
            size_t at = (size_t)(cipher - relabelled) + strlen("DEK-Info: ");
            size_t tail = len - at - strlen("AES-256-CBC");
            char rest[4096];

            memcpy(rest, relabelled + at + strlen("AES-256-CBC"), tail);
            memcpy(relabelled + at, "CAMELLIA-256-CBC", strlen("CAMELLIA-256-CBC"));
            memcpy(relabelled + at + strlen("CAMELLIA-256-CBC"), rest, tail);
            len += strlen("CAMELLIA-256-CBC") - strlen("AES-256-CBC");
            if (write_file(named, relabelled, len))
                result = load_server(case_path("B08", "server-rsa.crt"), named, NULL, &handle);
        }
    }
    free(text);
    free(relabelled);
    return result;
}

static tls_result trigger_unsupported_key(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B12", "server-ed448.key"));
    return load_server(case_path("B12", "server-ed448.crt"), named, NULL, &handle);
}

static tls_result trigger_key_mismatch(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", case_path("B19", "other-ec.key"));
    return load_server(case_path("B19", "server.crt"), named, NULL, &handle);
}

/* A CERTIFICATE block whose base64 holds no certificate. */
static tls_result trigger_invalid_certificate(char *named, size_t size)
{
    static const char garbage[] =
        "-----BEGIN CERTIFICATE-----\naGVsbG8sIHdvcmxk\n-----END CERTIFICATE-----\n";
    uint64_t handle = 0;

    snprintf(named, size, "%s", material_path("garbage.crt"));
    if (!write_file(named, garbage, strlen(garbage)))
        return TLS_RESULT_OK;
    return load_server(named, case_path("B05", "server-pkcs8.key"), NULL, &handle);
}

/* A server configuration without a private key. */
static tls_result trigger_invalid_config(char *named, size_t size)
{
    tls_config *config = NULL;
    uint64_t handle = 0;
    tls_result result;

    snprintf(named, size, "%s", "");
    if (tls_config_new(TLS_ROLE_SERVER, &config) != TLS_RESULT_OK)
        return TLS_RESULT_OK;
    tls_config_set_cert_chain(config, case_path("B05", "server.crt"));
    result = tls_ctx_load(config, &handle);
    tls_config_free(config);
    return result;
}

static tls_result trigger_certificate_expired(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", material_path("validity/expired-1.crt"));
    return load_server(named, material_path("validity/leaf.key"), NULL, &handle);
}

static tls_result trigger_certificate_not_yet_valid(char *named, size_t size)
{
    uint64_t handle = 0;

    snprintf(named, size, "%s", material_path("validity/future.crt"));
    return load_server(named, material_path("validity/leaf.key"), NULL, &handle);
}

/* A client that does not trust the server's CA. */
static tls_result trigger_tls_protocol(char *named, size_t size)
{
    uint64_t server_ctx = 0;
    uint64_t client_ctx = load_client(case_path("B01", "ca.crt"), NULL, NULL);
    struct endpoint *client = calloc(1, sizeof(*client));
    struct endpoint *server = calloc(1, sizeof(*server));
    tls_result result = TLS_RESULT_OK;

    snprintf(named, size, "%s", "");
    if (client != NULL && server != NULL &&
        load_server(case_path("B05", "server.crt"), case_path("B05", "server-pkcs8.key"), NULL,
                    &server_ctx) == TLS_RESULT_OK) {
        result = handshake(server_ctx, client_ctx, "localhost", client, server);
        endpoints_free(client, server);
    }
    free(client);
    free(server);
    tls_ctx_release(server_ctx);
    tls_ctx_release(client_ctx);
    return result;
}

struct error_case {
    tls_result code;
    error_trigger trigger;
    const char *fragment;
};

/* TLS_RESULT_PANIC (104) has no row: it is what the boundary returns when the library itself
 * panics, and no input reaches a panic from outside; a test that faked one would test nothing. */
static const struct error_case error_cases[] = {
    {TLS_RESULT_NULL_ARGUMENT, trigger_null_argument, "argument `config` is NULL"},
    {TLS_RESULT_INVALID_ARGUMENT, trigger_invalid_argument, "is not UTF-8"},
    {TLS_RESULT_INVALID_HANDLE, trigger_invalid_handle, "was released or never issued"},
    {TLS_RESULT_WRONG_ROLE, trigger_wrong_role, "a client connection needs a client context"},
    {TLS_RESULT_INVALID_STATE, trigger_invalid_state, "invalid connection state: "},
    {TLS_RESULT_BUFFER_TOO_SMALL, trigger_buffer_too_small, "the buffer holds 1 bytes; "},
    {TLS_RESULT_FILE_NOT_FOUND, trigger_file_not_found, ": file not found"},
    {TLS_RESULT_FILE_UNREADABLE, trigger_file_unreadable, ": file cannot be read: "},
    {TLS_RESULT_FILE_EMPTY, trigger_file_empty, ": file is empty"},
    {TLS_RESULT_MALFORMED_PEM, trigger_malformed_pem,
     ": malformed PEM: no PEM BEGIN/END armour found"},
    {TLS_RESULT_NO_CERTIFICATE, trigger_no_certificate,
     ": no certificate found (found a private key)"},
    {TLS_RESULT_NO_PRIVATE_KEY, trigger_no_private_key,
     ": no private key found (found a certificate)"},
    {TLS_RESULT_MULTIPLE_PRIVATE_KEYS, trigger_multiple_private_keys,
     ": expected one private key, found 2"},
    {TLS_RESULT_KEY_ENCRYPTED, trigger_key_encrypted,
     ": private key is encrypted and no password was given"},
    {TLS_RESULT_WRONG_PASSWORD, trigger_wrong_password,
     ": wrong password for the encrypted private key"},
    {TLS_RESULT_UNSUPPORTED_ENCRYPTION, trigger_unsupported_encryption,
     ": unsupported key encryption scheme: traditional OpenSSL PEM encryption "
     "(DEK-Info: CAMELLIA-256-CBC)"},
    {TLS_RESULT_UNSUPPORTED_KEY, trigger_unsupported_key,
     ": unsupported private key: unsupported key type Ed448"},
    {TLS_RESULT_KEY_MISMATCH, trigger_key_mismatch,
     ": private key does not match the certificate's public key"},
    {TLS_RESULT_INVALID_CERTIFICATE, trigger_invalid_certificate, ": invalid certificate: "},
    {TLS_RESULT_INVALID_CONFIG, trigger_invalid_config, "invalid configuration: "},
    {TLS_RESULT_CERTIFICATE_EXPIRED, trigger_certificate_expired,
     ": certificate expired: valid until "},
    {TLS_RESULT_CERTIFICATE_NOT_YET_VALID, trigger_certificate_not_yet_valid,
     ": certificate not yet valid: valid from "},
    {TLS_RESULT_TLS_PROTOCOL, trigger_tls_protocol, "TLS error: invalid peer certificate"},
};

#define ERROR_CASE_COUNT (sizeof(error_cases) / sizeof(error_cases[0]))

static void test_every_result_code(void)
{
    /* Every failure code the header declares. */
    static const tls_result declared[] = {
        100, 101, 102, 103, 104, 105, 106, 200, 201, 202, 203, 204,
        205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 300,
    };

    for (size_t i = 0; i < ERROR_CASE_COUNT; i++) {
        const struct error_case *row = &error_cases[i];
        char named[4096];
        tls_result result = row->trigger(named, sizeof(named));
        const char *message = tls_last_error();

        check(result == row->code, __FILE__, __LINE__, "code %u (%s): got %u (%s); %s",
              (unsigned)row->code, tls_result_name(row->code), (unsigned)result,
              tls_result_name(result), message);
        check(strstr(message, row->fragment) != NULL, __FILE__, __LINE__,
              "code %u: message \"%s\" lacks \"%s\"", (unsigned)row->code, message,
              row->fragment);
        if (named[0] != '\0')
            check(strncmp(message, named, strlen(named)) == 0 &&
                      strncmp(message + strlen(named), ": ", 2) == 0,
                  __FILE__, __LINE__, "code %u: message \"%s\" starts with the path %s",
                  (unsigned)row->code, message, named);
        check(strcmp(tls_result_name(row->code), "unknown result") != 0, __FILE__, __LINE__,
              "code %u has a name", (unsigned)row->code);
    }
    unlink(material_path("camellia.key"));
    unlink(material_path("garbage.crt"));

    for (size_t i = 0; i < sizeof(declared) / sizeof(declared[0]); i++) {
        bool covered = declared[i] == TLS_RESULT_PANIC;

        for (size_t j = 0; j < ERROR_CASE_COUNT; j++)
            covered = covered || error_cases[j].code == declared[i];
        check(covered, __FILE__, __LINE__, "code %u (%s) has a trigger", (unsigned)declared[i],
              tls_result_name(declared[i]));
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CASES_DIR MATERIAL_DIR\n", argv[0]);
        return 2;
    }
    cases_dir = argv[1];
    material_dir = argv[2];

    test_b01_line_endings();
    test_b01_crlf_trust_bundle();
    test_b01_reload_lf_to_crlf();
    test_b03_text_before_blocks();
    test_b05_pkcs1_keys();
    test_encrypted_keys();
    test_b11_password_and_plain_key();
    test_b08_reload_keeps_the_password();
    test_b12_edwards_keys();
    test_b16_wrong_files_at_load();
    test_b16_wrong_files_at_reload();
    test_b18_der_files();
    test_b19_mismatched_keys();
    test_b21_pkcs12();
    test_broker_properties();
    test_material_in_memory();
    test_identity_for_server_name();
    test_cipher_suites();
    test_test_mode();
    test_leaf_validity();
    test_every_result_code();

    CHECK(tls_live_generations() == 0, "every generation is freed at the end");

    printf("%u passed, %u failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

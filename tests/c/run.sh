#!/usr/bin/env bash
# Runs the C tests of tlsctx:
#   1. builds the library (cargo build --release), the example server, tests/c/abi_test.c and
#      tests/c/material_test.c (both with tests/c/support.c);
#   2. makes with openssl the DER files and dated leaves the tests compare against;
#   3. runs abi_test and material_test under valgrind: any memory error or definite leak fails;
#   4. runs examples/c/tls_server against `openssl s_client`: TLS 1.3 and 1.2 handshakes, the
#      served leaf, the line echo, a rotation by SIGHUP with a connection open across it, failed
#      rotations that keep the old certificate serving, and a clean SIGTERM, with the rotation
#      session under valgrind; then client certificates required and optional, with and without
#      a client certificate, a second identity chosen by SNI, and an Ed25519 server.
#
# Usage: bash tests/c/run.sh
#
# The certificate cases are read from ../shared/cases next to the repository, or from
# $TLSCTX_CASES. TLSCTX_VALGRIND=0 runs everything without valgrind; TLSCTX_KEEP=1 keeps the
# scratch directory (server logs, s_client transcripts) for a look after a failure. Every wait is
# bounded, every socket is on 127.0.0.1, and everything made is removed on exit. The last line is
# `N passed, M failed` (the C test programs' checks included); the exit status is non-zero on any
# failure.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CASES=${TLSCTX_CASES:-$ROOT/../shared/cases}
USE_VALGRIND=${TLSCTX_VALGRIND:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tlsctx-c-tests.XXXXXX")

passed=0
failed=0
server_pid=
session_pid=

cleanup() {
    exec 3>&- 2>/dev/null
    for pid in $session_pid $server_pid; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    [ -n "${TLSCTX_KEEP:-}" ] || rm -rf "$WORK"; [ -n "${TLSCTX_KEEP:-}" ] && echo "kept $WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() {
    passed=$((passed + 1))
    echo "ok    $1"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL  $1"
}

# check DESCRIPTION COMMAND...: one check that passes when COMMAND succeeds.
check() {
    local description=$1
    shift
    if "$@"; then pass "$description"; else fail "$description"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# wait_for_count FILE PATTERN COUNT SECONDS: waits until FILE has COUNT lines matching PATTERN.
wait_for_count() {
    local file=$1 pattern=$2 count=$3 tenths=$(($4 * 10)) matches
    while [ "$tenths" -gt 0 ]; do
        # A file the server has not created yet counts as no match.
        matches=$(grep -c -- "$pattern" "$file" 2>/dev/null)
        if [ "${matches:-0}" -ge "$count" ]; then
            return 0
        fi
        sleep 0.1
        tenths=$((tenths - 1))
    done
    return 1
}

fingerprint_of_file() {
    openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2
}

# The SHA-256 fingerprint of the first certificate in s_client -showcerts output.
fingerprint_served() {
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$1" |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}

# ---- Build -----------------------------------------------------------------------------------

if [ ! -d "$CASES/B05" ]; then
    echo "certificate cases not found in $CASES (set TLSCTX_CASES)" >&2
    fail "certificate cases present"
    finish
fi
if [ "$USE_VALGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
    echo "valgrind not found; set TLSCTX_VALGRIND=0 to run without it" >&2
    fail "valgrind present"
    finish
fi

echo "== build"
if ! (cd "$ROOT" && cargo build --release --quiet); then
    fail "cargo build --release"
    finish
fi
LIBDIR=$ROOT/target/release
check "build examples/c/tls_server" \
    make --no-print-directory -s -C "$ROOT/examples/c" OUT="$WORK" LIBDIR="$LIBDIR"
for program in abi_test material_test; do
    check "build tests/c/$program" \
        gcc -std=c11 -O1 -g -Wall -Wextra -Werror -I"$ROOT/include" -o "$WORK/$program" \
        "$ROOT/tests/c/$program.c" "$ROOT/tests/c/support.c" -L"$LIBDIR" -ltlsctx \
        -Wl,-rpath,"$LIBDIR"
done
if [ ! -x "$WORK/tls_server" ] || [ ! -x "$WORK/abi_test" ] || [ ! -x "$WORK/material_test" ]; then
    finish
fi

VALGRIND=()
if [ "$USE_VALGRIND" = 1 ]; then
    VALGRIND=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite)
fi

# ---- ABI tests -------------------------------------------------------------------------------

echo "== material for the C tests"
MATERIAL=$WORK/material
mkdir -p "$MATERIAL"
for case_name in B01 B05 B16; do
    label=$(echo "$case_name" | tr B b)
    openssl x509 -in "$CASES/$case_name/server.crt" -outform DER -out "$MATERIAL/$label-server.der"
    sha256sum "$MATERIAL/$label-server.der" | cut -c1-64 >"$MATERIAL/$label-server.sha256"
done
openssl x509 -in "$CASES/B05/client.crt" -outform DER -out "$MATERIAL/b05-client.der"

# der_of CASE FILE: the DER of the first certificate in CASE/FILE and its SHA-256, for
# material_test: MATERIAL/CASE-FILE.der and MATERIAL/CASE-FILE.sha256.
der_of() {
    local out=$MATERIAL/$1-$2
    openssl x509 -in "$CASES/$1/$2" -outform DER -out "$out.der" &&
        sha256sum "$out.der" | cut -c1-64 >"$out.sha256"
}

# der_blocks CASE FILE: each certificate block of CASE/FILE, in file order, as
# MATERIAL/CASE-FILE.INDEX.der.
der_blocks() {
    local out=$MATERIAL/$1-$2 index=0 block
    while IFS= read -r -d '' block; do
        printf '%s' "$block" | openssl x509 -outform DER -out "$out.$index.der" || return 1
        index=$((index + 1))
    done < <(tr -d '\r' <"$CASES/$1/$2" |
        awk '/-----BEGIN CERTIFICATE-----/ { inside = 1 }
             inside { print }
             /-----END CERTIFICATE-----/ { inside = 0; printf "%c", 0 }')
    [ "$index" -gt 0 ]
}

# make_validity_leaves: one key and self-signed leaves for it with fixed dates, in
# MATERIAL/validity. OpenSSL 3.0's `req -x509` and `x509` cannot set a notBefore in the past;
# `openssl ca -startdate -enddate` can.
make_validity_leaves() {
    local dir=$MATERIAL/validity name start end
    mkdir -p "$dir/db" || return 1
    : >"$dir/db/index.txt"
    echo 'unique_subject = no' >"$dir/db/index.txt.attr"
    echo 01 >"$dir/db/serial"
    printf '%s\n' '[ca]' 'default_ca = dated' '[dated]' "database = $dir/db/index.txt" \
        "new_certs_dir = $dir/db" "serial = $dir/db/serial" 'default_md = sha256' \
        'policy = any' 'copy_extensions = none' 'x509_extensions = leaf' '[any]' \
        'commonName = supplied' '[leaf]' 'subjectAltName = DNS:localhost, IP:127.0.0.1' \
        >"$dir/ca.cnf"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
        -keyout "$dir/leaf.key" -out "$dir/leaf.csr" 2>/dev/null || return 1
    for dates in expired-1:20200101000000Z:20210101000000Z \
        expired-2:20200101000000Z:20220101000000Z future:20400101000000Z:20450101000000Z \
        current:20240101000000Z:20481231000000Z; do
        IFS=: read -r name start end <<<"$dates"
        openssl ca -batch -notext -config "$dir/ca.cnf" -selfsign -keyfile "$dir/leaf.key" \
            -in "$dir/leaf.csr" -startdate "$start" -enddate "$end" -out "$dir/$name.crt" \
            2>/dev/null || return 1
    done
}

material_made=true
for spec in B01:server.crt B01:client.crt B03:server.crt B03:ca.crt B05:server.crt \
    B05:client.crt B08:server-rsa.crt B08:server-ec.crt B09:server-rsa.crt B09:server-ec.crt \
    B11:server.crt B12:server-ed25519.crt B12:client-ed25519.crt B16:server.crt B19:server.crt \
    B21:server.crt B21:ca.crt; do
    der_of "${spec%%:*}" "${spec#*:}" || material_made=false
done
der_blocks B01 fullchain-mixed.crt || material_made=false
make_validity_leaves || material_made=false
check "openssl made the material for material_test" $material_made

# run_test_program NAME: runs a CHECK program (under valgrind when enabled), prints its output
# and adds its own counts to the totals.
run_test_program() {
    local name=$1 log=$WORK/$1.valgrind status summary
    echo "== $name"
    if [ "$USE_VALGRIND" = 1 ]; then
        "${VALGRIND[@]}" --log-file="$log" "$WORK/$name" "$CASES" "$MATERIAL" >"$WORK/$name.out"
    else
        "$WORK/$name" "$CASES" "$MATERIAL" >"$WORK/$name.out"
    fi
    status=$?
    cat "$WORK/$name.out"
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/$name.out" | tail -1)
    if [ -n "$summary" ]; then
        set -- $summary
        passed=$((passed + $1))
        failed=$((failed + $3))
    else
        fail "$name printed its summary (exit status $status)"
    fi
    if [ "$USE_VALGRIND" = 1 ]; then
        grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|still reachable' "$log" |
            sed 's/^==[0-9]*== */    valgrind: /'
        check "$name: valgrind reports no errors" grep -q 'ERROR SUMMARY: 0 errors' "$log"
        check "$name: no definite leak" bash -c "! grep -q 'definitely lost: [1-9]' '$log'"
    fi
}

run_test_program abi_test
run_test_program material_test

# ---- A real peer: openssl s_client against examples/c/tls_server ------------------------------

# start_server OUT_PREFIX ARGS...: starts tls_server (under valgrind when enabled and
# SERVER_UNDER_VALGRIND=1) and sets server_pid and PORT.
start_server() {
    local prefix=$1
    shift
    local runner=()
    if [ "${SERVER_UNDER_VALGRIND:-0}" = 1 ] && [ "$USE_VALGRIND" = 1 ]; then
        runner=("${VALGRIND[@]}" --log-file="$prefix.valgrind")
    fi
    "${runner[@]}" "$WORK/tls_server" "$@" >"$prefix.out" 2>"$prefix.err" &
    server_pid=$!
    if ! wait_for_count "$prefix.out" '^listening on ' 1 60; then
        PORT=
        return 1
    fi
    PORT=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$prefix.out")
    [ -n "$PORT" ]
}

# stop_server: SIGTERM, then waits up to 60 s; returns the server's exit status.
stop_server() {
    local tenths=600 status
    kill -TERM "$server_pid" 2>/dev/null
    while kill -0 "$server_pid" 2>/dev/null && [ "$tenths" -gt 0 ]; do
        sleep 0.1
        tenths=$((tenths - 1))
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid"
    fi
    wait "$server_pid"
    status=$?
    server_pid=
    return "$status"
}

# session NAME CA VERSION_FLAG [EXTRA_ARGS...]: one s_client connection that sends the line
# "echo-NAME" and waits (bounded) for it to come back before closing. Output in $WORK/NAME.out.
# It asks for localhost by SNI; SESSION_SNI=-noservername sends no SNI.
session() {
    local name=$1 ca=$2 version=$3
    shift 3
    local out=$WORK/$name.out
    : >"$out"
    {
        printf 'echo-%s\n' "$name"
        # Until the echo arrives, or s_client reports that the connection is over.
        local tenths=300
        while [ "$tenths" -gt 0 ] && ! grep -q "echo-$name" "$out" &&
            ! grep -qE '^closed$|alert number|:error:' "$out"; do
            sleep 0.1
            tenths=$((tenths - 1))
        done
    } | timeout 60 openssl s_client -connect "127.0.0.1:$PORT" \
        ${SESSION_SNI:--servername localhost} -CAfile "$ca" "$version" -showcerts "$@" \
        >"$out" 2>&1
}

# The echo is looked for anywhere in a line: s_client may print session details around it.
echoed() {
    grep -q "echo-$1" "$WORK/$1.out"
}

verified() {
    grep -q 'Verify return code: 0 (ok)' "$WORK/$1.out"
}

serves() {
    [ "$(fingerprint_served "$WORK/$1.out")" = "$2" ]
}

B01_FP=$(fingerprint_of_file "$CASES/B01/server.crt")
B05_FP=$(fingerprint_of_file "$CASES/B05/server.crt")
LIVE=$WORK/live
mkdir -p "$LIVE"
cp "$CASES/B05/server.crt" "$LIVE/server.crt"
cp "$CASES/B05/server-pkcs1.key" "$LIVE/server.key"

echo "== tls_server: handshakes, echo and rotation (under valgrind: $USE_VALGRIND)"
SERVER_UNDER_VALGRIND=1
log=$WORK/server
failed_before_server=$failed
if ! start_server "$log" -a h2,http/1.1 "$LIVE/server.crt" "$LIVE/server.key" 0; then
    fail "tls_server starts and prints its port"
    cat "$log.err" "$log.valgrind" 2>/dev/null
    finish
fi
pass "tls_server starts and prints its port ($PORT)"

session tls13 "$CASES/B05/ca.crt" -tls1_3 -alpn h2
check "TLS 1.3: verify return code 0" verified tls13
check "TLS 1.3: negotiated TLSv1.3" grep -q 'Protocol *: TLSv1.3' "$WORK/tls13.out"
check "TLS 1.3: ALPN h2" grep -q 'ALPN protocol: h2' "$WORK/tls13.out"
check "TLS 1.3: serves B05 server.crt" serves tls13 "$B05_FP"
check "TLS 1.3: the line comes back" echoed tls13

session tls12 "$CASES/B05/ca.crt" -tls1_2
check "TLS 1.2: verify return code 0" verified tls12
check "TLS 1.2: negotiated TLSv1.2" grep -q 'Protocol *: TLSv1.2' "$WORK/tls12.out"
check "TLS 1.2: serves B05 server.crt" serves tls12 "$B05_FP"
check "TLS 1.2: the line comes back" echoed tls12

# Lines of every length up to 4 KiB and one of 50 000 bytes: more than a TLS record at a time,
# more than the server's line buffer, and more than the socket buffers hold, so the server has to
# hold back while the client reads.
awk 'BEGIN {
    for (i = 0; i < 1000; i++) {
        printf "line %d ", i
        for (j = 0; j < i % 128; j++) printf "abcdefgh"
        printf "\n"
    }
    for (j = 0; j < 5000; j++) printf "0123456789"
    printf "\n"
}' >"$WORK/bulk.txt"
bulk_size=$(wc -c <"$WORK/bulk.txt")
: >"$WORK/bulk.out"
{
    cat "$WORK/bulk.txt"
    tenths=600
    while [ "$tenths" -gt 0 ] && [ "$(wc -c <"$WORK/bulk.out")" -lt "$bulk_size" ]; do
        sleep 0.1
        tenths=$((tenths - 1))
    done
} | timeout 90 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$CASES/B05/ca.crt" -quiet -no_ign_eof >"$WORK/bulk.out" 2>/dev/null
check "bulk: $bulk_size bytes of lines come back identical" cmp -s "$WORK/bulk.txt" "$WORK/bulk.out"

# A connection that stays open across the rotation, fed through a FIFO.
mkfifo "$WORK/long.in"
timeout 120 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
    -CAfile "$CASES/B05/ca.crt" -tls1_3 <"$WORK/long.in" >"$WORK/long.out" 2>&1 &
session_pid=$!
exec 3>"$WORK/long.in"
printf 'before-rotation\n' >&3
check "open connection: echo before the rotation" \
    wait_for_count "$WORK/long.out" '^before-rotation$' 1 30

cp "$CASES/B01/server.crt" "$LIVE/server.crt"
cp "$CASES/B01/server.key" "$LIVE/server.key"
kill -HUP "$server_pid"
check "rotation to B01: reload: swapped generation 2" \
    wait_for_count "$log.out" '^reload: swapped generation 2$' 1 30
check "rotation to B01: live generations 2 while the old connection is open" \
    wait_for_count "$log.out" '^live generations: 2$' 1 10

printf 'after-rotation\n' >&3
check "open connection: still echoes after the rotation" \
    wait_for_count "$WORK/long.out" '^after-rotation$' 1 30
exec 3>&-
wait "$session_pid"
session_pid=

session rotated "$CASES/B01/ca.crt" -tls1_3
check "after rotation: verify return code 0 with B01 ca.crt" verified rotated
check "after rotation: serves B01 server.crt" serves rotated "$B01_FP"
check "after rotation: the line comes back" echoed rotated

kill -HUP "$server_pid"
check "SIGHUP without changes: reload: unchanged" \
    wait_for_count "$log.out" '^reload: unchanged$' 1 30

cp "$CASES/B19/other-rsa.key" "$LIVE/server.key"
kill -HUP "$server_pid"
check "mismatched key: reload failed" wait_for_count "$log.out" '^reload failed: ' 1 30
failure=$(grep '^reload failed: ' "$log.out" | sed -n 1p)
echo "    server: $failure"
check "mismatched key: the message names the key file" \
    grep -qF "reload failed: $LIVE/server.key" <<<"$failure"
check "mismatched key: the message says it does not match" \
    grep -q 'does not match' <<<"$failure"
check "mismatched key: one generation left alive" \
    wait_for_count "$log.out" '^live generations: 1$' 1 10
session kept "$CASES/B01/ca.crt" -tls1_3
check "mismatched key: B01 keeps serving" serves kept "$B01_FP"
check "mismatched key: the line comes back" echoed kept

: >"$LIVE/server.key"
kill -HUP "$server_pid"
check "empty key: reload failed" wait_for_count "$log.out" '^reload failed: ' 2 30
check "empty key: the message names the file and says empty" \
    bash -c "grep '^reload failed: ' '$log.out' | sed -n 2p | grep -F '$LIVE/server.key' |
             grep -q empty"
session kept_empty "$CASES/B01/ca.crt" -tls1_2
check "empty key: B01 keeps serving" serves kept_empty "$B01_FP"

cp "$CASES/B05/server.crt" "$LIVE/server.crt"
cp "$CASES/B05/server-pkcs8.key" "$LIVE/server.key"
kill -HUP "$server_pid"
check "rotation back to B05: reload: swapped generation 3" \
    wait_for_count "$log.out" '^reload: swapped generation 3$' 1 30
session back "$CASES/B05/ca.crt" -tls1_3
check "rotation back to B05: serves B05 server.crt" serves back "$B05_FP"

stop_server
status=$?
check "SIGTERM: tls_server exits 0 (status $status)" test "$status" -eq 0
check "SIGTERM: tls_server says it shut down" grep -q '^shut down$' "$log.out"
if [ "$USE_VALGRIND" = 1 ]; then
    grep -E 'ERROR SUMMARY|definitely lost' "$log.valgrind" | sed 's/^==[0-9]*== */    valgrind: /'
    check "tls_server: valgrind reports no errors" grep -q 'ERROR SUMMARY: 0 errors' "$log.valgrind"
fi
if [ "$failed" -gt "$failed_before_server" ]; then
    echo "---- server stdout"; cat "$log.out"; echo "---- server stderr"; cat "$log.err"
fi

# server_log_has LOG PATTERN: whether the server printed PATTERN on stdout, waiting a little for it.
server_log_has() {
    wait_for_count "$1.out" "$2" 1 10
}

for mode in require optional; do
    echo "== tls_server: client certificates $mode (B05)"
    SERVER_UNDER_VALGRIND=0
    log=$WORK/server-$mode
    if ! start_server "$log" -t "$CASES/B05/ca.crt" -m "$mode" "$CASES/B05/server.crt" \
        "$CASES/B05/server-pkcs1.key" 0; then
        fail "tls_server with -m $mode starts"
        cat "$log.err"
        continue
    fi
    pass "tls_server with -m $mode starts"

    session "$mode-cert" "$CASES/B05/ca.crt" -tls1_3 -cert "$CASES/B05/client.crt" \
        -key "$CASES/B05/client-pkcs1.key"
    check "$mode: a client with B05 client.crt (PKCS#1 key) is served" echoed "$mode-cert"
    check "$mode: the server received the client certificate" \
        server_log_has "$log" 'client certificate yes$'

    session "$mode-anonymous" "$CASES/B05/ca.crt" -tls1_3
    if [ "$mode" = require ]; then
        check "require: a client without a certificate is refused" \
            bash -c "! grep -q 'echo-require-anonymous' '$WORK/require-anonymous.out'"
        check "require: the server reports the refused handshake" \
            wait_for_count "$log.err" 'connection failed while receiving: TLS error' 1 10
        check "require: s_client received an alert" \
            grep -qE 'alert|error' "$WORK/require-anonymous.out"
    else
        check "optional: a client without a certificate is served" echoed optional-anonymous
        check "optional: the server saw no client certificate" \
            server_log_has "$log" 'client certificate no$'
    fi

    # A certificate from another CA is refused in both modes.
    session "$mode-foreign" "$CASES/B05/ca.crt" -tls1_3 -cert "$CASES/B01/client.crt" \
        -key "$CASES/B01/client.key"
    check "$mode: a client certificate from another CA is refused" \
        bash -c "! grep -q 'echo-$mode-foreign' '$WORK/$mode-foreign.out'"

    stop_server
    check "$mode: tls_server exits 0" test $? -eq 0
done

echo "== tls_server: a second identity chosen by SNI"
log=$WORK/server-sni
if start_server "$log" -n "localhost:$CASES/B01/server.crt:$CASES/B01/server.key" \
    "$CASES/B05/server.crt" "$CASES/B05/server-pkcs8.key" 0; then
    pass "tls_server with -n starts"
    session sni-localhost "$CASES/B01/ca.crt" -tls1_3
    check "SNI localhost: verify return code 0 with B01 ca.crt" verified sni-localhost
    check "SNI localhost: serves B01 server.crt" serves sni-localhost "$B01_FP"
    check "SNI localhost: the line comes back" echoed sni-localhost
    SESSION_SNI=-noservername session sni-none "$CASES/B05/ca.crt" -tls1_2
    check "no SNI: serves the main chain, B05 server.crt" serves sni-none "$B05_FP"
    check "no SNI: the line comes back" echoed sni-none
    stop_server
    check "SNI: tls_server exits 0" test $? -eq 0
else
    fail "tls_server with -n starts"
    cat "$log.err"
fi

echo "== tls_server: Ed25519 (B12)"
log=$WORK/server-ed25519
B12_FP=$(fingerprint_of_file "$CASES/B12/server-ed25519.crt")
if start_server "$log" "$CASES/B12/server-ed25519.crt" "$CASES/B12/server-ed25519.key" 0; then
    pass "tls_server with an Ed25519 key starts"
    session ed25519 "$CASES/B12/ca.crt" -tls1_3
    check "Ed25519: verify return code 0" verified ed25519
    check "Ed25519: serves server-ed25519.crt" serves ed25519 "$B12_FP"
    check "Ed25519: the line comes back" echoed ed25519
    session no-ed25519 "$CASES/B12/ca.crt" -tls1_3 -sigalgs ECDSA+SHA256:rsa_pss_rsae_sha256
    check "Ed25519: a client offering no Ed25519 gets a handshake alert" \
        grep -q 'alert handshake failure' "$WORK/no-ed25519.out"
    session ed25519-after "$CASES/B12/ca.crt" -tls1_3
    check "Ed25519: the server keeps serving after the refused client" echoed ed25519-after
    stop_server
    check "Ed25519: tls_server exits 0" test $? -eq 0
else
    fail "tls_server with an Ed25519 key starts"
    cat "$log.err"
fi

finish

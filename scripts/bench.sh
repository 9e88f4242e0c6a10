#!/bin/sh
# `make bench`: the tlsctx engine against the JDK's and netty-tcnative's (JMH, in memory, and
# handshakes through Netty on loopback), memory per idle connection, resident memory per
# certificate rotation, the C ABI against rustls called directly (criterion) and reloads; prints
# the figures and writes docs/benchmarks.md. About 17 minutes on two cores.
#
# JMH settings are kept short on purpose (1 fork, 4 warm-up and 3 measured iterations of 2 s):
# enough to rank the engines, not to resolve differences of a few percent. The warm-up is long
# enough for the JDK engine's code to be compiled; with 2 s of it the JDK's handshakes came out
# slower than its warmed-up rate through Netty. Override them with
# JMH_OPTS, and the benchmarks with JMH_FILTER (a JMH regular expression).
#
# The Netty handshake runs take NETTY_WARMUP seconds (default 5), then NETTY_ROUNDS windows
# (default 3, 0 skips them) of NETTY_SECONDS (default 3) with NETTY_CONCURRENCY connections in
# flight (default 16), from a NETTY_CLIENT client (tcnative or jdk; default tcnative). The idle
# memory runs open IDLE_CONNECTIONS connections per engine (default 2000, 0 skips them).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cases=${TLSCTX_BENCH_CASES:-$root/../shared/cases}
cases=$(cd "$cases" && pwd)
library=$root/target/release/libtlsctx.so
results=$root/java/bench/target/results
jmh_opts=${JMH_OPTS:--f 1 -wi 4 -w 2s -i 3 -r 2s}
rotations=${ROTATIONS:-2000}
netty_warmup=${NETTY_WARMUP:-5}
netty_rounds=${NETTY_ROUNDS:-3}
netty_seconds=${NETTY_SECONDS:-3}
netty_concurrency=${NETTY_CONCURRENCY:-16}
netty_client=${NETTY_CLIENT:-tcnative}
idle_connections=${IDLE_CONNECTIONS:-2000}

cargo build --release
mvn -B -q -f java/pom.xml install -DskipTests
mvn -B -q -f java/bench/pom.xml package
mkdir -p "$results"

# The forked JVMs load this checkout's native library, not one another build left in ~/.m2.
java -jar java/bench/target/benchmarks.jar $jmh_opts \
    -jvmArgsAppend "-Dtlsctx.library.path=$library -Dtlsctx.bench.cases=$cases" \
    -rf csv -rff "$results/jmh.csv" ${JMH_FILTER:-}

# A second P-256 identity, so every tlsctx reload sees new content and swaps.
identity_b=$results/identity-b
mkdir -p "$identity_b"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj /CN=localhost -keyout "$identity_b/server.key" -out "$identity_b/server.crt" \
    2>/dev/null
: > "$results/rotation.txt"
: > "$results/rotation.log"
for mode in netty-openssl netty-openssl-refcnt tlsctx; do
    java -Xms128m -Xmx128m -XX:+AlwaysPreTouch -Dtlsctx.library.path="$library" \
        -cp java/bench/target/benchmarks.jar org.tlsctx.bench.RotationMemory \
        "$mode" "$rotations" "$cases/B16" "$identity_b" "$results/rotation-$mode" \
        >> "$results/rotation.txt" 2>> "$results/rotation.log"
done

# One JVM per case, so no engine runs on code another one warmed up or memory it left behind.
: > "$results/netty.txt"
: > "$results/netty.log"
if [ "$netty_rounds" -gt 0 ]; then
    for engine in TLSCTX JDK TCNATIVE; do
        for protocol in TLSv1.3 TLSv1.2; do
            for key in ecdsa-p256 rsa-2048; do
                java -Xms512m -Xmx512m -Dtlsctx.library.path="$library" \
                    -Dtlsctx.bench.cases="$cases" \
                    -cp java/bench/target/benchmarks.jar org.tlsctx.bench.NettyHandshakes \
                    "$engine" "$protocol" "$key" "$netty_client" "$netty_concurrency" \
                    "$netty_warmup" "$netty_seconds" "$netty_rounds" \
                    >> "$results/netty.txt" 2>> "$results/netty.log"
            done
        done
    done
fi

# A fixed, pre-touched heap, so resident memory grows only with what lies outside the heap; C1
# only, so compilation is over after the warm-up instead of growing the code cache while the
# connections are counted (what an engine holds does not depend on the compiler).
: > "$results/idle.txt"
: > "$results/idle.log"
if [ "$idle_connections" -gt 0 ]; then
    for protocol in TLSv1.3 TLSv1.2; do
        for buffers in direct heap; do
            for engine in TLSCTX JDK TCNATIVE; do
                java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:TieredStopAtLevel=1 \
                    -Dtlsctx.library.path="$library" -Dtlsctx.bench.cases="$cases" \
                    -cp java/bench/target/benchmarks.jar org.tlsctx.bench.IdleMemory \
                    "$engine" "$protocol" ecdsa-p256 "$buffers" "$idle_connections" \
                    >> "$results/idle.txt" 2>> "$results/idle.log"
            done
        done
    done
fi

mkdir -p docs
java -cp java/bench/target/benchmarks.jar org.tlsctx.bench.Report "$results/jmh.csv" \
    "$results/rotation.txt" docs/benchmarks.md "$jmh_opts" "$results/netty.txt" \
    "$results/idle.txt"

# The C ABI against rustls called directly, then reloads and lookups; each writes a Markdown
# section that follows the Java report.
cargo bench --bench ffi
cargo run --release --example reload_bench -- "${RELOADS:-100000}"
for section in target/bench/ffi.md target/bench/reload.md; do
    printf '\n' >> docs/benchmarks.md
    cat "$section" >> docs/benchmarks.md
done

# Commands that span the languages of tlsctx. `make test` runs every test; `make demo` runs the
# Gradle demo. Both install what they need first (scripts/setup.sh) and work on a fresh machine.

CARGO ?= cargo
MVN ?= mvn -B -q
GRADLE ?= gradle --no-daemon -q

.PHONY: all setup build check-header test test-rust test-c test-java demo java-install lint clean

all: build

setup:
	sh scripts/setup.sh

# The release build is what the C tests, the jar and the demo load; it also regenerates the
# header, which must then match the committed one.
build:
	$(CARGO) build --release

check-header: build
	@git diff --exit-code -- include/tlsctx.h >/dev/null || { \
		echo "include/tlsctx.h is stale: commit the header the build regenerated" >&2; \
		git --no-pager diff --stat -- include/tlsctx.h >&2; exit 1; }

test: setup check-header test-rust test-c test-java demo

test-rust:
	$(CARGO) test --release

test-c: build
	bash tests/c/run.sh

# Without -q, so Surefire's test counts show in the output.
test-java: build
	mvn -B -f java/pom.xml install

java-install: build
	$(MVN) -f java/pom.xml install -DskipTests

demo: setup java-install
	cd java/demo && $(GRADLE) run

# 100,000 ECDSA P-256 swaps, a tenth as many RSA-2048 swaps and the cost of current(); writes
# target/bench/reload.md. `make bench-reload RELOADS=10000` for fewer.
.PHONY: bench-reload
bench-reload:
	$(CARGO) run --release --example reload_bench -- $(or $(RELOADS),100000)

# The C ABI against rustls called directly: server handshakes and records, in memory (criterion).
# Prints a table and writes it to target/bench/ffi.md. A few minutes.
.PHONY: bench-ffi
bench-ffi:
	$(CARGO) bench --bench ffi

# The engine side by side with the JDK's and netty-tcnative's (in memory and through Netty on
# loopback), memory per idle connection and per rotation, the C ABI against rustls called
# directly, and reloads; prints the figures and writes docs/benchmarks.md. About 17 minutes;
# not part of `make test`.
.PHONY: bench
bench:
	sh scripts/bench.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean
	$(MVN) -f java/pom.xml clean
	rm -rf java/demo/build java/demo/.gradle

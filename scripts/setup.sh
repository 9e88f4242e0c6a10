#!/bin/sh
# Installs the Debian packages the demo and the tests need: gradle (the demo's build), valgrind
# (leak checks of the C ABI) and openssl (certificate fixtures).
#
# Safe to run again: a package already installed is not touched, and the package lists are
# refreshed only when something is missing, so a prepared machine pays a few dpkg queries.
set -eu

missing=""
for package in gradle valgrind openssl; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing packages:$missing; run as root to install them" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# An image with emptied package lists cannot install anything until it has fetched them; a
# machine with lists tries them first and refreshes only if the install fails on stale lists.
if ! ls /var/lib/apt/lists | grep -q '_Packages'; then
    apt-get update -qq
fi
# shellcheck disable=SC2086
if ! apt-get install -y -qq $missing >/dev/null; then
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing >/dev/null
fi

for command in gradle valgrind openssl; do
    command -v "$command" >/dev/null || { echo "setup.sh: $command not on PATH" >&2; exit 1; }
done

#!/usr/bin/env bash
# The whole test suite, as on a fresh machine: formatting, lints, rustdoc (broken links are
# errors), then every test (unit, end-to-end over loopback, property, compile-fail, examples,
# doc tests), and the README's quick start built and run in a fresh directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# What the build and the tests need from Debian: protoc (etcd-client's build compiles
# etcd's .proto files), real etcd and ZooKeeper servers (the registry tests start their own
# on free loopback ports with temporary data dirs, and stop them), and Java's Hessian.
missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
[ -x /usr/bin/etcd ] || command -v etcd >/dev/null || missing+=(etcd-server)
[ -f /usr/share/java/zookeeper.jar ] || missing+=(zookeeper)
command -v java >/dev/null || missing+=(default-jre-headless)
# Java's Hessian (Caucho 4.0.38) and a JDK to compile the small program that drives it.
[ -f /usr/share/java/hessian.jar ] || missing+=(libhessian-java)
command -v javac >/dev/null || missing+=(default-jdk-headless)
# Apache Curator's service discovery (what Dubbo's ZooKeeper application-level discovery is
# built on) reads and writes `/services/{app}` instances in the application-discovery test.
[ -f /usr/share/java/curator-x-discovery.jar ] || missing+=(libcurator-discovery-java)
# curl calls a provider over HTTP/1.1 with JSON in the REST test, and over HTTPS with a
# client certificate in the TLS test; openssl s_client checks the provider's ALPN there.
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
# Python with venv: the interop tests run real Python peers (grpcio, Dubbo's Python SDK, a
# dubbo2 + Hessian2 client).
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts the servers it installs; the tests run their own, so stop those.
if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then systemctl stop etcd || true; fi

# The Python peers from PyPI, in a venv under target/ (kept between runs): grpcio with its
# health-checking and reflection clients, Dubbo's Python SDK (Triple) and dubbo-ssl-python
# (dubbo2 + Hessian2).
venv=target/grpc-venv
python_peers=(grpcio grpcio-health-checking grpcio-reflection apache-dubbo==3.0.0b1 dubbo-ssl-python==0.9.6)
if ! "$venv/bin/python" -c 'import grpc, grpc_health.v1, grpc_reflection.v1alpha, dubbo, dubbo_ssl' 2>/dev/null; then
    echo "== installing ${python_peers[*]} into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${python_peers[@]}"
fi
export RPC_TEST_PYTHON="$PWD/$venv/bin/python"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked --quiet
echo "== cargo test"
cargo test --workspace --all-features --locked
echo "== the README's quick start"
./scripts/readme-quickstart.sh

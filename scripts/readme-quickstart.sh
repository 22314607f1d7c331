#!/usr/bin/env bash
# The README's install section, copied verbatim into a fresh directory outside the checkout
# (the `rpc` path dependency pointed at this checkout): build it, start the provider, run the
# consumer, check what it prints, stop the provider with Ctrl-C. Its own registry directory
# (TMPDIR) keeps it apart from anything else on the machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
provider=""
cleanup() {
    if [ -n "$provider" ] && kill -0 "$provider" 2>/dev/null; then kill -KILL "$provider" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The fenced block after each `<!-- quickstart: PATH -->` marker in the README.
extract() {
    awk -v path="$1" '
        $0 == "<!-- quickstart: " path " -->" { marked = 1; next }
        marked && /^```/ && !inside { inside = 1; next }
        inside && /^```/ { exit }
        inside { print }
    ' "$root/README.md"
}
mkdir -p "$work/hello/src"
extract Cargo.toml > "$work/hello/Cargo.toml"
extract src/main.rs > "$work/hello/src/main.rs"
for file in Cargo.toml src/main.rs; do
    [ -s "$work/hello/$file" ] || { echo "README has no quickstart block for $file" >&2; exit 1; }
done
grep -q '^rpc = { path = "../rpc" }' "$work/hello/Cargo.toml" || { echo "README's Cargo.toml has no rpc path dependency" >&2; exit 1; }
sed -i "s|^rpc = { path = \"../rpc\" }|rpc = { path = \"$root\" }|" "$work/hello/Cargo.toml"

echo "== building the README's quick start in $work/hello"
export CARGO_TARGET_DIR="$root/target/readme-quickstart"
(cd "$work/hello" && cargo build --quiet)
binary="$CARGO_TARGET_DIR/debug/hello-rpc"

export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"
"$binary" provider > "$work/provider.log" 2>&1 &
provider=$!
for _ in $(seq 1 300); do
    grep -q "serving demo.Greeter on 127.0.0.1:" "$work/provider.log" && break
    kill -0 "$provider" 2>/dev/null || { cat "$work/provider.log" >&2; echo "the provider exited" >&2; exit 1; }
    sleep 0.1
done
grep -q "serving demo.Greeter on" "$work/provider.log" || { cat "$work/provider.log" >&2; echo "the provider never served" >&2; exit 1; }

output="$(timeout 60 "$binary")"
echo "$output"
grep -q "^Hello, world! (provider $provider)$" <<<"$output" || { echo "unexpected greeting" >&2; exit 1; }
grep -q "^2 + 3 = 5$" <<<"$output" || { echo "unexpected sum" >&2; exit 1; }

kill -INT "$provider"
for _ in $(seq 1 100); do
    kill -0 "$provider" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$provider" 2>/dev/null; then echo "the provider did not stop on Ctrl-C" >&2; exit 1; fi
wait "$provider" || { echo "the provider exited with an error" >&2; cat "$work/provider.log" >&2; exit 1; }
provider=""
echo "== the README's quick start works"

#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for a bounded time each, keeping its corpus in
# fuzz/corpus/<target>, and prints a line per target: runs, coverage, features, corpus size.
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script; turn it into a
# regression test in the normal suite.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 600        # 10 minutes per target
#   scripts/fuzz.sh 60 grpc    # one target
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
# cargo fuzz needs nightly flags (-Z sanitizer); the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list | grep -v '^make_seeds$')
fi
# Well-formed inputs to start from (kept beside what the runs add).
cargo run -q --release --bin make_seeds
cargo fuzz build -O
printf '%-18s %10s %8s %8s %8s %6s\n' target runs exec/s cov ft corpus
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  if ! cargo fuzz run -O "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=65536 \
      -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $target failed: see fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo ?)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo ?)
  corpus=$(find "corpus/$target" -type f | wc -l)
  printf '%-18s %10s %8s %8s %8s %6s\n' "$target" "$runs" "$speed" "$cov" "$ft" "$corpus"
  rm -f "$log"
done

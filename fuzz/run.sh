#!/usr/bin/env bash
# Builds and runs the fuzz targets with libFuzzer on the stable toolchain (see README.md).
#   fuzz/run.sh build                 build every target (instrumented, release, debug assertions)
#   fuzz/run.sh seeds                 make the seed corpora from ../shared/corpus/public and the lab
#   fuzz/run.sh run TARGET SECONDS    fuzz TARGET for SECONDS on its corpus (1 core)
#   fuzz/run.sh replay TARGET FILE... run TARGET once on each FILE (e.g. fuzz/regressions/*)
#   fuzz/run.sh ci SECONDS            each target for SECONDS in fork mode, then fail on any
#                                     crash, hang or OOM in a file not listed in
#                                     known-crashes/TARGET.txt
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
triple="$(rustc -vV | sed -n 's/^host: //p')"
# What cargo-fuzz passes, minus the sanitizer (-Zsanitizer needs nightly): SanitizerCoverage
# through LLVM passes and options that stable rustc accepts, plus the checks a sanitizer-less
# build can still make (debug assertions, overflow checks).
export RUSTFLAGS="${RUSTFLAGS:-} -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0 --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
targets=(pcap pcapng decode pipeline)
bin() { echo "$here/target/$triple/release/$1"; }

case "${1:-}" in
  build)
    # --target keeps RUSTFLAGS off build scripts and proc macros (no libFuzzer main in them).
    # Into the fuzz crate's own target directory, where `bin` finds the targets, whatever the
    # caller's CARGO_TARGET_DIR says.
    CARGO_TARGET_DIR="$here/target" cargo build --release --locked --target "$triple" --bins
    ;;
  seeds)
    # From the main workspace (see the example's header), without the fuzzing flags.
    (cd .. && RUSTFLAGS="" cargo run --locked -q -p tcpsleuth-capture --example fuzz_seeds -- \
      "$here/corpus" "$here/../../shared/corpus/public" "$here/../fixtures/captures")
    ;;
  run)
    target="$2" secs="$3"
    out="${ARTIFACTS:-artifacts}/$target"
    mkdir -p "corpus/$target" "$out" "regressions/$target"
    # -timeout: a single input running 10 s is a hang; -rss_limit_mb: more than 2 GiB is a leak
    # or an unbounded allocation; -max_len 64 KiB: room for several blocks and frames.
    # FORK=1 runs in libFuzzer's fork mode and keeps going after a crash (each one is saved in
    # artifacts/): for long runs, so that one known bug does not end the search for others.
    fork=()
    if [ -n "${FORK:-}" ]; then fork=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); fi
    exec "$(bin "$target")" "corpus/$target" "regressions/$target" -max_total_time="$secs" \
      -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "${fork[@]}" \
      -artifact_prefix="$out/"
    ;;
  ci)
    secs="$2" failed=0
    for target in "${targets[@]}"; do
      # Apart from the artifacts of any longer run going on.
      out="artifacts/ci/$target"
      rm -rf "$out"
      mkdir -p "$out"
      ARTIFACTS=artifacts/ci FORK=1 "$here/run.sh" run "$target" "$secs" >"$out.log" 2>&1 || true
      # The last status line says how far it got; none means it never ran.
      status="$(grep -E '^#[0-9]+: cov' "$out.log" | tail -n 1 || true)"
      if [ -z "$status" ]; then
        echo "$target: the fuzzer did not run:" >&2
        cat "$out.log" >&2
        failed=1
      else
        echo "$target: $status"
      fi
      for a in "$out"/*; do
        [ -e "$a" ] || continue
        # The panicking file, as crates/x/src/y.rs (the first word of a known-crashes line; not
        # the line, which moves with every edit above it).
        where="$("$(bin "$target")" -runs=1 -timeout=10 -rss_limit_mb=2048 "$a" 2>&1 | grep -m1 -oE 'panicked at [^ ]+' \
          | sed -E 's#^panicked at (.*/)?((crates|fuzz)/[^:]+):[0-9]+:[0-9]+:?$#\2#' || true)"
        known="known-crashes/$target.txt"
        if [ -n "$where" ] && [ -f "$known" ] && cut -d' ' -f1 "$known" | grep -qxF "$where"; then
          echo "$target: known crash ($where), input $a"
        else
          echo "$target: NEW failure ${where:-(no panic: hang or out of memory)}, input $a" >&2
          failed=1
        fi
      done
    done
    exit "$failed"
    ;;
  replay)
    target="$2"; shift 2
    exec "$(bin "$target")" -runs=1 "$@"
    ;;
  *)
    echo "usage: $0 build | seeds | run TARGET SECONDS | ci SECONDS | replay TARGET FILE..." >&2
    exit 2
    ;;
esac

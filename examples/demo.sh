#!/usr/bin/env bash
# A real rotation on the embedded store, no server needed: copies the NIS2
# example inventory and its sample .env into a fresh directory outside the
# repository, then runs init, plan, rotate, status and audit verify there.
# The repository's tracked files are never touched.
#
#   bash examples/demo.sh            # builds rotor (debug) first, honouring CARGO_TARGET_DIR
#   bash examples/demo.sh --where    # where that build puts the binary
#   ROTOR_BIN=/path/to/rotor bash examples/demo.sh
#   ROTOR_DEMO_DIR=/some/empty/dir bash examples/demo.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Where cargo puts the debug binary: CARGO_TARGET_DIR, build.target-dir or
# target/, as `cargo metadata` reports it.
built_bin() {
  local dir
  dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  printf '%s/debug/rotor\n' "${dir:-$repo/target}"
}
if [[ "${1:-}" == "--where" ]]; then
  built_bin   # prints where the build below puts rotor, builds nothing
  exit 0
fi
if [[ -z "${ROTOR_BIN:-}" ]]; then
  cargo build --quiet --manifest-path "$repo/Cargo.toml" -p rotor-cli
  ROTOR_BIN=$(built_bin)
  if [[ ! -x "$ROTOR_BIN" ]]; then
    echo "demo.sh: cargo built rotor-cli but $ROTOR_BIN is not there; set ROTOR_BIN=/path/to/rotor" >&2
    exit 1
  fi
fi
# The script changes directory below: make a relative ROTOR_BIN absolute.
case "$ROTOR_BIN" in
  /*) ;;
  */*) ROTOR_BIN="$PWD/$ROTOR_BIN" ;;
esac
work=${ROTOR_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rotor-demo.XXXXXX")}
mkdir -p "$work"
cp "$repo/examples/nis2/rotor.toml" "$work/rotor.toml"
cp "$repo/examples/nis2/env.example" "$work/.env"
cd "$work"

step() { printf '\n\033[1m$ rotor %s\033[0m\n' "$*"; "$ROTOR_BIN" "$@"; }

step init
step plan
step --ticket DEMO-1 rotate --all
step status
step --ticket DEMO-1 rotate jwt
step status
step history jwt
step audit verify

printf '\nThe demo project is in %s (its .env now holds the rotated values).\n' "$work"
printf 'Look around: cd %s && %s status\n' "$work" "$ROTOR_BIN"

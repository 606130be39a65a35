# Sourced by scripts/run and scripts/test: makes sure every build tool is present, installing
# only what is missing. cargo-leptos cannot download its helpers here, so they come from the
# registries: the wasm-bindgen CLI from crates.io (exactly the version in Cargo.lock) and
# wasm-opt from npm's binaryen (Debian's binaryen 108 emits wasm that crashes at start).

set -euo pipefail

PATIO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PATIO_TOOLS="${PATIO_TOOLS:-$HOME/.local/share/patio-tools}"
CARGO_LEPTOS_VERSION="0.3.11"
BINARYEN_VERSION="132.0.0"
export PATH="$HOME/.cargo/bin:$PATIO_TOOLS/node_modules/.bin:$PATH:$HOME/.local/bin"
# cargo-leptos compiles this into the server; plain cargo builds need it too (TOOLCHAIN.md).
export LEPTOS_OUTPUT_NAME="patio"
# Panic locations in the wasm bundle name source files by absolute path; short names keep the
# bundle ~9 KB smaller (see BENCHMARKS.md). cargo-leptos keeps these flags for the wasm build.
# When several prefixes match, rustc applies the last one.
registry_src="${CARGO_HOME:-$HOME/.cargo}/registry/src"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$registry_src=/crates \
--remap-path-prefix=$registry_src/index.crates.io-1949cf8c6b5b557f=/crates \
--remap-path-prefix=$PATIO_ROOT=/patio"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$PATIO_ROOT/Cargo.lock"
}

ensure_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi

  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 30 minutes, once)"
    # Its dependencies need a newer rustc than stable; the app itself builds on stable.
    if ! rustup toolchain list | grep -q '^nightly'; then
      rustup toolchain install nightly --profile minimal
    fi
    cargo +nightly install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
  fi

  local wbg
  wbg="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    say "Installing the wasm-bindgen CLI $wbg (about 8 minutes, once)"
    # No --locked: one of its locked dependencies is no longer in the registry.
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi

  if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    say "Installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
    mkdir -p "$PATIO_TOOLS"
    npm install --prefix "$PATIO_TOOLS" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
  fi
}

AIOSMTPD_VERSION="1.4.6"
ICALENDAR_VERSION="6.1.0"

# The notification tests' real parts (tests/notifications/): an SMTP server and an iCalendar
# parser from PyPI.
ensure_notification_tools() {
  if ! python3 -c "import aiosmtpd, icalendar, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION' or icalendar.__version__ != '$ICALENDAR_VERSION')" 2>/dev/null; then
    say "Installing aiosmtpd $AIOSMTPD_VERSION and icalendar $ICALENDAR_VERSION (PyPI)"
    python3 -m pip install --quiet --user "aiosmtpd==$AIOSMTPD_VERSION" "icalendar==$ICALENDAR_VERSION"
  fi
}

SCHEMATHESIS_VERSION="4.32.5"

ensure_fuzz_tools() {
  if ! st --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "Installing schemathesis $SCHEMATHESIS_VERSION (PyPI)"
    python3 -m pip install --quiet --user "schemathesis==$SCHEMATHESIS_VERSION"
  fi
}

ensure_browser_tools() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "Installing chromium (Debian package)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -d "$PATIO_ROOT/end2end/node_modules/@playwright/test" ]; then
    say "Installing the end-to-end test packages"
    (cd "$PATIO_ROOT/end2end" && npm ci --no-audit --no-fund --silent)
  fi
}

# Sourced by scripts/run and scripts/test: makes sure every build tool is present, installing
# only what is missing. cargo-leptos cannot download its helpers here, so they come from the
# registries: the wasm-bindgen CLI from crates.io (exactly the version in Cargo.lock) and
# wasm-opt from npm's binaryen (Debian's binaryen 108 emits wasm that crashes at start).

set -euo pipefail

PATIO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PATIO_TOOLS="${PATIO_TOOLS:-$HOME/.local/share/patio-tools}"
# The Python test tools live in a virtual environment of their own: a plain Debian python3
# refuses `pip install --user` (PEP 668, "externally managed environment").
PATIO_VENV="$PATIO_TOOLS/venv"
CARGO_LEPTOS_VERSION="0.3.11"
BINARYEN_VERSION="132.0.0"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATIO_TOOLS/node_modules/.bin:$PATIO_VENV/bin:$PATH"
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

# Installs the Debian packages named, with sudo unless root, waiting for another apt's lock.
apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "$@" >/dev/null
}

# The virtual environment the Python test tools go in, made once (on Debian, python3-venv
# provides what `python3 -m venv` needs); its bin folder is first on PATH, so `python3` there is
# the environment's.
ensure_python_env() {
  if [ ! -x "$PATIO_VENV/bin/python3" ]; then
    say "Making a Python virtual environment for the test tools ($PATIO_VENV)"
    mkdir -p "$PATIO_TOOLS"
    if ! python3 -m venv "$PATIO_VENV" 2>/dev/null; then
      rm -rf "$PATIO_VENV"
      apt_install python3-venv
      python3 -m venv "$PATIO_VENV"
    fi
    # Commands found before it existed now resolve to its bin folder.
    hash -r
  fi
}

# pip install into the test tools' environment.
pip_install() {
  ensure_python_env
  "$PATIO_VENV/bin/python3" -m pip install --quiet --disable-pip-version-check "$@"
}

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
  ensure_python_env
  if ! python3 -c "import aiosmtpd, icalendar, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION' or icalendar.__version__ != '$ICALENDAR_VERSION')" 2>/dev/null; then
    say "Installing aiosmtpd $AIOSMTPD_VERSION and icalendar $ICALENDAR_VERSION (PyPI)"
    pip_install "aiosmtpd==$AIOSMTPD_VERSION" "icalendar==$ICALENDAR_VERSION"
  fi
}

SCHEMATHESIS_VERSION="4.32.5"

ensure_fuzz_tools() {
  ensure_python_env
  if ! st --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "Installing schemathesis $SCHEMATHESIS_VERSION (PyPI)"
    pip_install "schemathesis==$SCHEMATHESIS_VERSION"
  fi
}

ensure_browser_tools() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "Installing chromium (Debian package)"
    apt_install chromium
  fi
  if [ ! -d "$PATIO_ROOT/end2end/node_modules/@playwright/test" ]; then
    say "Installing the end-to-end test packages"
    (cd "$PATIO_ROOT/end2end" && npm ci --no-audit --no-fund --silent)
  fi
}

#!/usr/bin/env bash
# The Python package's tests (`make test` runs this after `cargo test --workspace`):
#   1. a virtual environment .deps/pyenv with pytest, numpy, hypothesis, matplotlib and maturin
#      from PyPI (once; later runs skip it),
#   2. the package: by default the extension built by cargo beside the tests (the dev profile
#      and the test build's features, so every dependency is the test build's own and only
#      pyo3 and the bindings compile), laid out with python/plateau/ in target/debug/python;
#      with --pip, `pip install ./python` as a user installs it (maturin, release build;
#      `.ci/run` checks the packaging this way),
#   3. pytest python/tests, against the CLI that `cargo test --workspace` built (target/debug).
# With --venv, step 1 alone (`make test` runs it beside the Rust build: it is mostly downloads).
# One line per step; on failure the last lines of the step's log and the log's path.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.deps/pyenv
LOGS=.deps/logs
REQUIREMENTS="pytest numpy hypothesis matplotlib maturin>=1.9.4,<2"
mkdir -p "$LOGS"

step() { # step NAME LOG COMMAND...: runs COMMAND with its output in LOG.
    local name=$1 log=$2
    shift 2
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "python: error: $name failed (full log: $log)" >&2
        exit 1
    fi
}

# Debian's python3 ships venv and pip apart (python3-venv); install them as root, as bootstrap
# does for HDF5, when missing.
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "python: installing python3-venv with apt-get"
        step "apt-get install python3-venv" "$LOGS/apt.log" \
            bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip"
    else
        echo "python: error: $PYTHON lacks venv/ensurepip: run (as root) apt-get install python3-venv" >&2
        exit 1
    fi
fi

if [ ! -f "$VENV/.ready" ] || [ "$(cat "$VENV/.ready")" != "$REQUIREMENTS" ]; then
    echo "python: creating $VENV ($REQUIREMENTS)"
    rm -rf "$VENV"
    step "creating $VENV" "$LOGS/pyenv.log" \
        bash -c "'$PYTHON' -m venv '$VENV' && '$VENV/bin/pip' install -q --upgrade pip && '$VENV/bin/pip' install -q $(printf "'%s' " $REQUIREMENTS)"
    echo "$REQUIREMENTS" >"$VENV/.ready"
else
    echo "python: $VENV ready"
fi
[ "${1:-}" = --venv ] && exit 0

if [ "${1:-}" = --pip ]; then
    # maturin (the build backend, without build isolation) runs from the environment's bin/.
    export PATH="$PWD/$VENV/bin:$PATH"
    start=$(date +%s)
    step "pip install ./python" "$LOGS/python-install.log" \
        "$VENV/bin/pip" install --no-build-isolation --no-deps --force-reinstall ./python
    echo "python: pip install ./python ($(($(date +%s) - start)) s)"
else
    # The same target selection as `cargo test` (tests and examples: dev-dependencies on), so
    # the features, and with them every compiled dependency, are the test build's.
    start=$(date +%s)
    step "cargo build (the extension)" "$LOGS/python-build.log" \
        cargo build --workspace --lib --bins --tests --examples
    pkg=target/debug/python/plateau
    rm -rf "$pkg" && mkdir -p "$pkg"
    cp python/plateau/*.py python/plateau/*.pyi python/plateau/py.typed "$pkg/"
    cp target/debug/lib_plateau.so "$pkg/_plateau.abi3.so"
    # Ahead of any `pip install ./python` in the environment.
    export PYTHONPATH="$PWD/target/debug/python${PYTHONPATH:+:$PYTHONPATH}"
    echo "python: extension built by cargo, dev profile ($(($(date +%s) - start)) s)"
fi

export PLATEAU_BIN=${PLATEAU_BIN:-$PWD/target/debug/plateau}
export MPLBACKEND=Agg
start=$(date +%s)
step "pytest python/tests" "$LOGS/pytest.log" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests
echo "python: $(tail -n 1 "$LOGS/pytest.log") ($(($(date +%s) - start)) s)"

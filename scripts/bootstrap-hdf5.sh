#!/usr/bin/env bash
# The system HDF5 library that the fastMRI reader (crate hdf5-metno) links: Debian's
# libhdf5-dev, installed with apt-get when pkg-config cannot find it (needs root, as in CI on a
# fresh Debian 12). apt's output goes to .deps/logs/bootstrap-hdf5.log, shown only on failure.
set -euo pipefail

NAME=bootstrap-hdf5
DEST=hdf5
# shellcheck source=scripts/bootstrap-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap-common.sh"

if pkg-config --exists hdf5 2>/dev/null; then
    say "HDF5 $(pkg-config --modversion hdf5) found"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [[ "$(id -u)" != 0 ]]; then
    die "the HDF5 development files are missing: run (as root) apt-get install libhdf5-dev pkg-config"
fi
say "installing libhdf5-dev and pkg-config with apt-get (~10 MB; apt's log: .deps/logs/bootstrap-hdf5.log)"
start=$(date +%s)
log="$DEPS/logs/bootstrap-hdf5.log"
logged "$log" bash -c 'apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhdf5-dev pkg-config' ||
    die "apt-get could not install libhdf5-dev pkg-config (network?)"
say "done in $(($(date +%s) - start)) s: HDF5 $(pkg-config --modversion hdf5)"

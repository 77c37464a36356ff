# The two commands a newcomer needs (see README.md, "Set-up"):
#   make reproduce   regenerate the paper's results
#   make test        run the whole test suite (Rust, then the Python package: scripts/python-test.sh)
# Both first install LibTorch into .deps/ (once; later runs skip it).

CARGO ?= cargo
SHELL := bash

.DEFAULT_GOAL := test
.PHONY: test reproduce bootstrap

test: bootstrap
	$(CARGO) test --workspace
	bash scripts/python-test.sh

# Builds both binaries (`plateau` and the LibTorch trainer `plateau-train`) into target/release.
reproduce: bootstrap
	$(CARGO) build --release --workspace --bins
	./target/release/plateau reproduce

# Internal: LibTorch 2.11.0 for tch, into .deps/ (found via .cargo/config.toml); the
# scikit-image sample photographs into .deps/skimage-data (`--data skimage`); the system HDF5
# library that the fastMRI reader (crate hdf5-metno) links: Debian's libhdf5-dev, installed
# with apt-get when pkg-config cannot find it (needs root, as in CI on a fresh Debian 12).
bootstrap:
	bash scripts/bootstrap-libtorch.sh
	bash scripts/bootstrap-skimage.sh
	@if pkg-config --exists hdf5 2>/dev/null; then \
		echo "bootstrap: HDF5 $$(pkg-config --modversion hdf5) found"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "bootstrap: installing libhdf5-dev pkg-config with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhdf5-dev pkg-config; \
	else \
		echo "bootstrap: error: the HDF5 development files are missing: run (as root) apt-get install libhdf5-dev pkg-config" >&2; \
		exit 1; \
	fi

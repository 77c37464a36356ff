# The two commands a newcomer needs (see README.md, "Set-up"):
#   make reproduce   regenerate the paper's results
#   make test        run the whole test suite (Rust, then the Python package against the extension
#                    cargo builds beside the tests: scripts/python-test.sh)
# Both first install LibTorch into .deps/ (once; later runs skip it).

CARGO ?= cargo
SHELL := bash

.DEFAULT_GOAL := test
.PHONY: test reproduce bootstrap

# One cargo build of every test target and of the Python extension (pyo3 compiles beside the rest
# instead of after it), the Python environment set up meanwhile, then the tests.
test: bootstrap
	@mkdir -p .deps/logs; bash scripts/python-test.sh --venv >.deps/logs/venv.out 2>&1 & venv=$$!; \
	$(CARGO) build --workspace --lib --bins --tests --examples && $(CARGO) test --workspace; \
	rc=$$?; wait $$venv; venv_rc=$$?; cat .deps/logs/venv.out; \
	[ $$rc = 0 ] && [ $$venv_rc = 0 ] && bash scripts/python-test.sh

# Builds both binaries (`plateau` and the LibTorch trainer `plateau-train`) into target/release.
reproduce: bootstrap
	$(CARGO) build --release --workspace --bins
	./target/release/plateau reproduce

# Internal: LibTorch 2.11.0 for tch, into .deps/ (found via .cargo/config.toml); the
# scikit-image sample photographs into .deps/skimage-data (`--data skimage`); the system HDF5
# library that the fastMRI reader (crate hdf5-metno) links (apt-get, when missing). One line per
# step; pip's and apt's output go to .deps/logs/ and are shown only on failure.
bootstrap:
	@bash scripts/bootstrap-libtorch.sh
	@bash scripts/bootstrap-skimage.sh
	@bash scripts/bootstrap-hdf5.sh

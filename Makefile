# The two commands a newcomer needs (see README.md, "Set-up"):
#   make reproduce   regenerate the paper's results
#   make test        run the whole test suite
# Both first install LibTorch into .deps/ (once; later runs skip it).

CARGO ?= cargo
SHELL := bash

.DEFAULT_GOAL := test
.PHONY: test reproduce bootstrap

test: bootstrap
	$(CARGO) test --workspace

reproduce: bootstrap
	$(CARGO) run --release -p plateau -- reproduce

# Internal: LibTorch 2.11.0 for tch, into .deps/ (found via .cargo/config.toml).
bootstrap:
	bash scripts/bootstrap-libtorch.sh

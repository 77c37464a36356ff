"""Shared fixtures: the repository root and the `plateau` CLI binary to compare against."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def plateau_bin() -> str:
    """The CLI: $PLATEAU_BIN, else target/{debug,release}/plateau (`make test` has built the
    debug one by then), else built here with cargo (debug, once)."""
    env = os.environ.get("PLATEAU_BIN")
    if env:
        return env
    for profile in ("debug", "release"):
        p = ROOT / "target" / profile / "plateau"
        if p.exists():
            return str(p)
    subprocess.run(["cargo", "build", "-q", "-p", "plateau", "--bin", "plateau"], cwd=ROOT, check=True)
    return str(ROOT / "target" / "debug" / "plateau")


def run_cli(bin_path: str, *args: str) -> str:
    out = subprocess.run([bin_path, *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout

"""docs/python.md runs: every ```python block, in order, in one namespace, in a temporary
folder (figures/ linked in for the committed curves), with matplotlib's Agg backend."""

import os
import re

import matplotlib

matplotlib.use("Agg")


def test_python_md_runs(root, tmp_path, monkeypatch):
    text = (root / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    code = blocks[0].splitlines()
    assert len([l for l in code if l.strip()]) <= 15, "the figure takes at most 15 lines"
    os.symlink(root / "figures", tmp_path / "figures")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_python_md"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/python.md block {i}", "exec"), namespace)
    assert (tmp_path / "risk_vs_N.png").stat().st_size > 10_000

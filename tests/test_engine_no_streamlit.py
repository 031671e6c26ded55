"""The engine runs without Streamlit (or plotly) installed: a subprocess in which importing them
fails imports every engine module and runs engine tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("streamlit", "plotly"):
            raise ImportError(f"{name} is not installed (blocked by the test)")
        return None
sys.meta_path.insert(0, Block())
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_the_blocker_works():
    p = run("import streamlit")
    assert p.returncode != 0 and "blocked by the test" in p.stderr


def test_every_engine_module_imports_without_streamlit():
    p = run("""
import pkgutil, importlib, rnnviz, rnnviz.cells
names = [m.name for m in pkgutil.iter_modules(rnnviz.__path__, "rnnviz.") if m.name not in ("rnnviz.ui", "rnnviz.figures")]
for n in names + ["rnnviz.cells.lstm", "rnnviz.cells.gru"]:
    importlib.import_module(n)
assert "streamlit" not in sys.modules and "plotly" not in sys.modules
print(len(names))
""")
    assert p.returncode == 0, p.stderr
    assert int(p.stdout.strip()) > 15


def test_engine_tests_run_without_streamlit():
    p = run("""
import pytest
sys.exit(pytest.main(["-q", "-x", "-p", "no:cacheprovider", "tests/test_engine_cells_trainer.py",
                      "tests/test_engine_cells.py", "-k", "not random_cases"]))
""")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert " passed" in p.stdout

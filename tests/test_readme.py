"""The README's quick start is exactly two commands, and CI runs the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block and text.index(block.group(0)) < 200, "the README must open with the quick start"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_two_commands_run_app_and_tests():
    run_app, run_tests = quick_start()
    assert "streamlit run app.py" in run_app and "requirements.txt" in run_app
    assert "pytest" in run_tests and "requirements-dev.txt" in run_tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, run_tests = quick_start()
    assert run_tests in ci.splitlines(), "CI must run the README's test command verbatim"
    assert "apt-get install -y" in ci and "chromium" in ci


def test_requirements_cover_runtime_imports():
    req = (ROOT / "requirements.txt").read_text(encoding="utf-8").lower()
    for pkg in ("streamlit", "numpy", "plotly", "pandas"):
        assert re.search(rf"^{pkg}\b", req, re.M), pkg

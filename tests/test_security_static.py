"""Static checks of the source: no eval/exec/pickle on anything, no shared per-user state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("rnnviz/**/*.py")])
BANNED_CALLS = {"eval", "exec", "compile", "__import__"}
BANNED_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal", "joblib", "cloudpickle"}


def trees():
    for path in SOURCES:
        yield path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8"))


def test_sources_found():
    assert len(SOURCES) > 20


@pytest.mark.parametrize("path, tree", list(trees()), ids=lambda x: str(x) if isinstance(x, Path) else "")
def test_no_eval_exec_pickle_or_shared_caches(path, tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in BANNED_CALLS, f"{path}:{node.lineno} calls {node.func.id}"
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & BANNED_MODULES, f"{path}:{node.lineno}"
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in BANNED_MODULES, f"{path}:{node.lineno}"
        if isinstance(node, ast.keyword) and node.arg in ("allow_pickle", "unsafe_allow_html", "unsafe_allow_javascript"):
            assert isinstance(node.value, ast.Constant) and node.value.value is False, f"{path}:{node.lineno} {node.arg}"
        if isinstance(node, ast.Attribute) and node.attr in ("cache_resource", "experimental_singleton"):
            raise AssertionError(f"{path}:{node.lineno} uses st.{node.attr}: it is shared by every user")


UI = [(p, t) for p, t in trees() if str(p).startswith(("pages", "rnnviz/ui")) or str(p) == "app.py"]


@pytest.mark.parametrize("path, tree", UI, ids=lambda x: str(x) if isinstance(x, Path) else "")
def test_no_mutable_module_level_containers_in_the_ui(path, tree):
    """Pages and session glue keep per-user state in st.session_state, never in module globals."""
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            value = node.value
            mutable = isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "dict", "set"))
            names = [t.id for t in getattr(node, "targets", [getattr(node, "target", None)]) if isinstance(t, ast.Name)]
            assert not mutable or all(n.isupper() for n in names), (
                f"{path}:{node.lineno} module-level mutable {names}: per-user state must live in the session")

"""The training fingerprint covers the source files only: the bytecode that `rasa train` writes
when it imports components/ (and other untracked litter) must not make the next run train again."""

from __future__ import annotations

import py_compile
import shutil
import subprocess
from pathlib import Path

import pytest

from ops.train import INPUTS, ROOT, fingerprint


def _copy_inputs(target: Path) -> None:
    for name in ["config.yml"] + INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _litter(root: Path) -> None:
    """What a training run or an editor leaves behind in components/."""
    for module in (root / "components").glob("*.py"):
        py_compile.compile(
            str(module), cfile=str(root / "components" / "__pycache__" / (module.stem + ".cpython-310.pyc"))
        )
    (root / "components" / "stray.pyc").write_bytes(b"\x00bytecode")
    (root / "components" / ".intent_resolver.py.swp").write_bytes(b"swap")


def test_bytecode_does_not_change_the_fingerprint_without_git(tmp_path):
    _copy_inputs(tmp_path)
    before = fingerprint(root=tmp_path)
    _litter(tmp_path)
    assert fingerprint(root=tmp_path) == before


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_only_files_git_tracks_count(tmp_path):
    _copy_inputs(tmp_path)
    (tmp_path / ".gitignore").write_text("__pycache__/\n*.pyc\n*.swp\nbuild/\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run(git + ["init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(git + ["add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "inputs"], cwd=tmp_path, check=True)
    before = fingerprint(root=tmp_path)
    _litter(tmp_path)
    assert fingerprint(root=tmp_path) == before
    # a real source change still counts, also before it is committed
    with (tmp_path / "components" / "language.py").open("a") as handle:
        handle.write("\n# changed\n")
    assert fingerprint(root=tmp_path) != before


def test_importing_the_components_keeps_the_fingerprint_of_this_tree():
    """What `rasa train` does to components/: import every module, which writes __pycache__/."""
    before = fingerprint()
    for module in (ROOT / "components").glob("*.py"):
        py_compile.compile(str(module), doraise=True)
    assert fingerprint() == before

"""ops/find_python.sh: only an interpreter that really runs counts; pyenv is asked next."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from regelhulp.paths import ROOT

SCRIPT = ROOT / "ops" / "find_python.sh"


def run_with_path(folder: Path):
    env = dict(os.environ, PATH="%s:/usr/bin:/bin" % folder)
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)


def executable(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def test_broken_shim_is_skipped_and_pyenv_version_is_used(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "python3.10", 'echo "pyenv: python3.10: command not found" >&2; exit 127')
    prefix = tmp_path / "versions" / "3.10.13"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").symlink_to(sys.executable)  # the test runs on Python 3.8-3.10
    executable(
        bin_dir / "pyenv",
        'case "$1" in versions) printf "3.11.7\\n3.10.13\\n3.9.18\\n";; prefix) echo "%s/versions/$2";; esac'
        % tmp_path,
    )
    result = run_with_path(bin_dir)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == Path(sys.executable).resolve()


def test_no_suitable_python_fails_with_a_clear_message(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "python3.10", "exit 127")
    result = run_with_path(bin_dir)
    if result.returncode == 0:  # the machine itself has a real python3.8-3.10 in /usr/bin
        assert "python3." in result.stdout
    else:
        assert "no Python 3.8, 3.9 or 3.10 found" in result.stderr and "pyenv install" in result.stderr

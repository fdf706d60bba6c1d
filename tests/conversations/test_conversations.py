"""Runs the conversation stories in tests/conversations/test_conversations.yml with `rasa test` on the trained model."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ops.train import rasa_env
from regelhulp.paths import ROOT


@pytest.mark.slow
def test_conversation_stories_pass(trained_model, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(trained_model),
            "--stories",
            "tests/conversations/test_conversations.yml",  # the stories only, not this file
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path / "results"),
            "--no-plot",
        ],
        cwd=ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, detail

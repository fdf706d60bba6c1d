"""The slow tests split from tests/unit/test_train_fingerprint.py (real servers or training)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_a_training_run_does_not_change_the_fingerprint(trained_model):
    """After `make train` (the trained_model fixture) the stored model is still the current one."""
    from ops.train import model_path

    assert model_path() == trained_model and trained_model.exists()

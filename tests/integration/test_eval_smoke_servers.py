"""The slow tests split from tests/unit/test_eval_smoke.py (real servers or training)."""

from __future__ import annotations

import pytest
from conftest import EVAL_DIR

from tools.evaluate import load_cases, run_case


@pytest.mark.slow
def test_smoke_cases_are_answered_correctly(stack):
    results = [run_case(stack, c) for c in load_cases(EVAL_DIR / "smoke.yml")]
    failing = [
        "%s: %s %s\n%s" % (r.case.id, r.outcome, r.failed_patterns, r.reply) for r in results if r.outcome != "correct"
    ]
    assert not failing, "\n\n".join(failing)

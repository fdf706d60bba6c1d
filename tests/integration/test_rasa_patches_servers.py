"""The slow tests split from tests/unit/test_rasa_patches.py (real servers or training)."""

from __future__ import annotations

import pytest
from conftest import BASE_PATCHES, answers_rule

from ops.servers import LOG_DIR, reply_text
from regelhulp.rasa_server import BANNER


@pytest.mark.slow
def test_patches_are_on_in_the_running_server_and_custom_actions_still_answer(stack, kb):
    log = (LOG_DIR / ("%s-server.log" % stack.name)).read_text(errors="replace")
    assert BANNER + ", ".join(BASE_PATCHES) in log
    sender = "patches-test"
    asked = reply_text(stack.say(sender, "mag hij bij ons komen werken?"))
    answered = reply_text(stack.say(sender, "hij zit nog in de asielprocedure"))  # custom actions run
    assert kb.status_group("asylum_seeker").button in asked
    assert answers_rule(answered, kb, "paid_work", "asylum_seeker")
    log = (LOG_DIR / ("%s-server.log" % stack.name)).read_text(errors="replace")
    assert "Failed to validate Action server response" not in log

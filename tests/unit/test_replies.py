"""Composing replies: a shared answer is given before the status question; per-status parts after."""

from __future__ import annotations

import yaml
from conftest import joined

from regelhulp import replies
from regelhulp.knowledge import load


def with_shared_answer(folder):
    path = folder / "rules" / "work.yml"
    data = yaml.safe_load(path.read_text())
    entry = next(e for e in data["entries"] if e["id"] == "paid_work")
    entry["answer"] = "Iedereen die werkt, krijgt minstens het minimumloon."
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return load(folder)


def test_shared_answer_comes_first_then_the_status_question(knowledge_copy):
    kb = with_shared_answer(knowledge_copy)
    entry = kb.rule("paid_work")
    reply = replies.ask_status(kb, entry)
    assert "minimumloon" in reply.text and "Bron:" in reply.text
    assert len(reply.buttons) == 4 and reply.metadata["asks"] == "status"


def test_known_status_gets_its_own_part_first_then_the_shared_part(knowledge_copy):
    kb = with_shared_answer(knowledge_copy)
    text = joined(replies.rule_answer(kb, kb.rule("paid_work"), "status_holder"))
    assert text.index(kb.rule("paid_work").answers["status_holder"]) < text.index(
        "minimumloon"
    )  # the direct answer first


def test_status_only_entry_asks_without_stating_a_rule(kb):
    entry = next(e for e in kb.rules if e.depends_on_status and not e.answer)
    reply = replies.ask_status(kb, entry)
    assert "Bron:" not in reply.text and len(reply.buttons) == 4


def test_answer_names_status_source_date_and_contacts(kb):
    text = joined(replies.rule_answer(kb, kb.rule("volunteering"), "asylum_seeker"))
    assert "asielzoeker in de procedure" in text
    assert "Hier kun je terecht: [UWV](https://" in text or "Hier kun je terecht: [" in text
    assert ", stand " in text and " · nagekeken " in text


def test_unclear_and_pending_entries_say_so(kb, monkeypatch):
    monkeypatch.setenv("REGELHULP_TODAY", "2026-06-11")  # before every pending_from
    unclear = next(e for e in kb.rules if e.state == "unclear")
    assert "niet eens" in joined(replies.rule_answer(kb, unclear, "ukrainian"))
    pending = next(e for e in kb.rules if e.pending)
    assert "gepland maar nog geen wet" in joined(replies.rule_answer(kb, pending, "asylum_seeker"))


def test_pending_change_shown_only_to_the_groups_it_concerns(kb, monkeypatch):
    monkeypatch.setenv("REGELHULP_TODAY", "2026-06-11")  # before paid_work's pending_from
    entry = kb.rule("paid_work")
    assert entry.pending_for and "status_holder" not in entry.pending_for
    assert "gepland maar nog geen wet" in joined(replies.rule_answer(kb, entry, "asylum_seeker"))
    assert "gepland maar nog geen wet" not in joined(replies.rule_answer(kb, entry, "status_holder"))

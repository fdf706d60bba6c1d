"""`make validate`'s consistency checks between the knowledge base and the Rasa data."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from scripts.validate_knowledge import MIN_EXAMPLES, problems

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("knowledge", "data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    return tmp_path


def test_the_project_is_consistent():
    assert problems(ROOT) == []


def test_intent_with_too_few_examples(project):
    path = project / "data" / "nlu" / "volunteering.yml"
    data = yaml.safe_load(path.read_text())
    item = next(i for i in data["nlu"] if i.get("intent") == "ask_volunteering")
    item["examples"] = "".join("- voorbeeld %d\n" % n for n in range(MIN_EXAMPLES - 1))
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert "intent 'ask_volunteering' has %d NLU examples; at least %d are needed" % (MIN_EXAMPLES - 1, MIN_EXAMPLES) in problems(project)


def test_entry_without_rule_and_rule_without_entry(project):
    rules = project / "data" / "rules" / "answers.yml"
    data = yaml.safe_load(rules.read_text())
    data["rules"] = [r for r in data["rules"] if r["steps"][0]["intent"] != "ask_study"]
    data["rules"].append({"rule": "x", "steps": [{"intent": "ask_unknown_topic"}, {"action": "action_answer_rule"}]})
    rules.write_text(yaml.safe_dump(data, allow_unicode=True))
    found = problems(project)
    assert any("entry 'study': intent 'ask_study' has no rule in data/rules" in p for p in found), found
    assert "intent 'ask_unknown_topic' is answered by action_answer_rule but has no knowledge-base entry" in found


def test_knowledge_errors_are_reported_first(project):
    (project / "knowledge" / "organisations.yml").write_text("organisations: [")
    assert problems(project)[0].startswith("organisations.yml: is not valid YAML")

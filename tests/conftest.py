"""Shared fixtures. The Rasa model is trained at most once per test run (scripts/train.py
reuses it by fingerprint; `make test` trains it before pytest starts)."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Callable, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def edit_rule(folder: Path, file: str, entry_id: str, change: Callable[[dict], object]) -> None:
    """Applies CHANGE to one entry of rules/FILE in a knowledge copy (`knowledge_copy`)."""
    path = folder / "rules" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(next(e for e in data["entries"] if e["id"] == entry_id))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems_of(folder: Path, today: Optional[dt.date] = None) -> List[str]:
    """The problems `load` reports for a broken knowledge copy (it must raise KnowledgeError)."""
    from actions.knowledge import KnowledgeError, load

    with pytest.raises(KnowledgeError) as error:
        load(folder, today=today)
    return error.value.problems


@pytest.fixture(scope="session")
def kb():
    from actions.knowledge import load

    return load()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    from scripts.train import train

    return train()


@pytest.fixture
def knowledge_copy(tmp_path) -> Path:
    """A writable copy of the knowledge base, to break in a test."""
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


@pytest.fixture(scope="session")
def test_page_port() -> int:
    """The port of the test pages that talk to the stack over socket.io with long polling (rasa-webchat),
    which the stack allows as a CORS origin."""
    from scripts.servers import free_port

    return free_port()


@pytest.fixture(scope="session")
def stack(trained_model, tmp_path_factory, test_page_port):
    """The real action server and Rasa server on free loopback ports, shared by the slow tests."""
    from scripts.servers import RasaStack

    with RasaStack(trained_model, tracker_db=tmp_path_factory.mktemp("tracker") / "tracker.db", name="test",
                   extra_cors_origins=["http://127.0.0.1:%d" % test_page_port]) as running:
        yield running

"""Where the project's folders are: the one definition of the project root, for every process
(Rasa server, action server, web server, ops/ and tools/ scripts, tests)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = ROOT / "knowledge"
NLU_DIR = ROOT / "data" / "nlu"
REPORTS_DIR = ROOT / "reports"

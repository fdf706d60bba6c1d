"""Every relative link in the README, docs/ and knowledge/README.md points at a file that exists."""

from __future__ import annotations

import re

import pytest

from regelhulp.paths import ROOT

DOCUMENTS = [ROOT / "README.md", ROOT / "knowledge" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_resolve(document):
    broken = []
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:|#|…", target):
            continue  # a web address, an anchor on the same page, an example
        if not (document.parent / target.split("#")[0]).exists():
            broken.append(target)
    assert broken == [], "%s links to files that do not exist" % document.relative_to(ROOT)

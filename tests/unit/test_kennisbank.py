"""The kennisbank page (regelhulp/web/kennisbank.py): every rule entry with its sources, date and
organisations; values from the knowledge base escaped; stale entries marked; served by the widget's
web server at /kennisbank, and by nginx from the production profile's static export."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from conftest import edit_rule, get
from markupsafe import escape

from ops.servers import free_port
from regelhulp.knowledge import load
from regelhulp.paths import ROOT
from regelhulp.replies import date_text
from regelhulp.web.kennisbank import CONTENT_SECURITY_POLICY, STATE_LABELS, markdown_text, render_page
from regelhulp.web.server import export_static, make_server


def article(html: str, entry_id: str) -> str:
    found = re.search(r'<article class="[^"]*" id="%s"[^>]*>(.*?)</article>' % re.escape(entry_id), html, re.S)
    assert found, "no article for %s" % entry_id
    return found.group(0)


@pytest.fixture
def injected(knowledge_copy) -> Path:
    """A knowledge copy with HTML and a hostile link in its values."""

    def change(entry):  # type: ignore[no-untyped-def]
        entry["title"] = "<script>alert('titel')</script> Controles"
        entry["answer"] = (
            "Zie <img src=x onerror=alert(1)> en [de site van UWV](https://www.uwv.nl/werkgevers) "
            "maar niet [dit](javascript:alert(2)) of [dat](http://example.org)."
        )
        entry["sources"][0]["url"] = 'https://www.uwv.nl/a"><script>alert(3)</script>'

    edit_rule(knowledge_copy, "employer.yml", "employer_checks", change)
    return knowledge_copy


def test_every_entry_is_listed_with_its_facts(kb):
    html = render_page(kb, today=max(r.checked for r in kb.rules))
    assert html.count('<article class="kb-entry') == len(kb.rules)
    themes = {t.id: t.label for t in kb.themes}
    for entry in kb.rules:
        block = article(html, entry.id)
        assert '<a href="#%s">%s</a>' % (entry.id, entry.id) in block  # the anchor /kennisbank#<id> jumps to
        assert escape(entry.title) in block and escape(themes[entry.theme]) in block
        assert STATE_LABELS[entry.state] in block
        assert '<time datetime="%s">%s</time>' % (entry.checked.isoformat(), date_text(kb, entry.checked)) in block
        for source in entry.sources:
            assert '<a href="%s"' % escape(source.url) in block, (entry.id, source.url)
        for oid in entry.organisations:
            organisation = kb.organisations[oid]
            assert '<a href="%s"' % escape(organisation.website) in block and escape(organisation.name) in block
        if entry.answer:
            assert markdown_text(entry.answer) in block
        for group in kb.status_groups:
            if entry.depends_on_status:
                assert (
                    '<div class="kb-answer" data-status="%s"><h4>%s</h4><p>%s</p>'
                    % (group.id, escape(group.label), markdown_text(entry.answers[group.id]))
                    in block
                )
        if entry.pending:
            assert markdown_text(entry.pending) in block


def test_page_is_accessible_and_csp_friendly(kb):
    html = render_page(kb)
    assert '<html lang="nl">' in html and html.count("<h1>") == 1 and "<h2 " in html and "<h3>" in html
    for control in ("kb-search", "kb-theme", "kb-status"):
        assert '<label for="%s">' % control in html and 'id="%s"' % control in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/kennisbank.js" defer>']
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="stylesheet" href="/kennisbank.css">']
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_html_in_the_knowledge_base_is_escaped(injected):
    html = render_page(load(injected))
    block = article(html, "employer_checks")
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;titel&#39;)&lt;/script&gt; Controles" in block
    assert "&lt;img src=x onerror=alert(1)&gt;" in block
    assert '<a href="https://www.uwv.nl/werkgevers" rel="noopener noreferrer">de site van UWV</a>' in block
    assert not any(href.startswith(("javascript:", "http:")) for href in re.findall(r'href="([^"]*)"', block))
    assert "[dit](javascript:alert(2))" in block and "[dat](http://example.org)" in block  # only https becomes a link
    assert 'href="https://www.uwv.nl/a&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in block


def test_stale_entries_are_marked(kb, knowledge_copy):
    today = max(r.checked for r in kb.rules)  # the real entries as fresh as they get
    edit_rule(
        knowledge_copy, "employer.yml", "employer_checks", lambda e: e.update(checked=today - dt.timedelta(days=181))
    )
    edit_rule(
        knowledge_copy, "employer.yml", "employer_support", lambda e: e.update(checked=today - dt.timedelta(days=180))
    )
    kb = load(knowledge_copy, today=today)
    html = render_page(kb, today=today)
    stale = article(html, "employer_checks")
    assert 'class="kb-entry kb-entry-stale' in stale and "Controle nodig" in stale
    assert "Controle nodig" not in article(html, "employer_support")  # 180 days is still fresh
    fresh = [r.id for r in kb.rules if (today - r.checked).days <= 180]
    assert "employer_support" in fresh and all("Controle nodig" not in article(html, rid) for rid in fresh)


def test_web_server_serves_the_page_from_the_configured_knowledge(injected, monkeypatch):
    monkeypatch.setenv("REGELHULP_KNOWLEDGE", str(injected))
    server = make_server("127.0.0.1", free_port(), "http://127.0.0.1:1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    try:
        status, headers, body = get(base + "/kennisbank")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "&lt;script&gt;alert(&#39;titel&#39;)" in body and "<script>alert" not in body
        for entry in load(injected).rules:
            assert 'id="%s"' % entry.id in body
        assert get(base + "/kennisbank.js")[1]["Content-Type"].startswith("text/javascript")
        assert get(base + "/kennisbank.css")[1]["Content-Type"].startswith("text/css")
    finally:
        server.shutdown()


def test_static_export_has_the_page_and_its_files(knowledge_copy, tmp_path):
    edit_rule(knowledge_copy, "work.yml", "paid_work", lambda e: e.update(title="Betaald werk (kopie)"))
    target = export_static(tmp_path / "web", "", knowledge=knowledge_copy)
    assert "Betaald werk (kopie)" in (target / "kennisbank.html").read_text(encoding="utf-8")
    assert (target / "kennisbank.js").read_bytes() == (ROOT / "web" / "kennisbank.js").read_bytes()
    assert (target / "kennisbank.css").read_bytes() == (ROOT / "web" / "kennisbank.css").read_bytes()

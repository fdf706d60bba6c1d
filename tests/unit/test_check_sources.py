"""`make check-sources` (ops/check_sources.py) against a local HTTP server whose pages change,
move and disappear between two runs; and without any network."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ops import check_sources
from ops.servers import free_port

PARAGRAPH = (
    "Een asielzoeker mag in loondienst werken als de werkgever een werkvergunning heeft. De werkgever "
    "vraagt die aan bij UWV. De asielaanvraag loopt dan al minstens zes maanden. UWV beslist binnen "
    "vijf weken nadat de aanvraag compleet is, en de vergunning geldt voor een werkgever en een baan."
)


def page(title: str, body: str, footer: str = "Laatst bijgewerkt op 3 maart 2026") -> bytes:
    return (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'><title>%s</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/werkgevers'>Werkgevers</a> <a href='/zoeken'>Zoeken</a></nav>"
        "<main><article><h1>%s</h1><p>%s</p><p>%s</p></article></main>"
        "<footer><p>%s</p><p>Privacy · Cookies · Toegankelijkheid</p></footer></body></html>"
        % (title, title, body, PARAGRAPH, footer)
    ).encode()


class Site:
    """Pages by path: (status, body, extra headers); the test changes them between runs."""

    def __init__(self) -> None:
        self.pages = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status, body, headers = site.pages.get(self.path, (404, b"<html><body>Niet gevonden</body></html>", {}))
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def site():
    s = Site()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


def run(cited, tmp_path: Path, day: int):
    code = check_sources.check(
        cited,
        tmp_path / "state.json",
        tmp_path / "sources.md",
        now=dt.datetime(2026, 12, day, 6, 0, tzinfo=dt.timezone.utc),
        workers=2,
    )
    state = json.loads((tmp_path / "state.json").read_text())
    return code, state, (tmp_path / "sources.md").read_text()


def test_changed_moved_and_gone_pages_are_reported_with_the_entries_citing_them(site, tmp_path, capsys):
    site.pages = {
        "/werkvergunning": (
            200,
            page("Werkvergunning", "De TWV kost niets."),
            {"ETag": '"v1"', "Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT"},
        ),
        "/vrijwilligers": (200, page("Vrijwilligerswerk", "Een vrijwilligersverklaring vraag je aan bij UWV."), {}),
        "/oekraine": (200, page("Oekraïne", "De tijdelijke bescherming loopt tot 4 maart 2027."), {}),
        "/boetes": (200, page("Boetes", "De boete is 2.250 euro tot 11.250 euro per werknemer."), {}),
    }
    cited = {
        site.url("/werkvergunning"): ["paid_work", "work_permit.duration"],
        site.url("/vrijwilligers"): ["volunteering"],
        site.url("/oekraine"): ["ukraine_protection"],
        site.url("/boetes"): ["employer_checks"],
    }

    code, first, report = run(cited, tmp_path, 1)
    assert code == 0  # the first run records the pages
    record = first["sources"][site.url("/werkvergunning")]
    assert record["status"] == 200 and record["final_url"] == site.url("/werkvergunning")
    assert record["etag"] == '"v1"' and record["last_modified"] == "Tue, 03 Mar 2026 10:00:00 GMT"
    assert len(record["sha256"]) == 64 and record["entries"] == ["paid_work", "work_permit.duration"]
    assert record["change"] is None
    assert "Eerste controle" in report

    # between the runs: one text changes, one page moves, one disappears, one only gets a new footer
    site.pages["/werkvergunning"] = (200, page("Werkvergunning", "De TWV kost 100 euro."), {"ETag": '"v2"'})
    site.pages["/vrijwilligers-nieuw"] = site.pages.pop("/vrijwilligers")
    site.pages["/vrijwilligers"] = (301, b"", {"Location": "/vrijwilligers-nieuw"})
    del site.pages["/oekraine"]
    site.pages["/boetes"] = (
        200,
        page(
            "Boetes",
            "De boete is 2.250 euro tot 11.250 euro per werknemer.",
            footer="Laatst bijgewerkt op 1 december 2026",
        ),
        {},
    )
    capsys.readouterr()

    code, second, report = run(cited, tmp_path, 2)
    assert code == 1
    kinds = {url: (r["change"] or {}).get("kind") for url, r in second["sources"].items()}
    assert kinds == {
        site.url("/werkvergunning"): "changed",
        site.url("/vrijwilligers"): "moved",
        site.url("/oekraine"): "gone",
        site.url("/boetes"): None,
    }
    assert second["sources"][site.url("/werkvergunning")]["change"]["on"] == "2026-12-02"
    assert second["sources"][site.url("/vrijwilligers")]["final_url"] == site.url("/vrijwilligers-nieuw")
    assert second["sources"][site.url("/oekraine")]["status"] == 404
    assert second["sources"][site.url("/boetes")]["sha256"] == first["sources"][site.url("/boetes")]["sha256"]
    assert second["previous_run"] == first["run"]
    for heading, url, cited_by in (
        ("## Tekst gewijzigd (1)", "/werkvergunning", "paid_work, work_permit.duration"),
        ("## Verplaatst (1)", "/vrijwilligers", "volunteering"),
        ("## Verdwenen (1)", "/oekraine", "ukraine_protection"),
    ):
        section = report.split(heading, 1)[1].split("\n## ", 1)[0]
        assert site.url(url) in section and cited_by in section, heading
    assert site.url("/boetes") not in report
    assert "nu: %s" % site.url("/vrijwilligers-nieuw") in report and "HTTP 404" in report
    assert "1 changed, 1 moved, 1 gone" in capsys.readouterr().out

    # a third run without changes: exit 0; the gone page is not news, the earlier changes are kept
    code, third, report = run(cited, tmp_path, 3)
    assert code == 0
    assert (
        third["sources"][site.url("/werkvergunning")]["change"]
        == second["sources"][site.url("/werkvergunning")]["change"]
    )
    assert third["sources"][site.url("/oekraine")]["change"]["on"] == "2026-12-02"
    assert "Nog steeds weg (1)" in report and "Niets veranderd." in report

    # the page comes back
    site.pages["/oekraine"] = (200, page("Oekraïne", "Na 4 maart 2027 komt er een transitiedocument."), {})
    code, fourth, _ = run(cited, tmp_path, 4)
    assert code == 1 and fourth["sources"][site.url("/oekraine")]["change"]["kind"] == "back"


def test_a_page_that_is_gone_on_the_first_run_is_reported(site, tmp_path):
    code, state, report = run({site.url("/bestaat-niet"): ["paid_work"]}, tmp_path, 1)
    assert code == 1 and state["sources"][site.url("/bestaat-niet")]["change"]["kind"] == "gone"
    assert "paid_work" in report


def test_without_network_it_says_so_records_nothing_and_exits_2(tmp_path, capsys):
    closed = "http://127.0.0.1:%d/pagina" % free_port()  # nothing listens there
    (tmp_path / "state.json").write_text('{"run": "earlier", "sources": {}}')
    code = check_sources.check(
        {closed: ["paid_work"], closed + "2": ["volunteering"]}, tmp_path / "state.json", tmp_path / "sources.md"
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "no network" in err and "2 source pages" in err and "Traceback" not in err
    assert (tmp_path / "state.json").read_text() == '{"run": "earlier", "sources": {}}'  # the last state stays
    assert not (tmp_path / "sources.md").exists()


def test_main_without_network_exits_2_without_a_traceback(tmp_path, monkeypatch, capsys):
    def offline(url, timeout=None, headers=None, allow_redirects=True):  # noqa: ARG001
        raise check_sources.requests.ConnectionError("Failed to resolve '%s'" % url)

    monkeypatch.setattr(check_sources.requests, "get", offline)
    assert check_sources.main(["--state", str(tmp_path / "s.json"), "--report", str(tmp_path / "r.md")]) == 2
    assert "no network" in capsys.readouterr().err and not (tmp_path / "s.json").exists()


def test_every_source_of_the_knowledge_base_is_checked_with_its_citing_entries(kb):
    cited = check_sources.citations(kb)
    for entry in kb.rules:
        for source in entry.sources:
            assert entry.id in cited[source.url]
        for facet in entry.facets:
            for source in facet.sources:
                assert facet.id in cited[source.url]
    assert all(url.startswith("https://") for url in cited) and len(cited) > len(kb.rules)


def test_main_text_ignores_menus_and_footers():
    one = check_sources.fingerprint(page("Boetes", "De boete is hoog."), "text/html")
    footer = check_sources.fingerprint(page("Boetes", "De boete is hoog.", footer="Bijgewerkt: gisteren"), "text/html")
    text = check_sources.fingerprint(page("Boetes", "De boete is laag."), "text/html")
    assert one == footer and one != text
    assert check_sources.fingerprint(b"%PDF-1.4 a", "application/pdf") != check_sources.fingerprint(
        b"%PDF-1.4 b", "application/pdf"
    )

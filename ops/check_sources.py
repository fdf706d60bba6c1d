"""`make check-sources`: fetches every source URL of the knowledge base (entries and facets) and
tells the content team which pages changed, moved or disappeared since the last run.

Per URL it records the HTTP status, the final URL after redirects, Last-Modified, ETag and the
SHA-256 of the page's main text (extracted with trafilatura, so menus, footers and cookie banners
do not count as changes) in reports/sources_state.json, and writes reports/sources.md with the
changes and the entries that cite each page. The kennisbank and `make insights` read the state.

Exit code, for a scheduled job: 0 nothing changed, 1 something changed (or a page is gone),
2 no network at all (no page could be reached; nothing is recorded, the last state stays).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import requests

from regelhulp.knowledge import KnowledgeBase, KnowledgeError, load
from regelhulp.paths import ROOT
from regelhulp.review import CHANGE_KINDS, STATE_FILE, load_state  # noqa: F401 (part of this command's interface)

REPORT_FILE = ROOT / "reports" / "sources.md"
USER_AGENT = "Regelhulp-check-sources/1.0 (source monitoring of a public information assistant)"
TIMEOUT_SECONDS = 20
WORKERS = 4


@dataclass
class Fetched:
    """One URL as fetched now."""

    url: str
    status: Optional[int] = None  # HTTP status of the final response; None when there was none
    final_url: Optional[str] = None
    last_modified: Optional[str] = None
    etag: Optional[str] = None
    sha256: Optional[str] = None  # of the main text (of the raw body for other than HTML)
    error: Optional[str] = None  # why there was no response
    network_error: bool = False  # no connection at all (DNS, refused, timeout)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 400


def citations(kb: KnowledgeBase) -> Dict[str, List[str]]:
    """Every source URL with the entries ("paid_work") and facets ("work_permit.duration") citing it."""
    cited: Dict[str, List[str]] = {}
    for entry in kb.rules:
        for source in entry.sources:
            cited.setdefault(source.url, []).append(entry.id)
        for facet in entry.facets:
            for source in facet.sources:
                cited.setdefault(source.url, []).append(facet.id)
    return {url: sorted(set(ids)) for url, ids in sorted(cited.items())}


def main_text(body: bytes, content_type: str) -> str:
    """The readable main text of an HTML page, whitespace folded; other content as it is."""
    if "html" not in content_type.lower():
        return ""
    import trafilatura  # imported here: a slow import, not needed by the kennisbank or insights

    text = trafilatura.extract(body, include_comments=False, include_tables=True)
    if not text:  # a very short page: all its visible text
        from lxml import html as lxml_html

        try:
            text = lxml_html.fromstring(body).text_content()
        except Exception:  # noqa: BLE001 - not parseable as HTML: hash the bytes instead
            return ""
    return " ".join(text.split())


def fingerprint(body: bytes, content_type: str) -> str:
    text = main_text(body, content_type)
    return hashlib.sha256(text.encode("utf-8") if text else body).hexdigest()


def fetch(url: str, timeout: float = TIMEOUT_SECONDS) -> Fetched:
    try:
        response = requests.get(url, timeout=timeout, headers={"User-Agent": USER_AGENT}, allow_redirects=True)
    except (requests.ConnectionError, requests.Timeout) as error:
        return Fetched(url, error=_first_line(error), network_error=True)
    except requests.RequestException as error:
        return Fetched(url, error=_first_line(error))
    result = Fetched(
        url,
        status=response.status_code,
        final_url=response.url,
        last_modified=response.headers.get("Last-Modified"),
        etag=response.headers.get("ETag"),
    )
    if response.status_code < 400:
        result.sha256 = fingerprint(response.content, response.headers.get("Content-Type", ""))
    return result


def _first_line(error: Exception) -> str:
    """The kind and the start of the message, on one line."""
    text = " ".join(str(error).split())
    return "%s: %s" % (type(error).__name__, text[:240]) if text else type(error).__name__


def change_kind(previous: Optional[dict], current: Fetched) -> Optional[str]:
    """What happened to a page since the last run: one of CHANGE_KINDS, "new" for a URL not seen
    before, or None when nothing changed (a page that was gone and still is: None)."""
    previously_ok = previous is not None and previous.get("error") is None and (previous.get("status") or 999) < 400
    if not current.ok:
        if previous is not None and not previously_ok:
            return None
        return "unreachable" if current.error else "gone"
    if previous is None:
        return "new"
    if not previously_ok:
        return "back"
    if current.final_url != previous.get("final_url"):
        return "moved"
    if current.sha256 != previous.get("sha256"):
        return "changed"
    return None


def check(
    cited: Dict[str, List[str]],
    state_path: Path = STATE_FILE,
    report_path: Path = REPORT_FILE,
    now: Optional[dt.datetime] = None,
    fetcher: Callable[[str], Fetched] = fetch,
    workers: int = WORKERS,
) -> int:
    """Fetches every URL of CITED, compares with the state in STATE_PATH, writes the new state and
    the report; returns the exit code (0 nothing changed, 1 changes, 2 no network at all)."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    previous = load_state(state_path)
    before = previous.get("sources", {}) if isinstance(previous.get("sources"), dict) else {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        fetched = dict(zip(cited, pool.map(fetcher, cited)))
    if fetched and all(f.network_error for f in fetched.values()):
        example = next(iter(fetched.values())).error
        print(
            "check-sources: no network: none of the %d source pages could be reached (%s). "
            "Nothing was recorded; the last state (%s) stays. Run it where the internet can be reached."
            % (len(fetched), example, state_path),
            file=sys.stderr,
        )
        return 2

    sources = {}
    changes: Dict[str, List[str]] = {kind: [] for kind in CHANGE_KINDS + ("new", "still_gone")}
    for url, current in fetched.items():
        old = before.get(url)
        kind = change_kind(old, current)
        record = {key: value for key, value in asdict(current).items() if key not in ("url", "network_error")}
        record["entries"] = cited[url]
        record["fetched"] = now.isoformat()
        if kind in CHANGE_KINDS:  # kept until a later run finds another change
            record["change"] = {
                "kind": kind,
                "on": now.date().isoformat(),
                "since": old.get("fetched") if old else None,
            }
        else:
            record["change"] = (old or {}).get("change")
        if kind is None and not current.ok:
            kind = "still_gone"
        if kind:
            changes[kind].append(url)
        sources[url] = record
    state = {"run": now.isoformat(), "previous_run": previous.get("run"), "sources": sources}
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(render_report(state, changes), encoding="utf-8")

    counted = sum(len(changes[k]) for k in CHANGE_KINDS)
    print(
        "check-sources: %d source page(s): %s; report %s"
        % (
            len(sources),
            ", ".join("%d %s" % (len(changes[k]), k.replace("_", " ")) for k in changes if changes[k])
            or "nothing changed",
            report_path,
        )
    )
    return 1 if counted else 0


SECTIONS = (  # the report is for the (Dutch) content team
    ("changed", "Tekst gewijzigd", "De hoofdtekst van de pagina is anders dan bij de vorige controle."),
    ("moved", "Verplaatst", "Het adres stuurt nu door naar een ander adres."),
    ("gone", "Verdwenen", "De pagina geeft een foutcode."),
    ("unreachable", "Niet bereikbaar", "Geen antwoord van de server (kan tijdelijk zijn)."),
    ("back", "Weer bereikbaar", "Was bij de vorige controle weg; lees de pagina opnieuw."),
    ("still_gone", "Nog steeds weg", "Al eerder gemeld."),
    ("new", "Nieuw vastgelegd", "Voor het eerst opgehaald; bij de volgende controle wordt vergeleken."),
)


def render_report(state: dict, changes: Dict[str, List[str]]) -> str:
    sources = state["sources"]
    lines = ["# Bronnen van Regelhulp: controle van %s" % state["run"], ""]
    if state.get("previous_run"):
        lines.append("Vergeleken met de controle van %s. %d bronpagina's." % (state["previous_run"], len(sources)))
    else:
        lines.append("Eerste controle: de stand van %d bronpagina's is vastgelegd." % len(sources))
    counted = sum(len(changes[k]) for k in CHANGE_KINDS)
    lines += [
        "",
        "**%d pagina('s) om na te kijken.** Pas na het nakijken de datum `checked` van de regels aan." % counted
        if counted
        else "Niets veranderd.",
        "",
    ]
    for kind, title, explanation in SECTIONS:
        urls = changes.get(kind) or []
        if not urls:
            continue
        lines += ["## %s (%d)" % (title, len(urls)), "", explanation, ""]
        for url in urls:
            record = sources[url]
            detail = []
            if kind == "moved":
                detail.append("nu: %s" % record["final_url"])
            if record.get("status") and kind in ("gone", "still_gone"):
                detail.append("HTTP %s" % record["status"])
            if record.get("error"):
                detail.append(record["error"])
            lines.append(
                "- %s%s — geciteerd door: %s"
                % (url, " (%s)" % "; ".join(detail) if detail else "", ", ".join(record["entries"]))
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=STATE_FILE)
    parser.add_argument("--report", type=Path, default=REPORT_FILE)
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per page")
    parser.add_argument("--workers", type=int, default=WORKERS, help="pages fetched at the same time")
    args = parser.parse_args(argv)
    try:
        kb = load()
    except KnowledgeError as error:
        print("check-sources: %s" % error, file=sys.stderr)
        return 1
    return check(
        citations(kb), args.state, args.report, fetcher=lambda url: fetch(url, args.timeout), workers=args.workers
    )


if __name__ == "__main__":
    sys.exit(main())

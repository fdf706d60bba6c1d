"""rasa-webchat 1.0.1 (npm; the most used website widget for Rasa, nobody here wrote it) against the
real Rasa and action servers, in Debian's Chromium driven by Playwright: a site that already runs
rasa-webchat can point it at Regelhulp. It opens, sends its initial message without text (which
gets no reply), shows quick replies whose answer follows when one is clicked, and shows the answer
to a rule question. Screenshots: reports/webchat-quick-replies.png
(the quick replies) and reports/webchat.png (the last answer).

rasa-webchat is fetched by ops/setup_browser.sh (run by `make test`); it talks socket.io with
long polling first, so its page is served from the origin the test stack allows (conftest.py)."""

from __future__ import annotations

import json
import re
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import tracker_events

from regelhulp.paths import ROOT

pytestmark = pytest.mark.slow

WEBCHAT = ROOT / "tests" / "webchat"
BUNDLE = WEBCHAT / "node_modules" / "rasa-webchat" / "lib" / "index.js"
RESPONSES = ".rw-message:has(.rw-response)"


class PageHandler(BaseHTTPRequestHandler):
    def __init__(self, *args, rasa_url: str, **kwargs):
        self.rasa_url = rasa_url
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/":
            body, kind = (
                (WEBCHAT / "index.html").read_text().replace("{{RASA_URL}}", self.rasa_url).encode(),
                "text/html",
            )
        elif path == "/rasa-webchat.js":
            body, kind = BUNDLE.read_bytes(), "text/javascript"
        else:
            body, kind = b"Not found", "text/plain"
        self.send_response(200 if kind != "text/plain" else 404)
        self.send_header("Content-Type", kind + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def webchat_site(stack, test_page_port):
    if not BUNDLE.exists():
        pytest.fail("rasa-webchat is not installed: run `bash ops/setup_browser.sh` (make test does)")
    server = ThreadingHTTPServer(("127.0.0.1", test_page_port), partial(PageHandler, rasa_url=stack.url))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/" % test_page_port
    server.shutdown()
    server.server_close()


def responses(page):
    return page.locator(RESPONSES)


def wait_for_response(page, count, pattern):
    """Waits until there are more than COUNT bot messages and one of the new ones matches PATTERN."""
    page.wait_for_function(
        """([selector, count, pattern]) => {
             const all = [...document.querySelectorAll(selector)].slice(count);
             return all.some(m => new RegExp(pattern, 'i').test(m.textContent));
           }""",
        arg=[RESPONSES, count, pattern],
        timeout=45000,
    )


def ask(page, text, pattern):
    before = responses(page).count()
    page.fill(".rw-new-message", text)
    page.keyboard.press("Enter")
    wait_for_response(page, before, pattern)


def test_rasa_webchat_shows_answers_and_quick_replies(browser, webchat_site, stack, kb):
    errors = []
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(webchat_site)
    page.click(".rw-launcher")
    page.wait_for_selector(".rw-new-message:not([disabled])", timeout=30000)
    page.wait_for_function("!!(JSON.parse(sessionStorage.getItem('chat_session') || '{}').session_id)", timeout=30000)
    session = json.loads(page.evaluate("sessionStorage.getItem('chat_session')"))["session_id"]

    # its initial user_uttered (no message) gets no reply, and nothing is stored for it
    page.wait_for_timeout(4000)
    assert responses(page).count() == 0, responses(page).all_text_contents()
    assert not [e for e in tracker_events(stack, session) if e.get("event") in ("user", "bot")]

    # a question that needs the status: its answer comes with quick replies; clicking one answers it
    ask(page, "mag hij studeren?", "Studeren")
    reply = page.locator(".rw-reply", has_text=kb.status_group("status_holder").button).last
    reply.wait_for(timeout=30000)
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    page.screenshot(path=str(reports / "webchat-quick-replies.png"))
    before = responses(page).count()
    reply.click()
    wait_for_response(page, before, "studiefinanciering")

    # a rule question: the answer's text is shown (its metadata did not stop rasa-webchat rendering it)
    before = responses(page).count()
    ask(page, "Mag een asielzoeker werken?", "tewerkstellingsvergunning|TWV")
    page.wait_for_timeout(1000)  # an answer may come as two messages: the short answer, then its source
    answer = " ".join(responses(page).all_text_contents()[before:])
    assert "UWV" in answer
    assert not any(re.search(r"\bSorry\b|niet mee helpen", text) for text in responses(page).all_text_contents())

    page.screenshot(path=str(reports / "webchat.png"))
    assert errors == []
    context.close()

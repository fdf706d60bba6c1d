"""The chat widget in a real browser (Debian's Chromium driven by Playwright) against the real
Rasa and action servers: keyboard use, answers with source links, quick replies, feedback stored
in the tracker, reload, HTML shown as text, the error state, staff mode's link to the kennisbank,
and an axe-core scan. The kennisbank page itself: search and filters, without JavaScript, under its
Content-Security-Policy, and an axe-core scan."""

from __future__ import annotations

import json
import re
import threading

import pytest
from conftest import tracker_events

from ops.servers import free_port
from regelhulp.knowledge import fold
from regelhulp.paths import ROOT
from regelhulp.replies import date_text
from regelhulp.web.server import make_server

pytestmark = pytest.mark.slow


def serve(rasa_url: str):
    server = make_server("127.0.0.1", free_port(), rasa_url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def site(stack):
    server = serve(stack.url)
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def open_with_keyboard(page, site):
    page.goto(site)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "rh-launcher"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'rh-input'")


def ask(page, text, expect):
    """Sends a message and waits until the bot's new messages (an answer may come as two: the short
    answer, then its source line) match `expect`; returns the last new bot message."""
    bots_before = page.locator(".rh-bot").count()
    page.fill("#rh-input", text)
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.rh-bot').length > %d" % bots_before, timeout=30000)
    if expect:
        page.wait_for_function(
            "(() => { const b = [...document.querySelectorAll('.rh-bot')].slice(%d);"
            " return /%s/i.test(b.map(x => x.textContent).join(' ')); })()" % (bots_before, expect),
            timeout=30000,
        )
    page.wait_for_timeout(500)  # a short answer's source line follows as a second message
    last = page.locator(".rh-bot").last
    last.wait_for()
    return last


def bot_text_since(page, bots_before):
    """The text of the bot messages after the first `bots_before` ones."""
    return page.evaluate(
        "[...document.querySelectorAll('.rh-bot')].slice(%d).map(x => x.textContent).join(' ')" % bots_before
    )


def session_id(page):
    return page.evaluate("sessionStorage.getItem('regelhulp.session')")


def test_keyboard_question_answer_with_source_link_and_escape(page, site):
    open_with_keyboard(page, site)
    answer = ask(page, "Mag een asielzoeker bij mij komen werken?", "TWV")
    link = answer.locator("a[href*='uwv.nl']").first
    assert link.get_attribute("rel") == "noopener noreferrer" and " · nagekeken " in answer.text_content()
    assert page.locator(".rh-log").get_attribute("role") == "log"
    assert page.locator(".rh-log").get_attribute("aria-live") == "polite"
    page.keyboard.press("Escape")
    assert page.locator("#rh-panel").is_hidden()
    assert page.evaluate("document.activeElement.className") == "rh-launcher"


def test_messages_carry_their_language_and_the_interface_follows_the_conversation(page, site, stack):
    open_with_keyboard(page, site)
    assert page.locator(".rh-root").get_attribute("lang") == "nl"
    answer = ask(page, "Can a status holder study at a university in the Netherlands?", "Source")
    assert answer.get_attribute("lang") == "en"
    assert page.locator(".rh-user").last.get_attribute("lang") == "en"  # the question, marked after the answer
    assert page.locator(".rh-root").get_attribute("lang") == "en"
    assert page.locator("#rh-input").get_attribute("placeholder") == "Type your question"
    assert page.locator(".rh-human").text_content() == "Talk to a staff member"
    assert page.locator(".rh-privacy-toggle").text_content() == "more"  # the one-line privacy notice, in English
    assert page.get_by_role("button", name="Helpful answer", exact=True).count() >= 1
    english = page.locator(".rh-msg[lang='en']").count()
    assert english >= 2  # the question and its answer
    events = tracker_events(stack, session_id(page))
    assert [e["metadata"].get("lang") for e in events if e.get("event") == "user"][-1] == "nl"  # sent before the switch
    dutch = ask(page, "graag in het Nederlands", "Nederlands")
    assert dutch.get_attribute("lang") == "nl" and page.locator(".rh-root").get_attribute("lang") == "nl"
    assert page.locator("#rh-input").get_attribute("placeholder") == "Typ je vraag"
    page.reload()  # the language is kept with the conversation
    page.wait_for_selector("#rh-panel:not([hidden])")
    assert page.locator(".rh-root").get_attribute("lang") == "nl"
    assert page.locator(".rh-msg[lang='en']").count() == english  # earlier messages keep their language


def test_quick_reply_feedback_and_reload(page, site, stack):
    open_with_keyboard(page, site)
    ask(page, "mag hij studeren?", "Statushouder")
    bots = page.locator(".rh-bot").count()
    page.get_by_role("button", name="Statushouder (heeft een verblijfsvergunning)").click()
    page.wait_for_function(
        "(() => { const b = [...document.querySelectorAll('.rh-bot')].slice(%d);"
        " return /Bron:/.test(b.map(x => x.textContent).join(' ')); })()" % bots,
        timeout=30000,
    )
    page.get_by_role("button", name="Nuttig antwoord", exact=True).last.click()
    page.wait_for_timeout(1500)
    events = tracker_events(stack, session_id(page))
    feedback = [
        e
        for e in events
        if e.get("event") == "user" and (e.get("parse_data") or {}).get("intent", {}).get("name") == "feedback"
    ]
    assert feedback and {"entity": "feedback_value", "value": "up"} in [
        {"entity": x["entity"], "value": x["value"]} for x in feedback[-1]["parse_data"]["entities"]
    ]
    before = page.locator(".rh-msg").count()
    page.reload()
    page.wait_for_selector("#rh-panel:not([hidden])")
    assert page.locator(".rh-msg").count() == before  # the conversation is still shown
    bots = page.locator(".rh-bot").count()
    ask(page, "en mag hij ook vrijwilligerswerk doen?", "statushouder")  # the status is remembered
    answer = bot_text_since(page, bots)
    assert "vrijwilliger" in answer.lower() and "Om wie gaat het" not in answer


def test_html_in_a_message_is_shown_as_text(page, site):
    open_with_keyboard(page, site)
    ask(page, "<img src=x onerror=alert(1)>", "")
    user = page.locator(".rh-user").last
    assert "<img src=x onerror=alert(1)>" in user.text_content()
    assert page.locator(".rh-log img").count() == 0 and page.dialogs == []


def test_server_down_shows_error_with_retry(browser):
    server = serve("http://127.0.0.1:%d" % free_port())  # nothing listens there
    context = browser.new_context()
    page = context.new_page()
    page.goto("http://127.0.0.1:%d/" % server.server_address[1])
    page.click(".rh-launcher")
    page.wait_for_selector(".rh-error:not([hidden])", timeout=20000)
    assert "niet bereikbaar" in page.locator(".rh-error").text_content()
    assert page.get_by_role("button", name="Opnieuw proberen").is_visible()
    context.close()
    server.shutdown()


def test_accessibility_scan_and_screenshot(page, site):
    open_with_keyboard(page, site)
    ask(page, "Mag een statushouder bij ons werken?", "TWV")
    page.add_script_tag(path=str(ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"))
    result = page.evaluate(
        "axe.run(document.querySelector('.rh-root'), {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
    )
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "axe.json").write_text(json.dumps(result["violations"], indent=2))
    page.screenshot(path=str(reports / "widget.png"))
    assert serious == [], [(v["id"], v["help"]) for v in serious]


def test_narrow_screen_has_no_horizontal_scroll(browser, site):
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    page.goto(site)
    page.click(".rh-launcher")
    page.wait_for_selector("#rh-panel:not([hidden])")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.locator("#rh-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    context.close()


EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
# the answer: the bot messages after the user's last message (a direct answer, then its sources)
ANSWER_OFFSET = """(() => {
  const log = document.querySelector('.rh-log'), items = [...log.querySelectorAll('.rh-msg')];
  const lastUser = items.map(x => x.classList.contains('rh-user')).lastIndexOf(true);
  const answer = items.slice(lastUser + 1).filter(x => x.classList.contains('rh-bot'));
  const first = answer[0].getBoundingClientRect(), last = answer[answer.length - 1].getBoundingClientRect();
  return {offset: first.top - log.getBoundingClientRect().top, messages: answer.length,
          padding: parseFloat(getComputedStyle(log).paddingTop), answerHeight: last.bottom - first.top,
          scrollTop: log.scrollTop, maxScroll: log.scrollHeight - log.clientHeight, viewHeight: log.clientHeight};
})()"""


def test_phone_a_long_answer_is_shown_from_its_start_and_the_privacy_notice_shrinks(browser, site):
    """At 360 x 740: a new answer's first line is at the top of the conversation (not the sources
    and feedback buttons at its end), the focus stays in the input, the privacy notice becomes one
    line with "meer", and the icons are SVG with accessible names (no emoji font needed)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site)
    page.click(".rh-launcher")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'rh-input'")
    assert page.locator(".rh-privacy-toggle").is_hidden()  # in full before the first message
    full = page.locator(".rh-privacy").bounding_box()["height"]

    ask(page, "Mag een asielzoeker bij mij komen werken?", "TWV")
    bots = page.locator(".rh-bot").count()
    ask(page, "Wat zijn de regels voor betaald werk?", "Bron")  # a general question: the overview, a long answer
    page.wait_for_timeout(300)  # anything that might still scroll (fonts, layout)
    where = page.evaluate(ANSWER_OFFSET)
    assert where["answerHeight"] > where["viewHeight"], (
        where,
        bot_text_since(page, bots),
    )  # a long answer: it does not fit
    assert abs(where["offset"] - where["padding"]) <= 2, where  # its first line at the top of the view
    assert where["scrollTop"] < where["maxScroll"] - 50, where  # not scrolled to the bottom
    assert page.evaluate("document.activeElement.id") == "rh-input"  # focus unchanged
    assert page.locator(".rh-log").get_attribute("aria-live") == "polite"  # still announced

    privacy = page.locator(".rh-privacy")
    toggle = page.get_by_role("button", name="meer", exact=True)
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.rh-privacy-text')).lineHeight)")
    assert page.locator(".rh-privacy-text").bounding_box()["height"] <= line * 1.2  # one line
    assert privacy.bounding_box()["height"] < full / 1.5 and toggle.get_attribute("aria-expanded") == "false"
    assert "BSN" in page.locator(".rh-privacy-text").text_content()  # the full text is still there for screen readers

    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    page.screenshot(path=str(reports / "widget-360x740.png"))

    page.add_script_tag(path=str(ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"))
    result = page.evaluate(
        "axe.run(document.querySelector('.rh-root'), {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
    )
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], v["help"]) for v in serious]

    panel = page.locator("#rh-panel")
    assert not EMOJI.search(panel.inner_text()), panel.inner_text()
    for name in ("Nuttig antwoord", "Niet nuttig antwoord", "Sluit de chat"):
        button = page.get_by_role("button", name=name, exact=True).last
        assert button.is_visible() and button.locator("svg[aria-hidden='true']").count() == 1
    page.evaluate("document.querySelector('.rh-log').scrollTop = 1e6")  # the answer's end: sources, feedback
    page.screenshot(path=str(reports / "widget-360x740-end.png"))
    toggle.click()
    assert page.get_by_role("button", name="minder", exact=True).get_attribute("aria-expanded") == "true"
    assert page.locator(".rh-privacy-text").bounding_box()["height"] > line * 1.5
    page.screenshot(path=str(reports / "widget-360x740-privacy.png"))
    context.close()


def test_staff_mode_links_a_rule_answer_to_its_kennisbank_entry(page, site, kb):
    page.goto(site + "?staff=1")
    page.click(".rh-launcher")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'rh-input'")
    answer = ask(page, "Mag een asielzoeker bij mij komen werken?", "TWV")
    link = answer.locator(".rh-staff a")
    label = link.text_content()
    match = re.fullmatch(r"Regel: ([a-z_]+) · gecontroleerd (.+)", label)
    assert match, label
    entry = kb.rule(match.group(1))
    assert entry is not None and match.group(2) == date_text(kb, entry.checked)
    assert link.get_attribute("href") == site + "kennisbank#" + entry.id
    page.goto(link.get_attribute("href"))
    assert page.locator("#%s h3" % entry.id).text_content() == entry.title
    assert page.evaluate("document.querySelector(':target').id") == entry.id


def test_normal_mode_shows_no_rule_link(page, site):
    open_with_keyboard(page, site)
    answer = ask(page, "Mag een asielzoeker bij mij komen werken?", "TWV")
    assert answer.locator(".rh-fb-up").count() == 1  # a rule answer: it carries a rule id
    assert page.locator(".rh-staff").count() == 0


@pytest.fixture(scope="module")
def web_only():
    """The web server alone (the kennisbank page needs no Rasa server)."""
    server = serve("http://127.0.0.1:%d" % free_port())
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()


# the text of each entry, one text node after another (as web/kennisbank.js searches it)
ENTRY_TEXTS = """Object.fromEntries([...document.querySelectorAll('.kb-entry')].map(a => {
  const walker = document.createTreeWalker(a, NodeFilter.SHOW_TEXT), parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
  return [a.id, parts.join(' ')];
}))"""


def visible_entries(page):
    return set(page.evaluate("[...document.querySelectorAll('.kb-entry:not([hidden])')].map(a => a.id)"))


def test_kennisbank_search_and_filters(page, web_only, kb):
    errors = []  # console errors, e.g. what the Content-Security-Policy blocked (the favicon 404 aside)
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(web_only + "kennisbank")
    page.wait_for_selector("#kb-filters:not([hidden])")
    texts = {rid: fold(text) for rid, text in page.evaluate(ENTRY_TEXTS).items()}
    assert set(texts) == {r.id for r in kb.rules} == visible_entries(page)

    page.fill("#kb-search", "TWV")
    expected = {rid for rid, text in texts.items() if "twv" in text}
    assert {"paid_work", "work_permit"} <= expected and len(expected) < len(texts)
    assert visible_entries(page) == expected
    assert page.locator("#kb-count").text_content().startswith("%d van de %d regels" % (len(expected), len(texts)))
    page.fill("#kb-search", "twv UWV Oekraïne")  # every word; case and accents ignored
    both = {rid for rid, text in texts.items() if "twv" in text and "uwv" in text and "oekraine" in text}
    assert both and visible_entries(page) == both
    page.fill("#kb-search", "zzzgeenwoord")
    assert visible_entries(page) == set() and page.locator("#kb-empty").is_visible()

    page.fill("#kb-search", "")
    page.select_option("#kb-theme", "study")
    assert visible_entries(page) == {r.id for r in kb.rules if r.theme == "study"}
    assert page.locator("section.kb-theme[data-theme=work]").is_hidden()

    page.select_option("#kb-theme", "")
    page.select_option("#kb-status", "ukrainian")
    assert visible_entries(page) == set(texts)  # an entry with one shared answer holds for everybody
    assert page.locator("#paid_work [data-status=ukrainian]").is_visible()
    assert page.locator("#paid_work [data-status=asylum_seeker]").is_hidden()
    assert errors == []  # nothing blocked by the Content-Security-Policy, no script error


def test_kennisbank_without_javascript_shows_every_entry(browser, web_only, kb):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(web_only + "kennisbank")
    assert page.locator(".kb-entry:visible").count() == len(kb.rules)
    assert page.locator("#kb-filters").is_hidden()  # no controls that would do nothing
    context.close()


def test_kennisbank_accessibility_scan(browser, web_only):
    context = browser.new_context(bypass_csp=True)  # to inject axe-core
    page = context.new_page()
    page.goto(web_only + "kennisbank")
    page.wait_for_selector("#kb-filters:not([hidden])")
    page.add_script_tag(path=str(ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"))
    result = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})")
    context.close()
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], v["help"]) for v in serious]


def test_kennisbank_needs_review_filter(page, monkeypatch, kb):
    """After 4 March 2027 the entries of temporary protection need a review; the filter shows only those."""
    monkeypatch.setenv("REGELHULP_TODAY", "2027-03-05")  # the page is rendered when the server starts
    server = serve("http://127.0.0.1:%d" % free_port())
    try:
        page.goto("http://127.0.0.1:%d/kennisbank" % server.server_address[1])
        page.wait_for_selector("#kb-filters:not([hidden])")
        marked = set(page.evaluate("[...document.querySelectorAll('.kb-entry[data-review]')].map(a => a.id)"))
        assert {"ukraine_protection", "ukraine_notification"} <= marked and len(marked) < len(kb.rules)
        page.check("#kb-review")
        assert visible_entries(page) == marked
        page.select_option("#kb-theme", "work")
        assert visible_entries(page) == {r.id for r in kb.rules if r.theme == "work"} & marked
        page.select_option("#kb-theme", "")
        page.uncheck("#kb-review")
        assert visible_entries(page) == {r.id for r in kb.rules}
    finally:
        server.shutdown()

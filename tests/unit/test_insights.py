"""`make insights`: the figures counted from stored events, the HTML report, the command's errors,
and reading the production profile's PostgreSQL store (a database of its own, dropped afterwards).
The conversations are built from Rasa's own event classes, as the tracker store keeps them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import DAY1, cell, conversations, run_insights
from markupsafe import escape
from rasa.shared.core.events import SessionStarted

from regelhulp.insights.report import PLOTS, write_report
from regelhulp.insights.stats import compute


def as_dicts(conversation_events):
    return {sender: [e.as_dict() for e in events] for sender, events in conversation_events.items()}


@pytest.fixture(scope="module")
def figures():
    return compute(as_dicts(conversations()))


def test_counts_conversations_messages_and_days(figures):
    assert figures.conversations == 3
    assert figures.messages == 12 and figures.typed == 7  # payloads (feedback, buttons) are not typed
    assert (figures.first_day, figures.last_day) == (dt.date(2026, 11, 2), dt.date(2026, 11, 3))
    day1, day2 = figures.days.values()
    assert (day1.conversations, day1.messages, day1.typed) == (1, 7, 2)
    assert (day2.conversations, day2.messages, day2.typed, day2.fallback, day2.out_of_scope) == (2, 5, 5, 3, 1)


def test_fallback_and_out_of_scope_rates(figures):
    assert figures.fallback == 3  # two nlu_fallback, one policy fallback
    assert figures.out_of_scope == 1
    assert figures.fallback_rate == pytest.approx(3 / 7) and figures.out_of_scope_rate == pytest.approx(1 / 7)


def test_themes_count_conversations_per_rule(figures):
    assert dict(figures.themes) == {"paid_work": 2, "volunteering": 1}
    assert figures.intents["ask_paid_work"] == 2 and figures.intents["nlu_fallback"] == 2


def test_feedback_per_rule_only_from_valid_buttons(figures):
    assert {rule: dict(counts) for rule, counts in figures.feedback.items()} == {
        "paid_work": {"up": 1, "down": 0},
        "volunteering": {"up": 0, "down": 1},
    }
    assert (figures.feedback_total("up"), figures.feedback_total("down")) == (1, 1)


def test_handoffs_by_reason_and_requests(figures):
    assert dict(figures.handoffs) == {"request": 1, "fallback": 1}
    assert figures.handoff_requests == 2  # the widget's button and a typed request


def test_unanswered_messages_are_listed_redacted_in_time_order(figures):
    listed = [(u.kind, u.text) for u in figures.unanswered]
    assert listed == [
        ("fallback", "blorp mail me op [weggelaten]"),
        ("fallback", "<b>zxqv</b> fnord"),
        ("out_of_scope", "Wat voor weer wordt het morgen?"),
        ("fallback", "mag hij werken?"),
        ("handoff", "ik wil een medewerker"),
    ]  # the widget's /request_human button is counted, but it is not a question to list


def test_no_conversations_gives_zeros():
    empty = compute({"only-a-session-start": [SessionStarted(timestamp=DAY1).as_dict()]})
    assert (empty.conversations, empty.messages, empty.fallback_rate, empty.first_day) == (0, 0, 0.0, None)


# ---------------------------------------------------------------- the report


def test_report_opens_with_period_and_figures_and_escapes_messages(figures, tmp_path, kb):
    stale = [kb.rules[0]]
    path = write_report(figures, kb, stale, tmp_path, "SQLite test.db", today=dt.date(2026, 11, 22))
    page = path.read_text(encoding="utf-8")
    assert "Periode: 2 november 2026 tot en met 3 november 2026. Gesprekken: 3." in page
    assert cell(page, "Gesprekken") == "3"
    assert cell(page, "Niet begrepen") == "3 (42,9%)"
    assert cell(page, "Buiten het onderwerp") == "1 (14,3%)"
    assert cell(page, "Feedback nuttig / niet nuttig") == "1 / 1"
    assert cell(page, "Kennisbank: lang niet gecontroleerd") == "1"
    assert "<td>%s</td><td>%s</td>" % (kb.rules[0].id, escape(kb.rules[0].title)) in page
    assert "blorp mail me op [weggelaten]" in page and "amina@example" not in page
    assert "&lt;b&gt;zxqv&lt;/b&gt; fnord" in page and "<b>zxqv" not in page
    assert '<td>paid_work</td><td class="n">1</td><td class="n">0</td>' in page  # feedback per rule


def test_html_in_a_knowledge_text_is_escaped_in_the_report(figures, tmp_path, knowledge_copy):
    """A rule title with markup, as the themes, feedback and stale tables show it."""
    from conftest import edit_rule

    from regelhulp.knowledge import load

    edit_rule(knowledge_copy, "work.yml", "paid_work", lambda e: e.update(title="<script>alert('x')</script> Werk"))
    kb = load(knowledge_copy)
    page = write_report(
        figures, kb, [kb.rule("paid_work")], tmp_path, "<script>bron</script>", today=dt.date(2026, 11, 22)
    ).read_text(encoding="utf-8")
    assert "<script" not in page
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Werk" in page and "&lt;script&gt;bron&lt;/script&gt;" in page
    )


def test_report_is_self_contained_with_its_plots_next_to_it(figures, tmp_path, kb):
    page = write_report(figures, kb, [], tmp_path, "SQLite test.db").read_text(encoding="utf-8")
    images = re.findall(r"<img src=\"([^\"]+)\"", page)
    assert sorted(images) == sorted(PLOTS)
    for name in images:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"(src|href)=\"(https?:)?//", page) and "<script" not in page and "<link" not in page


def test_report_without_conversations_has_no_plots(tmp_path, kb):
    for name in PLOTS:  # left over from an earlier run
        (tmp_path / name).write_bytes(b"old")
    page = write_report(compute({}), kb, [], tmp_path, "SQLite leeg.db").read_text(encoding="utf-8")
    assert "geen gesprekken opgeslagen" in page and "<img" not in page
    assert page.count("<p>Geen.</p>") == 6  # per day, themes, intents, feedback, unanswered, stale entries
    assert not any((tmp_path / name).exists() for name in PLOTS)


# ---------------------------------------------------------------- the command


def test_missing_sqlite_store_is_a_clear_error(tmp_path):
    done = run_insights(tmp_path, TRACKER_DB=str(tmp_path / "nothing.db"))
    assert done.returncode == 1
    assert "does not exist" in done.stderr and "nothing.db" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "nothing.db").exists()  # reading must not create it


def test_database_down_is_a_clear_error(tmp_path):
    done = run_insights(tmp_path, "--profile", "prod", PGPORT="1")
    assert done.returncode == 1
    assert "cannot read the tracker store (prod profile" in done.stderr and "Traceback" not in done.stderr
    assert "port 1 failed" in done.stderr  # the database client's own reason, first line


def test_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / "broken.db").write_text("not sqlite")
    done = run_insights(tmp_path, TRACKER_DB=str(tmp_path / "broken.db"))
    assert done.returncode == 1 and "cannot read the tracker store" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- entries to review first


def test_report_lists_passed_dates_and_changed_sources_first(figures, tmp_path, kb):
    from regelhulp.review import REASON_TEXT, to_review

    url = kb.rule("volunteering").sources[0].url
    state = {"sources": {url: {"status": 404, "change": {"kind": "gone", "on": "2027-03-01"}}}}
    for today, expected in (
        (dt.date(2027, 3, 4), {"volunteering"}),
        (dt.date(2027, 3, 5), {"volunteering", "ukraine_protection", "ukraine_allowance"}),
    ):
        review = to_review(kb, today, state)
        page = write_report(figures, kb, [], tmp_path, "SQLite test.db", today=today, review=review).read_text(
            encoding="utf-8"
        )
        section = page.split("<h2>Eerst nakijken</h2>", 1)[1].split("<h2>", 1)[0]
        listed = set(re.findall(r"<tr><td>([a-z_]+)</td>", section))
        assert expected <= listed, (today, listed)
        assert ("ukraine_protection" in listed) == (today > dt.date(2027, 3, 4))
        assert page.index("<h2>Eerst nakijken</h2>") < page.index(
            "<h2>Per dag</h2>"
        )  # the first thing after the figures
        assert cell(page, "Kennisbank: eerst nakijken (datum voorbij of bron veranderd)") == str(len(listed))
    assert escape(REASON_TEXT["until"].format(date="4 maart 2027")) in section
    assert escape(url) in section


def test_report_says_when_there_is_nothing_to_review(figures, tmp_path, kb):
    page = write_report(figures, kb, [], tmp_path, "SQLite test.db", review=[]).read_text(encoding="utf-8")
    assert "<h2>Eerst nakijken</h2>" in page and "Niets om na te kijken." in page


def test_command_uses_regelhulp_today_and_the_sources_state(tmp_path):
    import sqlite3

    sqlite3.connect(str(tmp_path / "empty.db")).close()  # a database without conversations
    (tmp_path / "state.json").write_text("{}")
    for today, listed in (("2027-03-04", False), ("2027-03-05", True)):
        done = run_insights(
            tmp_path,
            "--sources-state",
            str(tmp_path / "state.json"),
            TRACKER_DB=str(tmp_path / "empty.db"),
            REGELHULP_TODAY=today,
        )
        assert done.returncode == 0, done.stderr
        page = (tmp_path / "out" / "insights.html").read_text(encoding="utf-8")
        section = page.split("<h2>Eerst nakijken</h2>", 1)[1].split("<h2>", 1)[0]
        assert ("<td>ukraine_protection</td>" in section) == listed, today

"""The kennisbank for the content team: the dates of each entry and source, the state of its sources
in the last `make check-sources`, and the entries that need a review (regelhulp/review.py), on both
sides of pending_from 2026-06-12 and until 2027-03-04."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from regelhulp import review
from regelhulp.replies import date_text
from regelhulp.web.kennisbank import TEXT, render_page

PACT = dt.date(2026, 6, 12)
PROTECTION_ENDS = dt.date(2027, 3, 4)
DAY = dt.timedelta(days=1)


def article(html: str, entry_id: str) -> str:
    found = re.search(r'<article class="[^"]*" id="%s"[^>]*>.*?</article>' % re.escape(entry_id), html, re.S)
    assert found, entry_id
    return found.group(0)


def reviewed(html: str) -> set:
    return set(re.findall(r'<article class="[^"]*" id="([a-z_]+)"[^>]*data-review="1"', html))


def with_paid_work_unchecked(kb):
    stale = dataclasses.replace(kb.rule("paid_work"), checked=dt.date(2026, 5, 1))
    return dataclasses.replace(kb, rules=tuple(stale if r.id == "paid_work" else r for r in kb.rules))


def test_each_entry_shows_its_dates_and_each_source_its_version(kb):
    html = render_page(kb, today=max(r.checked for r in kb.rules))
    for entry in kb.rules:
        block = article(html, entry.id)
        assert '<time datetime="%s">%s</time>' % (entry.checked.isoformat(), date_text(kb, entry.checked)) in block
        for source in entry.sources:
            assert '<time datetime="%s">' % source.as_of.isoformat() in block, (entry.id, source.url)
        if entry.valid_until:
            assert '<dt>%s</dt><dd><time datetime="%s">' % (TEXT["valid_until"], entry.valid_until.isoformat()) in block
        if entry.pending_from and entry.pending:
            assert (
                '<time datetime="%s">%s</time>' % (entry.pending_from.isoformat(), date_text(kb, entry.pending_from))
                in block
            )
        if entry.facets:
            assert "<dt>%s</dt><dd>%d</dd>" % (TEXT["facets"], len(entry.facets)) in block
    month_source = next(s for s in kb.rule("paid_work").sources if not s.as_of_day)
    month = date_text(kb, month_source.as_of).split(" ", 1)[1]  # "februari 2026"
    assert TEXT["as_of"] % ('<time datetime="%s">%s</time>' % (month_source.as_of.isoformat(), month)) in article(
        html, "paid_work"
    )


def test_nothing_to_review_the_day_the_entries_were_checked(kb):
    today = max(r.checked for r in kb.rules)
    html = render_page(kb, today=today)
    assert reviewed(html) == set() and "kb-review-summary" not in html and "kb-entry-review" not in html
    assert '<input type="checkbox" id="kb-review">' in html and TEXT["review_only"] in html


def test_planned_change_marked_for_review_from_pending_from_without_a_later_check(kb):
    stale_kb = with_paid_work_unchecked(kb)
    before = render_page(stale_kb, today=PACT - DAY)
    after = render_page(stale_kb, today=PACT)
    assert "paid_work" not in reviewed(before) and "paid_work" in reviewed(after)
    reason = review.REASON_TEXT["pending_from"].format(date=date_text(kb, PACT))
    assert reason in article(after, "paid_work") and reason not in article(before, "paid_work")
    assert "<h4>%s</h4>" % TEXT["pending"] in article(before, "paid_work")
    assert "<h4>%s</h4>" % TEXT["pending"] not in article(after, "paid_work")
    assert "<h4>%s</h4>" % TEXT["pending_was_planned"] in article(after, "paid_work")


def test_entry_past_until_is_marked_and_counted(kb):
    on_the_day = render_page(kb, today=PROTECTION_ENDS)
    after = render_page(kb, today=PROTECTION_ENDS + DAY)
    expiring = {r.id for r in kb.rules if r.valid_until == PROTECTION_ENDS}
    reason = review.REASON_TEXT["until"].format(date=date_text(kb, PROTECTION_ENDS))
    assert expiring and expiring <= reviewed(after) and "ukraine_protection" not in reviewed(on_the_day)
    assert all(reason not in article(on_the_day, rid) and reason in article(after, rid) for rid in expiring)
    assert reason in article(after, "ukraine_protection") and "kb-entry-review" in article(after, "ukraine_protection")
    assert TEXT["review_summary"] % (len(reviewed(after)), len(kb.rules)) in after
    expired_label = '<span class="kb-state kb-state-expired">%s</span>' % (
        TEXT["expired"] % date_text(kb, PROTECTION_ENDS)
    )
    assert expired_label in article(after, "ukraine_protection") and expired_label not in article(
        on_the_day, "ukraine_protection"
    )


def test_source_state_of_the_last_check_sources_run(kb):
    entry = kb.rule("volunteering")
    gone, fine, moved = entry.sources[0].url, kb.rule("paid_work").sources[0].url, kb.rule("study").sources[0].url
    state = {
        "run": "2026-12-08T06:00:00+00:00",
        "sources": {
            gone: {
                "status": 404,
                "fetched": "2026-12-08T06:00:00+00:00",
                "change": {"kind": "gone", "on": "2026-12-08"},
            },
            fine: {"status": 200, "fetched": "2026-12-08T06:00:00+00:00", "change": None},
            moved: {
                "status": 200,
                "final_url": "https://example.org/nieuw",
                "fetched": "2026-12-08T06:00:00+00:00",
                "change": {"kind": "moved", "on": "2026-12-01"},
            },  # found before the entry's check: already seen to
        },
    }
    html = render_page(kb, today=dt.date(2026, 12, 8), sources_state=state)
    assert reviewed(html) == {"volunteering"}
    block = article(html, "volunteering")
    assert (
        review.REASON_TEXT["source"].format(
            kind=review.SOURCE_KIND_TEXT["gone"], date=date_text(kb, dt.date(2026, 12, 8)), url=gone
        )
        in block
    )
    assert (
        TEXT["source_change"] % (review.SOURCE_KIND_TEXT["gone"], date_text(kb, dt.date(2026, 12, 8))) + "; HTTP 404"
        in block
    )
    assert TEXT["source_ok"] % (date_text(kb, dt.date(2026, 12, 8)), 200) in article(html, "paid_work")
    assert TEXT["source_moved_to"] % "https://example.org/nieuw" in article(html, "study")
    assert TEXT["source_unknown"] in article(html, "paid_work")  # its other sources were not checked


def test_to_review_lists_dates_and_sources_before_old_checks(kb):
    old = dataclasses.replace(kb.rule("study"), checked=dt.date(2026, 5, 1))  # long ago, but no date passed
    kb2 = dataclasses.replace(
        with_paid_work_unchecked(kb),
        rules=tuple(old if r.id == "study" else r for r in with_paid_work_unchecked(kb).rules),
    )
    items = review.to_review(kb2, today=dt.date(2026, 12, 1))
    ids = [i.entry.id for i in items]
    assert ids.index("paid_work") < ids.index("study")
    assert items[ids.index("study")].stale_days == (dt.date(2026, 12, 1) - dt.date(2026, 5, 1)).days
    assert review.to_review(kb, today=max(r.checked for r in kb.rules)) == []


def test_the_facets_are_listed_under_their_entry_and_searchable_as_text(kb):
    from regelhulp.web.kennisbank import render_page

    page = render_page(kb)
    facet = kb.facet("work_permit.duration")
    entry_start = page.index('id="work_permit"')
    position = page.index('id="%s"' % facet.id)
    assert entry_start < position < page.index("</article>", entry_start)
    assert facet.question_in() in page[position : position + 2000]

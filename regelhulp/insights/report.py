"""Writes the insights report: reports/insights.html (Dutch, for the helpdesk and the content team)
with its PNG plots next to it. Self-contained: no scripts, fonts or styles from elsewhere.
Every text from a conversation is redacted by insights_stats; the page is a Jinja2 template with
autoescape (regelhulp/templates/insights.html), so every text is escaped."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")  # no display; before anything imports pyplot

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from regelhulp.insights.stats import Figures  # noqa: E402
from regelhulp.knowledge import MAX_CHECKED_AGE_DAYS, KnowledgeBase, RuleEntry  # noqa: E402
from regelhulp.replies import date_text  # noqa: E402
from regelhulp.review import Review, reason_lines  # noqa: E402
from regelhulp.templating import render_html  # noqa: E402

PLOTS = ("insights_per_day.png", "insights_rates.png", "insights_themes.png", "insights_feedback.png")
KIND_LABELS = {
    "fallback": "niet begrepen",
    "out_of_scope": "buiten het onderwerp",
    "handoff": "vroeg om een medewerker",
}
MAX_SHOWN_CHARS = 300


def percent(share: float) -> str:
    return ("%.1f%%" % (100 * share)).replace(".", ",")


def _title(kb: KnowledgeBase, rule_id: str) -> str:
    entry = kb.rule(rule_id)
    return entry.title if entry else "(onbekend in de kennisbank)"


# ---------------------------------------------------------------- plots


def _save(figure: Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _bars_per_day(
    title: str, days: Sequence[dt.date], series: Mapping[str, Sequence[float]], ylabel: str, path: Path, integers: bool
) -> None:
    figure = Figure(figsize=(8, 3.5))
    axes = figure.subplots()
    width = 0.8 / len(series)
    for number, (label, values) in enumerate(series.items()):
        axes.bar([p - 0.4 + width * (number + 0.5) for p in range(len(days))], values, width=width, label=label)
    axes.set_xticks(list(range(len(days))))
    axes.set_xticklabels([d.isoformat() for d in days], rotation=45, ha="right")
    if integers:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend()
    _save(figure, path)


def plot_per_day(figures: Figures, path: Path) -> None:
    days = list(figures.days)
    series = {
        "gesprekken": [figures.days[d].conversations for d in days],
        "berichten": [figures.days[d].messages for d in days],
    }
    _bars_per_day("Gesprekken en berichten per dag", days, series, "aantal", path, integers=True)


def plot_rates(figures: Figures, path: Path) -> None:
    days = [d for d in figures.days if figures.days[d].typed]
    series = {
        "niet begrepen": [100 * figures.days[d].fallback / figures.days[d].typed for d in days],
        "buiten het onderwerp": [100 * figures.days[d].out_of_scope / figures.days[d].typed for d in days],
    }
    _bars_per_day(
        "Niet begrepen en buiten het onderwerp, per dag",
        days,
        series,
        "% van de getypte berichten",
        path,
        integers=False,
    )


def _horizontal(title: str, labels: List[str], series: Dict[str, List[int]], xlabel: str, path: Path) -> None:
    """Stacked horizontal bars, one per label; room on the right for the legend."""
    figure = Figure(figsize=(8, max(2.5, 1 + 0.4 * len(labels))))
    axes = figure.subplots()
    left = [0] * len(labels)
    for label, values in series.items():
        axes.barh(labels, values, left=left, label=label if len(series) > 1 else None)
        left = [a + b for a, b in zip(left, values)]
    axes.set_xlim(0, max(left + [1]) * (1.35 if len(series) > 1 else 1.05))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    if len(series) > 1:
        axes.legend(loc="lower right")
    _save(figure, path)


def plot_themes(figures: Figures, kb: KnowledgeBase, path: Path) -> None:
    ranked = figures.themes.most_common()[::-1]  # the most asked at the top
    _horizontal(
        "Onderwerpen",
        [_title(kb, rule_id) for rule_id, _ in ranked],
        {"gesprekken": [n for _, n in ranked]},
        "gesprekken",
        path,
    )


def plot_feedback(figures: Figures, kb: KnowledgeBase, path: Path) -> None:
    rules = sorted(figures.feedback, key=lambda r: sum(figures.feedback[r].values()))
    _horizontal(
        "Feedback per antwoord",
        [_title(kb, r) for r in rules],
        {
            "nuttig": [figures.feedback[r]["up"] for r in rules],
            "niet nuttig": [figures.feedback[r]["down"] for r in rules],
        },
        "reacties",
        path,
    )


# ---------------------------------------------------------------- html


def summary_rows(figures: Figures, stale: Sequence[RuleEntry], review: Sequence[Review] = ()) -> List[tuple]:
    """The short table of figures at the top of the report."""
    return [
        ("Gesprekken", figures.conversations),
        ("Berichten van gebruikers (getypt)", "%d (%d)" % (figures.messages, figures.typed)),
        ("Niet begrepen", "%d (%s)" % (figures.fallback, percent(figures.fallback_rate))),
        ("Buiten het onderwerp", "%d (%s)" % (figures.out_of_scope, percent(figures.out_of_scope_rate))),
        ("Vroeg om een medewerker", figures.handoff_requests),
        (
            "Doorverwezen naar de helpdesk (op verzoek / na niet begrijpen)",
            "%d / %d" % (figures.handoffs["request"], figures.handoffs["fallback"]),
        ),
        ("Feedback nuttig / niet nuttig", "%d / %d" % (figures.feedback_total("up"), figures.feedback_total("down"))),
        ("Kennisbank: lang niet gecontroleerd", len(stale)),
        (
            "Kennisbank: eerst nakijken (datum voorbij of bron veranderd)",
            sum(1 for r in review if r.dates or r.sources),
        ),
    ]


def review_rows(kb: KnowledgeBase, review: Sequence[Review]) -> List[tuple]:
    """The entries to review first: a date that passed without a later check, or a source page that
    changed, moved or disappeared after the entry's check (regelhulp/review.py)."""
    return [
        (
            r.entry.id,
            r.entry.title,
            r.entry.file,
            r.entry.checked.isoformat(),
            "; ".join(reason_lines(dataclasses.replace(r, stale_days=None), lambda d: date_text(kb, d))),
        )
        for r in review
        if r.dates or r.sources
    ]


def render(
    figures: Figures,
    kb: KnowledgeBase,
    stale: Sequence[RuleEntry],
    today: dt.date,
    plots: Dict[str, str],
    source: str,
    review: Sequence[Review] = (),
) -> str:
    if figures.first_day and figures.last_day:
        period = "%s tot en met %s" % (date_text(kb, figures.first_day), date_text(kb, figures.last_day))
    else:
        period = "geen gesprekken opgeslagen"
    return render_html(
        "insights.html",
        period=period,
        figures=figures,
        source=source,
        made=date_text(kb, today),
        plots={key: plots.get(key) for key in ("per_day", "rates", "themes", "feedback")},
        summary=summary_rows(figures, stale, review),
        review_rows=review_rows(kb, review),
        day_rows=[
            (d.isoformat(), v.conversations, v.messages, v.typed, v.fallback, v.out_of_scope)
            for d, v in figures.days.items()
        ],
        theme_rows=[(_title(kb, r), r, n) for r, n in figures.themes.most_common()],
        intent_rows=figures.intents.most_common(),
        feedback_rows=[(_title(kb, r), r, c["up"], c["down"]) for r, c in sorted(figures.feedback.items())],
        unanswered_rows=[
            (
                u.when.strftime("%Y-%m-%d %H:%M"),
                KIND_LABELS.get(u.kind, u.kind),
                u.text if len(u.text) <= MAX_SHOWN_CHARS else u.text[:MAX_SHOWN_CHARS] + " …",
            )
            for u in figures.unanswered
        ],
        max_age_days=MAX_CHECKED_AGE_DAYS,
        stale_rows=[(e.id, e.title, e.file, e.checked.isoformat(), (today - e.checked).days) for e in stale],
    )


def write_report(
    figures: Figures,
    kb: KnowledgeBase,
    stale: Sequence[RuleEntry],
    out_dir: Path,
    source: str,
    today: Optional[dt.date] = None,
    review: Sequence[Review] = (),
) -> Path:
    """Writes insights.html and the plots that have data into OUT_DIR; returns the HTML's path."""
    today = today or dt.date.today()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in PLOTS:  # a plot without data this time must not survive from an earlier run
        (out_dir / name).unlink(missing_ok=True)
    plots: Dict[str, str] = {}
    if figures.days:
        plot_per_day(figures, out_dir / PLOTS[0])
        plots["per_day"] = PLOTS[0]
    if figures.typed:
        plot_rates(figures, out_dir / PLOTS[1])
        plots["rates"] = PLOTS[1]
    if figures.themes:
        plot_themes(figures, kb, out_dir / PLOTS[2])
        plots["themes"] = PLOTS[2]
    if figures.feedback:
        plot_feedback(figures, kb, out_dir / PLOTS[3])
        plots["feedback"] = PLOTS[3]
    path = out_dir / "insights.html"
    path.write_text(render(figures, kb, stale, today, plots, source, review), encoding="utf-8")
    return path

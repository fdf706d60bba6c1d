"""Jinja2 templates: the HTML pages (kennisbank, insights report, the widget's demo page) with
autoescape, so a value from knowledge/ or from a conversation is always escaped, and the generated
configuration files (nginx), where a value may not break out of its line, block or quotes.

The templates live in regelhulp/templates/; a template elsewhere in the project (web/index.html,
deploy/nginx.conf.template) is rendered by its path.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, List, Tuple

import jinja2

from regelhulp.paths import ROOT

TEMPLATES = Path(__file__).resolve().parent / "templates"

# the widget's subset: **bold** or [label](https://...); `*`, `[`, `]`, `(` and `)` are never escaped, so
# matching the raw text finds the same spans as matching the escaped text
_MARKDOWN = re.compile(r"\*\*([^*]+)\*\*|\[([^\]\[]+)\]\((https://[^\s()]+)\)")


def markdown_parts(text: str) -> List[Tuple[str, str, str]]:
    """TEXT as (kind, words, url) pieces: "text", "bold" or "link" (only https links); the template
    (macros.html, `markdown`) writes them, escaped."""
    parts: List[Tuple[str, str, str]] = []
    position = 0
    for match in _MARKDOWN.finditer(text):
        if match.start() > position:
            parts.append(("text", text[position : match.start()], ""))
        if match.group(1) is not None:
            parts.append(("bold", match.group(1), ""))
        else:
            parts.append(("link", match.group(2), match.group(3)))
        position = match.end()
    if position < len(text):
        parts.append(("text", text[position:], ""))
    return parts


@lru_cache(maxsize=None)
def html_environment() -> jinja2.Environment:
    """Autoescape on, for every template: nothing reaches a page unescaped unless it is Markup
    made by a template (the Markdown macro)."""
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), jinja2.FileSystemLoader(str(ROOT))]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["markdown_parts"] = markdown_parts
    return environment


def render_html(name: str, **context: Any) -> str:
    """Renders an HTML template of regelhulp/templates/ (or a path relative to the project root)."""
    return html_environment().get_template(name).render(**context)


def _config_value(value: Any) -> Any:
    """A value in a configuration file stays inside its line, its block and its quotes."""
    text = "" if value is None else str(value)
    if any(c in text for c in '\n\r"{}'):
        raise ValueError("%r cannot go into a configuration file (newline, quote or brace)" % text)
    return value


@lru_cache(maxsize=None)
def config_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), jinja2.FileSystemLoader(str(ROOT))]),
        autoescape=False,  # not HTML: nginx syntax; values are checked by _config_value instead
        undefined=jinja2.StrictUndefined,
        finalize=_config_value,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_config(name: str, **context: Any) -> str:
    """Renders a configuration template (a path relative to the project root, or in regelhulp/templates/)."""
    return config_environment().get_template(name).render(**context)

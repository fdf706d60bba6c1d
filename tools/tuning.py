"""What the tuning commands (`make tune-fallback`, `make tune-facets`) share: the line that names
the best setting per language, and writing the Markdown report into reports/."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List


def announce_best(language: str, best: Dict[str, object], template: str) -> None:
    """Prints "<language>: best <template>", TEMPLATE str.format-ted with BEST's fields."""
    print("%s: best %s" % (language, template.format(**best)))


def write_report(out_dir: Path, name: str, lines: List[str]) -> int:
    """Writes LINES to OUT_DIR/NAME, says where, and returns the command's exit status (0)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("%s/%s" % (out_dir.name, name))
    return 0

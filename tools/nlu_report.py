"""`make nlu-report`: `rasa test nlu` with k-fold cross-validation on the NLU testing config
(config.yml without the fallback components). Writes Rasa's reports (intent_report.json,
intent_confusion_matrix.png, intent_errors.json, ...) to reports/nlu/ and a summary to reports/nlu.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

from ops.derived_configs import nlu_testing_config
from ops.train import rasa_env
from regelhulp.paths import ROOT


def summarise(report: dict, errors: list, folds: int, seconds: float) -> str:
    macro = report["macro avg"]
    intents = {
        k: v
        for k, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and k not in ("macro avg", "weighted avg", "micro avg")
    }
    lines = [
        "# NLU cross-validation report",
        "",
        "%d-fold cross-validation on data/nlu with config.yml minus the fallback components (%.0f s)."
        % (folds, seconds),
        "",
        "**Macro F1 %.3f** · weighted F1 %.3f · accuracy %.3f · %d intents · %d misclassified examples"
        % (macro["f1-score"], report["weighted avg"]["f1-score"], report.get("accuracy", 0), len(intents), len(errors)),
        "",
        "| intent | precision | recall | F1 | support | most confused with |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, row in sorted(intents.items(), key=lambda item: item[1]["f1-score"]):
        confused = ", ".join(
            "%s (%d)" % (k, v) for k, v in sorted(row.get("confused_with", {}).items(), key=lambda kv: -kv[1])[:2]
        )
        lines.append(
            "| %s | %.2f | %.2f | %.2f | %d | %s |"
            % (name, row["precision"], row["recall"], row["f1-score"], row["support"], confused)
        )
    lines += [
        "",
        "Confusion matrix: `reports/nlu/intent_confusion_matrix.png`; errors: `reports/nlu/intent_errors.json`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    out = args.out / "nlu"
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "nlu",
            "--nlu",
            "data/nlu",
            "--config",
            str(nlu_testing_config()),
            "--cross-validation",
            "--folds",
            str(args.folds),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=rasa_env(),
        check=True,
    )
    report = json.loads((out / "intent_report.json").read_text())
    errors_file = out / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    summary = summarise(report, errors, args.folds, time.monotonic() - started)
    (args.out / "nlu.md").write_text(summary)
    print(summary.splitlines()[4])
    return 0


if __name__ == "__main__":
    sys.exit(main())

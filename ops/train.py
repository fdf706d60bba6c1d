"""Trains the Rasa model only when its inputs changed (fingerprint), else reuses the stored one.

The fingerprint covers the config, domain, training data (with the examples generated from the
facets), custom NLU components, the built spaCy
pipeline's meta (which records its base, nl_core_news_sm or the project's own pipeline, and the
entity-ruler patterns from the knowledge base) and the pinned package versions. The model is stored as models/<prefix>-<fingerprint>.tar.gz.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

from regelhulp.paths import ROOT

# The knowledge base reaches the model through the spaCy pipeline's entity-ruler patterns (recorded
# in its meta.json) and the facet phrasings (build/nlu/facets.yml); the NLU components that read it
# (status groups, refusals, routing) load it when the model is loaded. So editing an answer text,
# a refusal or a source does not retrain; editing a phrasing does.
INPUTS = ["domain.yml", "data", "build/nlu", "components", "build/spacy/nl_regelhulp/meta.json", "constraints.txt"]
DATA = ["data", "build/nlu"]  # build/nlu: examples generated from the facets (ops/facet_examples.py)
KEEP_MODELS = 3


# Only source files count: whatever Python or an editor writes next to them (__pycache__/*.pyc,
# *.swp, .DS_Store) must not change the fingerprint, or every `rasa train` (which imports components/
# and so writes bytecode) would make the next `make run` train again.
SOURCE_SUFFIXES = (".py", ".yml", ".yaml", ".json", ".md", ".txt")


def _git_files(root: Path, path: Path) -> Optional[List[Path]]:
    """The files git tracks (or would track: new, not ignored) under `path`; None without git or
    outside a work tree, and for generated folders git ignores (build/), where it lists nothing."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", str(path.relative_to(root))],
            cwd=root,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode()
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    files = [root / name for name in listed.split("\0") if name]
    return [f for f in files if f.is_file()] or None


def source_files(path: Path, root: Path = ROOT) -> List[Path]:
    """The files of one input: the file itself, or the tracked source files of a folder."""
    if not path.is_dir():
        return [path]
    files = _git_files(root, path)
    if files is None:
        files = [
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(root).parts)
        ]
    return sorted(f for f in files if f.suffix in SOURCE_SUFFIXES)


def fingerprint(config: str = "config.yml", root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for name in [config] + INPUTS:
        for file in source_files(root / name, root):
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes() if file.exists() else b"<missing>")
    return digest.hexdigest()[:12]


def model_path(config: str = "config.yml", prefix: str = "regelhulp", root: Path = ROOT) -> Path:
    from ops.facet_examples import write

    write(root / "build" / "nlu" / "facets.yml", root / "knowledge")
    return root / "models" / ("%s-%s.tar.gz" % (prefix, fingerprint(config, root)))


def rasa_env() -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def _prune(prefix: str, keep: Path) -> None:
    models = sorted((ROOT / "models").glob(prefix + "-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][KEEP_MODELS - 1 :]:
        old.unlink()


def train_command(config: str, data: List[str], out: str, name: str) -> List[str]:
    """`rasa train` for CONFIG on DATA into OUT/NAME.tar.gz (also used by `make bench`)."""
    return [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        config,
        "--data",
        *data,
        "--out",
        out,
        "--fixed-model-name",
        name,
    ]


def train(config: str = "config.yml", prefix: str = "regelhulp") -> Path:
    target = model_path(config, prefix)
    if target.exists():
        print("Model up to date, reusing %s" % target.relative_to(ROOT))
        return target
    print("Training %s with %s (the inputs changed) ..." % (target.name, config), flush=True)
    started = time.monotonic()
    command = train_command(config, DATA, "models", target.name[: -len(".tar.gz")])
    subprocess.run(command, cwd=ROOT, env=rasa_env(), check=True)
    print("Trained %s in %.0f s (%.1f MB)" % (target.name, time.monotonic() - started, target.stat().st_size / 1e6))
    _prune(prefix, target)
    return target


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--prefix", default="regelhulp")
    parser.add_argument("--print-path", action="store_true", help="only print the model path for the current inputs")
    args = parser.parse_args(argv)
    if args.print_path:
        print(model_path(args.config, args.prefix))
        return 0
    train(args.config, args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())

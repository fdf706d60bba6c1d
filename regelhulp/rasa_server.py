"""`python -m regelhulp.rasa_server ARGS`: the same as `python -m rasa ARGS`, with the project's Rasa
patches (regelhulp/rasa_patches.py) applied first. ops/servers.py starts every Rasa server
(`make run`, production replicas, tests, evaluation, benchmark) this way.

It prints one line to stderr (the server log, build/logs/*-server.log) saying which patches are
on, before Rasa configures its logging; tests/unit/test_rasa_patches.py reads it from a running server.
"""

from __future__ import annotations

import sys

from regelhulp import rasa_patches

BANNER = "regelhulp: Rasa patches applied: "


def main() -> None:
    names = rasa_patches.apply_all()  # raises on a Rasa version the patches were not written for
    if names:
        print(BANNER + ", ".join(names), file=sys.stderr, flush=True)
    else:
        print("regelhulp: Rasa patches switched off (%s=0)" % rasa_patches.SWITCH, file=sys.stderr, flush=True)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()

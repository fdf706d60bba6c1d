"""`make run`: starts the action server, the Rasa server (REST + socket.io) and the widget page.
`make run PROFILE=prod` (--prod): the production profile instead (ops/prod.py): Rasa replicas on
PostgreSQL and Redis, behind nginx on one port, which also serves the widget page.
`make shell` (--shell): starts the action server and talks to the assistant in the terminal.

Ctrl-C (or SIGTERM) stops both. Host and ports come from RASA_HOST, RASA_PORT and ACTION_PORT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ops.prod import ProdStack
from ops.servers import RASA_SERVER, RasaStack
from ops.train import model_path
from regelhulp.paths import ROOT
from regelhulp.web.server import make_server


def main() -> int:
    model = model_path()
    if not model.exists():
        print("No trained model for the current data; run `make train` first.", file=sys.stderr)
        return 1
    host = os.environ.get("RASA_HOST", "127.0.0.1")
    stack = RasaStack(
        model,
        host=host,
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=int(os.environ.get("ACTION_PORT", "5055")),
        tracker_db=Path(os.environ.get("TRACKER_DB", ROOT / ".rasa" / "tracker.db")),
    )
    if "--shell" in sys.argv[1:]:
        return shell(stack)
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started where SIGINT is ignored
        signal.signal(sig, _interrupt)
    if "--prod" in sys.argv[1:]:
        return run_prod(ProdStack(model))
    print("Starting the action server on %s and the Rasa server on %s ..." % (stack.action_url, stack.url), flush=True)

    def start_with_widget_page() -> str:
        stack.start()
        web = make_server(host, int(os.environ.get("WEB_PORT", "8080")), stack.url)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        return (
            "\nRegelhulp is running (model %s).\n"
            '  REST:      curl -s %s/webhooks/rest/webhook -d \'{"sender":"t1","message":"Mag een asielzoeker bij mij komen werken?"}\'\n'
            "  socket.io: %s/socket.io\n"
            "  widget:    http://%s:%d/  (demo page with the chat widget)\n"
            "  logs:      build/logs/\n"
            "Press Ctrl-C to stop." % (model.name, stack.url, stack.url, host, web.server_address[1])
        )

    return _serve(stack, start_with_widget_page)


def _interrupt(*_) -> None:
    raise KeyboardInterrupt()


def run_prod(stack: ProdStack) -> int:
    s = stack.settings
    print(
        "Starting the production profile: %d Rasa replicas, PostgreSQL %s:%d/%s, Redis %s:%d, nginx on %s ..."
        % (s.replicas, s.pg_host, s.pg_port, s.pg_database, s.redis_host, s.redis_port, s.url),
        flush=True,
    )

    def start() -> str:
        stack.start()
        return (
            "\nRegelhulp (production profile) is running.\n"
            "  REST:      %s/webhooks/rest/webhook\n"
            "  widget:    %s/\n"
            "  logs:      build/logs/ (prod-*.log), build/prod/logs/ (nginx)\n"
            "Press Ctrl-C to stop." % (stack.url, stack.url)
        )

    return _serve(stack, start)


def _serve(stack: RasaStack, start) -> int:  # type: ignore[no-untyped-def]
    """Runs START (which returns the banner), then waits until Ctrl-C or a server stops."""
    try:
        print(start(), flush=True)
        return _watch(stack)
    except KeyboardInterrupt:
        print("\nStopping ...")
        return 0
    finally:
        stack.stop()


def _watch(stack: RasaStack) -> int:
    while all(p.poll() is None for p in stack.processes):
        time.sleep(1)
    print("A server process stopped; see build/logs/. Stopping.", file=sys.stderr)
    return 1


def shell(stack: RasaStack) -> int:
    try:
        stack.start_actions()
        command = RASA_SERVER + ["shell", "--model", str(stack.model), "--endpoints", "endpoints.yml"]
        return subprocess.run(command, cwd=ROOT, env=stack.env()).returncode
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())

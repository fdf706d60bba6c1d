"""`make run`: starts the action server, the Rasa server (REST + socket.io) and the widget page.
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

from scripts.servers import RasaStack
from scripts.web_server import make_server
from scripts.train import ROOT, model_path


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
    def interrupt(*_):
        raise KeyboardInterrupt()

    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started where SIGINT is ignored
        signal.signal(sig, interrupt)
    print("Starting the action server on %s and the Rasa server on %s ..." % (stack.action_url, stack.url), flush=True)
    try:
        stack.start()
        web = make_server(host, int(os.environ.get("WEB_PORT", "8080")), stack.url)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        print(
            "\nRegelhulp is running (model %s).\n"
            "  REST:      curl -s %s/webhooks/rest/webhook -d '{\"sender\":\"t1\",\"message\":\"Mag een asielzoeker bij mij komen werken?\"}'\n"
            "  socket.io: %s/socket.io\n"
            "  widget:    http://%s:%d/  (demo page with the chat widget)\n"
            "  logs:      build/logs/\n"
            "Press Ctrl-C to stop." % (model.name, stack.url, stack.url, host, web.server_address[1]),
            flush=True,
        )
        while all(p.poll() is None for p in stack.processes):
            time.sleep(1)
        print("A server process stopped; see build/logs/. Stopping.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...")
        return 0
    finally:
        stack.stop()


def shell(stack: RasaStack) -> int:
    try:
        stack.start_actions()
        command = [sys.executable, "-m", "rasa", "shell", "--model", str(stack.model), "--endpoints", "endpoints.yml"]
        return subprocess.run(command, cwd=ROOT, env=stack.env()).returncode
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())

"""Starts and stops the action server and the Rasa server as child processes.

Used by `make run`, the end-to-end tests, the evaluation and the benchmark, so that all of them
run the assistant the same way: loopback addresses, ports from the caller, logs in build/logs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from regelhulp.paths import ROOT

LOG_DIR = ROOT / "build" / "logs"
# Every Rasa server starts through this entry: `python -m rasa` with the project's Rasa patches
# applied first (regelhulp/rasa_patches.py; REGELHULP_RASA_PATCHES=0 starts Rasa unpatched).
RASA_SERVER = [sys.executable, "-m", "regelhulp.rasa_server"]


_HANDED_OUT: set = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now and that this process has not handed out before (the kernel may
    offer a just-released port again, and the servers bind theirs only later)."""
    while True:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def http_json(url: str, payload: Optional[dict] = None, timeout: float = 60) -> object:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read().decode("utf-8")
    return json.loads(body) if body else None


def api_args(env: Dict[str, str]) -> List[str]:
    """Rasa's HTTP API (conversations, model, ...) is on only when a token or a JWT secret is set."""
    if env.get("RASA_AUTH_TOKEN"):
        return ["--enable-api", "--auth-token", env["RASA_AUTH_TOKEN"]]
    if env.get("RASA_JWT_SECRET"):
        return [
            "--enable-api",
            "--jwt-secret",
            env["RASA_JWT_SECRET"],
            "--jwt-method",
            env.get("RASA_JWT_METHOD", "HS256"),
        ]
    return []


class RasaStack:
    """The action server plus the Rasa server (REST + socket.io), on loopback."""

    def __init__(
        self,
        model: Path,
        host: str = "127.0.0.1",
        action_port: Optional[int] = None,
        rasa_port: Optional[int] = None,
        tracker_db: Optional[Path] = None,
        name: str = "rasa",
        extra_env: Optional[Dict[str, str]] = None,
        extra_cors_origins: Optional[List[str]] = None,
    ):
        self.model = Path(model)
        self.host = host
        self.action_port = action_port or free_port(host)
        self.rasa_port = rasa_port or free_port(host)
        self.tracker_db = Path(tracker_db or ROOT / ".rasa" / "tracker.db")
        self.name = name
        self.extra_env = extra_env or {}
        self.extra_cors_origins = list(extra_cors_origins or [])
        self.processes: List[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return "http://%s:%d" % (self.host, self.rasa_port)

    @property
    def action_url(self) -> str:
        return "http://%s:%d" % (self.host, self.action_port)

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            ACTION_ENDPOINT=self.action_url + "/webhook",
            TRACKER_DB=str(self.tracker_db),
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONWARNINGS="ignore",
            SANIC_WORKERS="1",
            SANIC_HOST=self.host,  # the action server's address (rasa-sdk reads it; default 0.0.0.0)
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, label: str, args: List[str], program: Optional[List[str]] = None) -> subprocess.Popen:
        """Starts `python -m rasa ARGS` (or PROGRAM ARGS) in its own process group, logging to build/logs."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / ("%s-%s.log" % (self.name, label)), "w")
        process = subprocess.Popen(
            (program or [sys.executable, "-m", "rasa"]) + args,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def log_tail(self, label: str, lines: int = 30) -> str:
        path = LOG_DIR / ("%s-%s.log" % (self.name, label))
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def start_actions(self, timeout: float = 120) -> None:
        process = self._spawn("actions", ["run", "actions", "--actions", "actions", "--port", str(self.action_port)])
        self.action_process = process
        self._wait(process, "actions", self.action_url + "/health", timeout)

    def stop_actions(self) -> None:
        """Stops the action server alone (to see how the assistant copes without it)."""
        process = getattr(self, "action_process", None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)

    def rasa_args(self, port: int, endpoints: str = "endpoints.yml") -> List[str]:
        args = [
            "run",
            "--model",
            str(self.model),
            "--interface",
            self.host,
            "--port",
            str(port),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            endpoints,
            # Browsers may call the HTTP endpoints only from these origins (space-separated).
            "--cors",
            *os.environ.get("RASA_CORS", self.default_cors_origin).split(),
            *self.extra_cors_origins,
        ]
        return args + api_args(self.env())

    @property
    def default_cors_origin(self) -> str:
        return "http://%s:%s" % (self.host, os.environ.get("WEB_PORT", "8080"))

    def start_rasa(self, timeout: float = 300) -> None:
        self.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        process = self._spawn("server", self.rasa_args(self.rasa_port), program=RASA_SERVER)
        self._wait(process, "server", self.url + "/", timeout)

    def start(self) -> "RasaStack":
        try:
            self.start_actions()
            self.start_rasa()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, process: subprocess.Popen, label: str, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    "the %s process stopped (exit %s):\n%s" % (label, process.returncode, self.log_tail(label))
                )
            try:
                urllib.request.urlopen(url, timeout=2).read()
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        raise RuntimeError(
            "the %s process did not answer on %s within %.0f s:\n%s" % (label, url, timeout, self.log_tail(label))
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    def say(self, sender: str, message: str, timeout: float = 60) -> List[dict]:
        """Sends one message over the REST webhook and returns the bot's messages."""
        return http_json(self.url + "/webhooks/rest/webhook", {"sender": sender, "message": message}, timeout) or []

    def stored_events(self, sender: str) -> List[dict]:
        """The events of a conversation as the stack's SQLite tracker store keeps them."""
        import sqlite3

        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
        return [json.loads(data) for (data,) in rows]

    def __enter__(self) -> "RasaStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def reply_text(messages: List[dict]) -> str:
    """All bot texts plus button titles, one per line: what a person sees."""
    lines = []
    for message in messages:
        if message.get("text"):
            lines.append(message["text"])
        lines += [b.get("title", "") for b in message.get("buttons") or []]
    return "\n".join(lines)

"""Serves the widget, its socket.io client and a demo host page on 127.0.0.1:8080 (WEB_PORT).

Only a fixed list of files is served (no directory listing, no paths from the request); the demo
page points the widget at the Rasa server (RASA_URL).
"""
from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Tuple

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
FILES: Dict[str, Tuple[Path, str]] = {
    "/regelhulp-widget.js": (WEB / "regelhulp-widget.js", "text/javascript; charset=utf-8"),
    "/regelhulp-widget.css": (WEB / "regelhulp-widget.css", "text/css; charset=utf-8"),
    "/vendor/socket.io.min.js": (WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js", "text/javascript; charset=utf-8"),
}


def index_page(rasa_url: str) -> bytes:
    return (WEB / "index.html").read_text(encoding="utf-8").replace("{{RASA_URL}}", rasa_url).encode()


def export_static(target: Path, rasa_url: str) -> Path:
    """Writes the same files to a directory, for a web server such as nginx to serve."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "index.html").write_bytes(index_page(rasa_url))
    for path, (file, _kind) in FILES.items():
        if file.exists():
            (target / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            (target / path.lstrip("/")).write_bytes(file.read_bytes())
    return target


class Handler(BaseHTTPRequestHandler):
    def __init__(self, *args, rasa_url: str, **kwargs):
        self.rasa_url = rasa_url
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            return self._send(200, index_page(self.rasa_url), "text/html; charset=utf-8")
        if path in FILES and FILES[path][0].exists():
            file, kind = FILES[path]
            return self._send(200, file.read_bytes(), kind)
        self._send(404, b"Not found", "text/plain; charset=utf-8")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


def make_server(host: str, port: int, rasa_url: str) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), partial(Handler, rasa_url=rasa_url))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.rasa_url)
    print("Widget demo page: http://%s:%d/" % (args.host, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

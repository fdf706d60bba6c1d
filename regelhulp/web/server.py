"""Serves the widget, its socket.io client, a demo host page and the kennisbank page on
127.0.0.1:8080 (WEB_PORT).

Only a fixed list of files is served (no directory listing, no paths from the request); the demo
page points the widget at the Rasa server (RASA_URL). The kennisbank page (/kennisbank, see
regelhulp/web/kennisbank.py) is rendered from the knowledge base ($REGELHULP_KNOWLEDGE or knowledge/)
once, at start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional, Tuple

from regelhulp.knowledge import load
from regelhulp.paths import ROOT
from regelhulp.review import load_state
from regelhulp.templating import render_html
from regelhulp.web.kennisbank import CONTENT_SECURITY_POLICY, render_page

WEB = ROOT / "web"
FILES: Dict[str, Tuple[Path, str]] = {
    "/regelhulp-widget.js": (WEB / "regelhulp-widget.js", "text/javascript; charset=utf-8"),
    "/regelhulp-widget.css": (WEB / "regelhulp-widget.css", "text/css; charset=utf-8"),
    "/vendor/socket.io.min.js": (
        WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "text/javascript; charset=utf-8",
    ),
    "/kennisbank.js": (WEB / "kennisbank.js", "text/javascript; charset=utf-8"),
    "/kennisbank.css": (WEB / "kennisbank.css", "text/css; charset=utf-8"),
}
KENNISBANK_PATHS = ("/kennisbank", "/kennisbank.html")
HTML = "text/html; charset=utf-8"


def index_page(rasa_url: str) -> bytes:
    """The widget's demo page (web/index.html, a Jinja2 template) talking to RASA_URL."""
    return render_html("web/index.html", RASA_URL=rasa_url).encode()


def kennisbank_page(knowledge: Optional[Path] = None) -> bytes:
    """The kennisbank page for the knowledge base in KNOWLEDGE (default: $REGELHULP_KNOWLEDGE or knowledge/),
    with the source state of the last `make check-sources` (reports/sources_state.json) when there is one."""
    return render_page(load(Path(knowledge) if knowledge else None), sources_state=load_state()).encode()


def export_static(target: Path, rasa_url: str, knowledge: Optional[Path] = None) -> Path:
    """Writes the same files to a directory, for a web server such as nginx to serve
    (the kennisbank page as kennisbank.html)."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "index.html").write_bytes(index_page(rasa_url))
    (target / "kennisbank.html").write_bytes(kennisbank_page(knowledge))
    for path, (file, _kind) in FILES.items():
        if file.exists():
            (target / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            (target / path.lstrip("/")).write_bytes(file.read_bytes())
    return target


class Handler(BaseHTTPRequestHandler):
    def __init__(self, *args, rasa_url: str, kennisbank: bytes, **kwargs):
        self.rasa_url = rasa_url
        self.kennisbank = kennisbank
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            return self._send(200, index_page(self.rasa_url), HTML)
        if path in KENNISBANK_PATHS:
            return self._send(200, self.kennisbank, HTML, {"Content-Security-Policy": CONTENT_SECURITY_POLICY})
        if path in FILES and FILES[path][0].exists():
            file, kind = FILES[path]
            return self._send(200, file.read_bytes(), kind)
        self._send(404, b"Not found", "text/plain; charset=utf-8")

    def _send(self, status: int, body: bytes, kind: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


def make_server(host: str, port: int, rasa_url: str, knowledge: Optional[Path] = None) -> ThreadingHTTPServer:
    """The server; renders the kennisbank page now (raises KnowledgeError when knowledge/ is broken)."""
    return ThreadingHTTPServer((host, port), partial(Handler, rasa_url=rasa_url, kennisbank=kennisbank_page(knowledge)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    args = parser.parse_args()
    server = make_server(args.host, args.port, args.rasa_url)
    print(
        "Widget demo page: http://%s:%d/  kennisbank: http://%s:%d/kennisbank"
        % (args.host, args.port, args.host, args.port),
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

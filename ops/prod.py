"""The production profile: N Rasa replicas (one Sanic worker each) sharing a PostgreSQL tracker
store and a Redis lock store, the action server, and nginx in front of them on one port.

All settings come from the environment (see ProdSettings); no secret lives in the repository.
Used by `make run PROFILE=prod`, `make loadtest` and the prod tests.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from ops.servers import RASA_SERVER, ROOT, RasaStack, api_args, free_port
from regelhulp.templating import render_config
from regelhulp.web.kennisbank import CONTENT_SECURITY_POLICY
from regelhulp.web.server import export_static

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass
class ProdSettings:
    host: str = field(default_factory=lambda: _env("PROD_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PROD_PORT", "8000")))
    replicas: int = field(default_factory=lambda: int(_env("RASA_REPLICAS", "2")))
    pg_host: str = field(default_factory=lambda: _env("PGHOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("PGPORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("PGUSER", "postgres"))
    pg_password: str = field(default_factory=lambda: os.environ.get("PGPASSWORD", ""))
    pg_database: str = field(default_factory=lambda: _env("PGDATABASE", "regelhulp"))
    redis_host: str = field(default_factory=lambda: _env("REDIS_HOST", "127.0.0.1"))
    redis_port: int = field(default_factory=lambda: int(_env("REDIS_PORT", "6379")))
    redis_db: int = field(default_factory=lambda: int(_env("REDIS_DB", "1")))
    redis_key_prefix: str = field(default_factory=lambda: _env("REDIS_KEY_PREFIX", "regelhulp"))
    rate_per_second: int = field(default_factory=lambda: int(_env("NGINX_RATE", "5")))
    burst: int = field(default_factory=lambda: int(_env("NGINX_BURST", "20")))

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9]+", self.redis_key_prefix):
            raise ValueError("REDIS_KEY_PREFIX must be alphanumeric (Rasa's rule), got %r" % self.redis_key_prefix)
        if not re.fullmatch(r"[A-Za-z0-9_]+", self.pg_database):
            raise ValueError("PGDATABASE must be letters, digits and _, got %r" % self.pg_database)

    @property
    def url(self) -> str:
        return "http://%s:%d" % (self.host, self.port)

    def connect(self, database: Optional[str] = None):  # type: ignore[no-untyped-def]
        import psycopg2

        return psycopg2.connect(
            host=self.pg_host,
            port=self.pg_port,
            user=self.pg_user,
            password=self.pg_password or None,
            dbname=database or self.pg_database,
            connect_timeout=5,
        )


def ensure_database(settings: ProdSettings) -> None:
    """Creates the tracker database when it does not exist yet."""
    connection = settings.connect("postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (settings.pg_database,))
            if cursor.fetchone() is None:
                cursor.execute('CREATE DATABASE "%s"' % settings.pg_database)
    finally:
        connection.close()


def drop_database(settings: ProdSettings) -> None:
    connection = settings.connect("postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (settings.pg_database,),
            )
            cursor.execute('DROP DATABASE IF EXISTS "%s"' % settings.pg_database)
    finally:
        connection.close()


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise RuntimeError("nginx is not installed; run ops/setup_nginx.sh (Debian package 'nginx')")
    return found


class ProdStack(RasaStack):
    """Action server + N Rasa replicas + nginx. `url` is nginx's address."""

    def __init__(
        self,
        model: Path,
        settings: Optional[ProdSettings] = None,
        name: str = "prod",
        extra_env: Optional[Dict[str, str]] = None,
    ):
        self.settings = settings or ProdSettings()
        super().__init__(model, host=self.settings.host, name=name, extra_env=extra_env)
        self.replica_ports: List[int] = [free_port(self.settings.host) for _ in range(self.settings.replicas)]
        self.replica_processes: List[subprocess.Popen] = []
        self.prefix = ROOT / "build" / name

    @property
    def url(self) -> str:
        return self.settings.url

    def replica_url(self, index: int) -> str:
        return "http://%s:%d" % (self.host, self.replica_ports[index])

    @property
    def default_cors_origin(self) -> str:
        return self.settings.url  # the widget page is served by nginx itself

    def env(self) -> Dict[str, str]:
        s = self.settings
        env = super().env()
        env.update(
            # Rasa reaches the action server through nginx, like any other client of the stack.
            ACTION_ENDPOINT="%s/actions/webhook" % s.url,
            PGHOST=s.pg_host,
            PGPORT=str(s.pg_port),
            PGUSER=s.pg_user,
            PGPASSWORD=s.pg_password,
            PGDATABASE=s.pg_database,
            REDIS_HOST=s.redis_host,
            REDIS_PORT=str(s.redis_port),
            REDIS_DB=str(s.redis_db),
            REDIS_KEY_PREFIX=s.redis_key_prefix,
        )
        env.update(self.extra_env)
        return env

    def nginx_config(self) -> Path:
        s = self.settings
        for sub in ("logs", "tmp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        # same origin: the page talks to nginx; the kennisbank page from the action server's knowledge base
        web_root = export_static(self.prefix / "web", "", knowledge=self.env().get("REGELHULP_KNOWLEDGE"))
        values = {
            "PREFIX": str(self.prefix),
            "RATE": s.rate_per_second,
            "BURST": s.burst,
            "LISTEN": "%s:%d" % (s.host, s.port),
            "RASA_SERVERS": ["%s:%d" % (self.host, p) for p in self.replica_ports],
            "ACTION_SERVER": "%s:%d" % (self.host, self.action_port),
            "API_LOCATION": bool(api_args(self.env())),
            "WEB_ROOT": str(web_root),
            "KENNISBANK_CSP": CONTENT_SECURITY_POLICY,
            "USER": pwd.getpwuid(ROOT.stat().st_uid).pw_name,
        }
        text = render_config(str(TEMPLATE.relative_to(ROOT)), **values)
        config = self.prefix / "nginx.conf"
        config.write_text(text, encoding="utf-8")
        return config

    def start_nginx(self, timeout: float = 30) -> None:
        config = self.nginx_config()
        binary = nginx_binary()
        check = subprocess.run(
            [binary, "-t", "-q", "-c", str(config), "-p", str(self.prefix)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError("nginx configuration %s is not valid:\n%s" % (config, check.stderr))
        process = self._spawn("nginx", ["-c", str(config), "-p", str(self.prefix)], program=[binary])
        self._wait(process, "nginx", self.url + "/index.html", timeout)

    def start_replica(self, index: int, timeout: float = 300) -> None:
        process = self._spawn(
            "replica%d" % index, self.rasa_args(self.replica_ports[index], "endpoints.prod.yml"), program=RASA_SERVER
        )
        self.replica_processes.append(process)
        self._wait(process, "replica%d" % index, self.replica_url(index) + "/", timeout)

    def kill_replica(self, index: int) -> None:
        """Kills a replica hard (SIGKILL), as a crashed pod would go."""
        process = self.replica_processes[index]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def start(self) -> "ProdStack":
        try:
            ensure_database(self.settings)
            self.start_actions()
            self.start_nginx()  # before the replicas: they reach the action server through it
            for index in range(self.settings.replicas):
                # one by one: parallel start-ups race to create the tables
                self.start_replica(index)
        except BaseException:
            self.stop()
            raise
        return self

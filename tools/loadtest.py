"""`make loadtest`: 50 concurrent conversations x 10 turns against the production profile with
2 replicas, on loopback only, bounded in count and time.

Each conversation comes from its own loopback address (127.0.0.2, 127.0.0.3, ...), as separate
visitors would, so nginx's per-client rate limit and replica hashing work as in real use.
Afterwards the user events in PostgreSQL are counted against what was sent: none may be lost or
duplicated. The run uses its own database and Redis key prefix and drops them at the end.
`--replicas 1,2` runs the same load against 1 and then 2 replicas and reports how the throughput
scales. Writes reports/load.md and reports/load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

from ops.prod import ProdSettings, ProdStack, drop_database
from ops.servers import free_port
from ops.train import model_path
from regelhulp import rasa_patches
from regelhulp.paths import ROOT
from tools.load import latency_ms, run_parallel

TURNS = [
    "Hallo",
    "Mag een asielzoeker bij ons komen werken?",
    "hij zit nog in de asielprocedure",
    "Wat moet ik als werkgever controleren?",
    "En mag hij ook vrijwilligerswerk doen?",
    "inmiddels heeft hij een verblijfsvergunning",
    "Mag hij nu gewoon werken?",
    "Wat doet het UAF?",
    "Wie helpt met inburgering?",
    "bedankt!",
]
DEADLINE_SECONDS = 900
REQUEST_TIMEOUT = 120


def conversation(index: int, settings: ProdSettings, run_id: str, results: List[dict], stop_at: float) -> None:
    source = "127.0.0.%d" % (2 + index)  # one visitor per address
    sender = "load-%s-%02d" % (run_id, index)
    for turn, text in enumerate(TURNS):
        if time.monotonic() > stop_at:
            results.append({"sender": sender, "turn": turn, "status": "deadline", "seconds": 0.0})
            return
        body = json.dumps({"sender": sender, "message": text})
        started = time.monotonic()
        status: object
        try:
            connection = http.client.HTTPConnection(
                settings.host, settings.port, timeout=REQUEST_TIMEOUT, source_address=(source, 0)
            )
            connection.request("POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
            status = response.status
            if status == 200 and not json.loads(payload or b"[]"):
                status = "empty"
            connection.close()
        except (OSError, http.client.HTTPException) as error:
            status = type(error).__name__
        results.append({"sender": sender, "turn": turn, "status": status, "seconds": time.monotonic() - started})


def stored_user_events(settings: ProdSettings, run_id: str) -> Dict[str, List[str]]:
    connection = settings.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id LIKE %s ORDER BY id",
                ("load-%s-%%" % run_id,),
            )
            stored: Dict[str, List[str]] = {}
            for sender, data in cursor.fetchall():
                stored.setdefault(sender, []).append(json.loads(data)["text"])
            return stored
    finally:
        connection.close()


def run(conversations: int, replicas: int) -> dict:
    run_id = uuid.uuid4().hex[:8]
    settings = ProdSettings(
        port=free_port(),
        replicas=replicas,
        pg_database="regelhulp_load_%s" % run_id,
        redis_key_prefix="regelhulpload%s" % run_id,
    )
    stack = ProdStack(model_path(), settings, name="load")
    results: List[dict] = []
    try:
        print("loadtest: starting the production profile (%d replicas) ..." % replicas, flush=True)
        stack.start()
        print("loadtest: %d conversations x %d turns ..." % (conversations, len(TURNS)), flush=True)
        stop_at = time.monotonic() + DEADLINE_SECONDS
        elapsed = run_parallel(
            lambda i: conversation(i, settings, run_id, results, stop_at),
            conversations,
            DEADLINE_SECONDS + REQUEST_TIMEOUT,
        )
        stored = stored_user_events(settings, run_id)
    finally:
        stack.stop()
        drop_database(settings)
    sent = Counter(r["sender"] for r in results if r["status"] == 200)
    lost = sum(max(0, sent[s] - len(stored.get(s, []))) for s in sent)
    duplicated = sum(max(0, len(texts) - len(set(texts))) for texts in stored.values())
    wrong_order = sum(1 for texts in stored.values() if texts != TURNS[: len(texts)])
    seconds = [r["seconds"] for r in results if r["status"] == 200]
    statuses = Counter(str(r["status"]) for r in results)
    return {
        "conversations": conversations,
        "turns": len(TURNS),
        "replicas": replicas,
        "sent": len(results),
        "statuses": dict(statuses),
        "server_errors_5xx": sum(n for s, n in statuses.items() if s.isdigit() and s.startswith("5")),
        "lost_user_events": lost,
        "duplicated_user_events": duplicated,
        "conversations_out_of_order": wrong_order,
        "stored_user_events": sum(len(t) for t in stored.values()),
        "latency_ms": latency_ms(seconds),
        "throughput_msg_per_s": round(len(seconds) / elapsed, 1) if elapsed else 0.0,
        "seconds": round(elapsed, 1),
        "rasa_patches": rasa_patches.enabled(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def report_lines(figures: dict) -> List[str]:
    return [
        "## %(replicas)d replica(s)" % figures,
        "",
        "%(conversations)d concurrent conversations x %(turns)d turns, %(replicas)d Rasa replica(s) behind nginx, "
        "PostgreSQL tracker store, Redis lock store; loopback only, one source address per conversation; "
        "Rasa patches %(patches)s; finished %(finished_at)s, load average after %(load_average_after)s."
        % dict(figures, patches="on" if figures.get("rasa_patches") else "off"),
        "",
        "| figure | value |",
        "|---|---|",
        "| messages sent | %d |" % figures["sent"],
        "| HTTP statuses | %s |" % ", ".join("%s: %d" % kv for kv in sorted(figures["statuses"].items())),
        "| 5xx responses | %d |" % figures["server_errors_5xx"],
        "| user events stored in PostgreSQL | %d |" % figures["stored_user_events"],
        "| lost user events | %d |" % figures["lost_user_events"],
        "| duplicated user events | %d |" % figures["duplicated_user_events"],
        "| conversations stored out of order | %d |" % figures["conversations_out_of_order"],
        "| latency p50 / p95 / p99 | %(p50).0f / %(p95).0f / %(p99).0f ms |" % figures["latency_ms"],
        "| throughput | %.1f messages/s |" % figures["throughput_msg_per_s"],
        "| wall time | %.0f s |" % figures["seconds"],
        "",
    ]


def scaling(runs: List[dict]) -> Optional[float]:
    """Messages/s of the most replicas / those of one replica, when both were run."""
    single = [r for r in runs if r["replicas"] == 1]
    most = max(runs, key=lambda r: r["replicas"])
    if not single or most["replicas"] == 1 or not single[0]["throughput_msg_per_s"]:
        return None
    return round(most["throughput_msg_per_s"] / single[0]["throughput_msg_per_s"], 2)


def write_report(runs: List[dict]) -> Path:
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    times = scaling(runs)
    (reports / "load.json").write_text(json.dumps({"runs": runs, "scaling": times}, indent=2), encoding="utf-8")
    lines = [
        "# Load test (production profile)",
        "",
        "Written by `make loadtest` (`python -m tools.loadtest %s`)." % " ".join(sys.argv[1:]),
        "",
    ]
    if times is not None:
        lines += [
            "Throughput with %d replicas / with 1 replica: **%.2f** (the replicas share the machine's cores with "
            "the action server, PostgreSQL and nginx)." % (max(r["replicas"] for r in runs), times),
            "",
        ]
    for figures in runs:
        lines += report_lines(figures)
    path = reports / "load.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--replicas", default="2", help="replica counts to run one after the other, e.g. 1,2")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="also write the report to docs/load.md (unpatched: docs/load_unpatched.md; tracked, the README links to it)",
    )
    args = parser.parse_args()
    if not 1 <= args.conversations <= 250:
        parser.error("--conversations must be 1..250 (one loopback address each)")
    runs = [run(args.conversations, int(replicas)) for replicas in args.replicas.split(",") if replicas]
    path = write_report(runs)
    if args.publish:
        name = "load.md" if rasa_patches.enabled() else "load_unpatched.md"
        (ROOT / "docs" / name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    print(path.read_text(encoding="utf-8"))
    ok = all(
        figures["server_errors_5xx"] == 0
        and figures["lost_user_events"] == 0
        and figures["duplicated_user_events"] == 0
        and figures["statuses"].get("200", 0) == figures["sent"]
        for figures in runs
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

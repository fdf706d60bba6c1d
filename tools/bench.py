"""`make bench`: latency, throughput, CPU per message, memory and training time of our pipeline, and
the same for Rasa's default pipeline trained on the same data in the same run. Loopback only,
bounded in count and time. Writes reports/bench.md and reports/bench.json.

Phases, for each pipeline: training (both first, models in build/bench), then serving: 1, 10 and 50
concurrent 6-turn conversations over the REST webhook (latency p50/p95/p99, messages/s); CPU time
of the Rasa server (and the action server) per message at turn 2 and at turn 40 of 40-turn
conversations; the resident memory of both servers; for our pipeline, the top functions of py-spy
profiles of the Rasa server under 10 concurrent conversations and during one 40-turn conversation
(separate runs after the measured ones, so the profiler does not slow those).

The default pipeline is Rasa's own default configuration (ops/derived_configs.py) trained with
1 epoch (--epochs): the cost of an inference does not depend on the number of epochs.
Both Rasa servers start the same way (regelhulp/rasa_server.py, with the project's Rasa patches;
--unpatched starts both without them, to measure what the patches change).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from itertools import zip_longest
from pathlib import Path
from typing import Dict, List, Optional

from ops.derived_configs import baseline_config
from ops.facet_examples import write as write_facet_examples
from ops.servers import LOG_DIR, RasaStack
from ops.train import DATA as TRAINING_DATA
from ops.train import rasa_env, train_command
from regelhulp import rasa_patches
from regelhulp.paths import ROOT
from tools.bench_probes import PySpy, cpu_ns, parse_collapsed, rss_mb, top_functions
from tools.load import latency_ms, run_parallel

TURNS = [  # one conversation: a mix of rule questions, a status turn and small talk
    "Hallo",
    "Mag een asielzoeker bij ons komen werken?",
    "En mag hij ook vrijwilligerswerk doen?",
    "hij heeft inmiddels een verblijfsvergunning",
    "Wat doet het UAF?",
    "bedankt!",
]
LEVELS = (1, 10, 50)
LONG_TURNS = 40
REQUEST_TIMEOUT = 120
PIPELINES = ("ours", "default")
LABELS = {"ours": "regelhulp", "default": "default"}
# The figures issue P10 asks for (docs/measuring.md, "Current figures").
TARGETS = {"p95_1_ms": 30.0, "throughput_10_msg_s": 40.0, "throughput_ratio_10": 2.0, "cpu_turn_ratio": 1.3}


def load_average() -> float:
    """The 1-minute load average: above ~0.5 on an idle start, something else is running."""
    return round(os.getloadavg()[0], 2)


def train_timed(config: str, out_dir: Path, name: str) -> Dict[str, object]:
    loaded = load_average()
    env = rasa_env()
    # An empty training cache, so that no component is restored from an earlier training.
    env["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(prefix="rasa-cache-", dir=str(out_dir))
    write_facet_examples(ROOT / "build" / "nlu" / "facets.yml", ROOT / "knowledge")  # the same data as `make train`
    started = time.monotonic()
    subprocess.run(
        train_command(config, TRAINING_DATA, str(out_dir), name),
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(env["RASA_CACHE_DIRECTORY"], ignore_errors=True)
    model = out_dir / (name + ".tar.gz")
    return {
        "config": config,
        "seconds": round(time.monotonic() - started, 1),
        "model": str(model),
        "model_mb": round(model.stat().st_size / 1e6, 1),
        "load_average": loaded,
        "trained_at": time.strftime("%Y-%m-%d %H:%M"),
    }


def load_level(stack: RasaStack, conversations: int, turns: List[str] = TURNS) -> Dict[str, float]:
    latencies: List[float] = []
    errors: List[str] = []
    lock = threading.Lock()

    def conversation() -> None:
        sender = "bench-%s" % uuid.uuid4().hex[:10]
        for turn in turns:
            started = time.perf_counter()
            try:
                stack.say(sender, turn, timeout=REQUEST_TIMEOUT)
                with lock:
                    latencies.append(time.perf_counter() - started)
            except Exception as error:  # counted and reported, the run goes on
                with lock:
                    errors.append(repr(error))

    wall = run_parallel(lambda _index: conversation(), conversations, REQUEST_TIMEOUT * len(turns))
    latency = latency_ms(latencies)
    return {
        "conversations": conversations,
        "messages": len(latencies),
        "errors": len(errors),
        "p50_ms": latency["p50"],
        "p95_ms": latency["p95"],
        "p99_ms": latency["p99"],
        "throughput_msg_s": round(len(latencies) / wall, 2),
    }


def long_conversation(turns: int = LONG_TURNS) -> List[str]:
    """TURNS over and over; the last turn is the same message as turn 2, so that the two compare."""
    messages = [TURNS[i % len(TURNS)] for i in range(turns - 1)]
    return messages + [TURNS[1]]


def cpu_per_turn(stack: RasaStack, rasa_pid: int, action_pid: int, conversations: int, turns: int) -> Dict[str, object]:
    """CPU ms of each server per message, turn by turn, one message at a time; means over CONVERSATIONS."""
    rasa: List[List[float]] = [[] for _ in range(turns)]
    actions: List[List[float]] = [[] for _ in range(turns)]
    for _ in range(conversations):
        sender = "bench-long-%s" % uuid.uuid4().hex[:10]
        for index, text in enumerate(long_conversation(turns)):
            rasa_before, actions_before = cpu_ns(rasa_pid), cpu_ns(action_pid)
            stack.say(sender, text, timeout=REQUEST_TIMEOUT)
            rasa[index].append((cpu_ns(rasa_pid) - rasa_before) / 1e6)
            actions[index].append((cpu_ns(action_pid) - actions_before) / 1e6)
    rasa_ms = [round(statistics.mean(values), 1) for values in rasa]
    actions_ms = [round(statistics.mean(values), 1) for values in actions]
    return {
        "conversations": conversations,
        "turns": turns,
        "message": TURNS[1],
        "rasa_ms_per_turn": rasa_ms,
        "actions_ms_per_turn": actions_ms,
        "rasa_turn2_ms": rasa_ms[1],
        "rasa_last_turn_ms": rasa_ms[-1],
        "actions_turn2_ms": actions_ms[1],
        "actions_last_turn_ms": actions_ms[-1],
        "rasa_ratio": round(rasa_ms[-1] / rasa_ms[1], 2) if rasa_ms[1] else None,
    }


def patches_line(stack: RasaStack) -> str:
    log = LOG_DIR / ("%s-server.log" % stack.name)
    for line in log.read_text(errors="replace").splitlines()[:20]:
        if line.startswith("regelhulp: Rasa patches "):
            return line[len("regelhulp: Rasa patches ") :]  # "applied: a, b" or "switched off (...)"
    return "unknown (no line from regelhulp/rasa_server.py in the server log)"


def serve(key: str, training: Dict[str, object], work: Path, out: Path, args: argparse.Namespace) -> Dict[str, object]:
    label = LABELS[key]
    result: Dict[str, object] = {
        "label": label,
        "config": training.get("config"),
        "training": training,
        "load_average_before_serving": load_average(),
    }
    tracker_db = work / ("%s-tracker.db" % label)
    tracker_db.unlink(missing_ok=True)  # a fresh store: old conversations would make reads slower
    with RasaStack(Path(training["model"]), tracker_db=tracker_db, name="bench-" + label) as stack:
        rasa_pid, action_pid = stack.processes[1].pid, stack.processes[0].pid
        result["patches"] = patches_line(stack)
        result["rss_after_start_mb"] = {"rasa": rss_mb(rasa_pid), "actions": rss_mb(action_pid)}
        load_level(stack, 1)  # warm-up
        result["levels"] = []
        for level in args.levels:
            print("[%s] %d concurrent conversations ..." % (label, level), flush=True)
            result["levels"].append(load_level(stack, level))
        if args.long_conversations:
            print(
                "[%s] CPU per message: %d conversations of %d turns ..."
                % (label, args.long_conversations, args.long_turns),
                flush=True,
            )
            result["cpu"] = cpu_per_turn(stack, rasa_pid, action_pid, args.long_conversations, args.long_turns)
        result["rss_after_load_mb"] = {"rasa": rss_mb(rasa_pid), "actions": rss_mb(action_pid)}
        if key == "ours" and args.profile:
            print("[%s] py-spy profiles ..." % label, flush=True)
            result["profile"] = profile(rasa_pid, out / "bench_profile.txt", lambda: load_level(stack, 10))
            result["profile_long"] = profile(
                rasa_pid,
                out / "bench_profile_long.txt",
                lambda: load_level(stack, 1, long_conversation(args.long_turns)),
            )
    return result


def profile(pid: int, raw: Path, load) -> Dict[str, object]:  # type: ignore[no-untyped-def]
    """The top functions of a py-spy profile of PID while LOAD runs; the raw profile stays in RAW."""
    raw.unlink(missing_ok=True)
    with PySpy(pid, raw) as spy:
        load()
    if spy.error:
        return {"error": spy.error}
    summary = top_functions(parse_collapsed(raw.read_text(errors="replace").splitlines()))
    summary["file"] = str(raw.relative_to(ROOT)) if raw.is_relative_to(ROOT) else str(raw)
    return summary


def ratio(ours: Optional[float], base: Optional[float]) -> str:
    return "%.2f" % (ours / base) if base and ours is not None else "n/a"


def level(result: Optional[dict], conversations: int) -> Optional[dict]:
    for one in (result or {}).get("levels", []):
        if one["conversations"] == conversations:
            return one
    return None


def summary(ours: dict, base: Optional[dict]) -> List[str]:
    """The targets of issue P10, from this run's figures."""
    one, ten, base_ten = level(ours, 1), level(ours, 10), level(base, 10)
    cpu = ours.get("cpu") or {}
    rows = []

    def row(what: str, value: Optional[float], target: str, met: Optional[bool]) -> None:
        rows.append(
            "| %s | %s | %s | %s |"
            % (what, "n/a" if value is None else value, target, "n/a" if met is None else ("yes" if met else "**no**"))
        )

    p95 = one["p95_ms"] if one else None
    row(
        "p95 at 1 conversation (ms)",
        p95,
        "<= %g" % TARGETS["p95_1_ms"],
        None if p95 is None else p95 <= TARGETS["p95_1_ms"],
    )
    tput = ten["throughput_msg_s"] if ten else None
    row(
        "messages/s at 10 concurrent",
        tput,
        ">= %g" % TARGETS["throughput_10_msg_s"],
        None if tput is None else tput >= TARGETS["throughput_10_msg_s"],
    )
    times = (
        round(tput / base_ten["throughput_msg_s"], 2) if tput and base_ten and base_ten["throughput_msg_s"] else None
    )
    row(
        "messages/s at 10 concurrent, ours / default pipeline",
        times,
        ">= %g" % TARGETS["throughput_ratio_10"],
        None if times is None else times >= TARGETS["throughput_ratio_10"],
    )
    turns = cpu.get("rasa_ratio")
    row(
        "Rasa server CPU per message, turn %s / turn 2" % cpu.get("turns", LONG_TURNS),
        turns,
        "<= %g" % TARGETS["cpu_turn_ratio"],
        None if turns is None else turns <= TARGETS["cpu_turn_ratio"],
    )
    return ["| target (issue P10) | this run | target | met |", "|---|---:|---:|---|"] + rows


def report(results: Dict[str, dict], args: argparse.Namespace) -> str:
    ours, base = results.get("ours"), results.get("default")
    shown = [r for r in (ours, base) if r]
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Regelhulp benchmark",
        "",
        "%s, %s cores. Loopback REST webhook, one Rasa server (1 Sanic worker) + one action server each, "
        "%d-turn conversations, fresh SQLite tracker store. Default pipeline: Rasa's default configuration "
        "(DIET, ResponseSelector, TED, UnexpecTED; ops/derived_configs.py) trained with %s epoch(s) on the same "
        "data: the cost of an inference does not depend on the epochs. Rasa patches: %s. "
        "Other jobs on the machine disturb the figures: see the load averages. Written by `make bench %s`."
        % (
            time.strftime("%Y-%m-%d %H:%M %Z"),
            cores,
            len(TURNS),
            (base or {}).get("training", {}).get("epochs", args.epochs),
            "; ".join(sorted({r.get("patches", "?") for r in shown})),
            " ".join(sys.argv[1:]),
        ),
        "",
    ]
    for key, result in results.items():
        if result["training"].get("note"):
            lines += [
                "Training of %s: %s."
                % ("ours" if key == "ours" else "the default pipeline", result["training"]["note"]),
                "",
            ]
    if ours:
        lines += summary(ours, base) + [""]
    columns = [key for key in PIPELINES if key in results]
    header = "| measure | " + " | ".join("ours" if k == "ours" else "default pipeline" for k in columns)
    header += " | ratio |" if len(columns) == 2 else " |"
    lines += [header, "|---|" + "---:|" * (len(columns) + (1 if len(columns) == 2 else 0))]

    def add(what: str, values: List[Optional[float]], with_ratio: bool = True) -> None:
        cells = ["n/a" if v is None else str(v) for v in values]
        extra = [ratio(values[0], values[1]) if with_ratio else ""] if len(values) == 2 else []
        lines.append("| %s | %s |" % (what, " | ".join(cells + extra)))

    rows = [results[k] for k in columns]
    add("training time (s)", [r["training"].get("seconds") for r in rows])
    add("model size (MB)", [r["training"].get("model_mb") for r in rows])
    add("load average before training", [r["training"].get("load_average") for r in rows], False)
    add("load average before serving", [r["load_average_before_serving"] for r in rows], False)
    for key in ("rss_after_start_mb", "rss_after_load_mb"):
        for process in ("rasa", "actions"):
            add(
                "%s RSS %s (MB)" % (process, key.replace("rss_", "").replace("_mb", "").replace("_", " ")),
                [r[key][process] for r in rows],
            )
    for conversations in args.levels:
        for key in ("p50_ms", "p95_ms", "p99_ms", "throughput_msg_s", "errors"):
            add("%d concurrent: %s" % (conversations, key), [(level(r, conversations) or {}).get(key) for r in rows])
    if any(r.get("cpu") for r in rows):
        for key, what in (
            ("rasa_turn2_ms", "Rasa server CPU ms/message, turn 2"),
            ("rasa_last_turn_ms", "Rasa server CPU ms/message, turn %d" % args.long_turns),
            ("rasa_ratio", "Rasa server CPU, turn %d / turn 2" % args.long_turns),
            ("actions_turn2_ms", "action server CPU ms/message, turn 2"),
            ("actions_last_turn_ms", "action server CPU ms/message, turn %d" % args.long_turns),
        ):
            add(what, [(r.get("cpu") or {}).get(key) for r in rows])
        lines += [
            "",
            "CPU per message: %d conversations of %d turns, one message at a time; turn 2 and turn %d "
            "are the same message (%r); CPU time of all threads of each server process."
            % (args.long_conversations, args.long_turns, args.long_turns, TURNS[1]),
        ]
    for key, title in (
        ("profile", "10 concurrent 6-turn conversations"),
        ("profile_long", "one %d-turn conversation" % args.long_turns),
    ):
        profile = (ours or {}).get(key)
        if not profile:
            continue
        lines += ["", "## Where our Rasa server's CPU goes (py-spy, %s)" % title, ""]
        if profile.get("error"):
            lines.append("No profile: %s" % profile["error"])
            continue
        lines.append(
            "%d samples (`%s`, py-spy raw format, 100/s), %.0f%% of them in the event loop (uvloop waiting for "
            "the network or the action server, or in its own C code) and left out; the percentages are of the other "
            "%d. Own: the function is on top of the stack. Total: anywhere on the stack, leaving out the server and "
            "request-handling trunk that nearly every sample goes through. Wall-clock samples: waiting for a "
            "SQLite commit counts too."
            % (profile["samples"], profile["file"], profile["loop_percent"], profile["busy_samples"])
        )
        lines += ["", "| own % | function | | total % | function |", "|---:|---|---|---:|---|"]
        for own, total in zip_longest(profile["self"], profile["total"], fillvalue={"percent": None, "function": ""}):
            lines.append(
                "| %s | %s | | %s | %s |"
                % (
                    "" if own["percent"] is None else "%.1f" % own["percent"],
                    "`%s`" % own["function"] if own["function"] else "",
                    "" if total["percent"] is None else "%.1f" % total["percent"],
                    "`%s`" % total["function"] if total["function"] else "",
                )
            )
    return "\n".join(lines) + "\n"


def training_file(work: Path) -> Path:
    return work / "training.json"


def previous_training(work: Path, key: str) -> Dict[str, object]:
    """The training figures of the last training run, for --serve-only (the models are reused from build/bench)."""
    model = work / (LABELS[key] + ".tar.gz")
    if not model.exists():
        raise SystemExit("--serve-only: no model %s; run `make bench` (or --train-only) first" % model)
    try:
        training = json.loads(training_file(work).read_text())[key]
    except (OSError, KeyError, ValueError):
        training = {"seconds": None, "model_mb": round(model.stat().st_size / 1e6, 1)}
    training["model"] = str(model)
    return training


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="reuse the models of the last training in build/bench and measure serving again",
    )
    parser.add_argument(
        "--train-only", action="store_true", help="train the models into build/bench, measure nothing else"
    )
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="ours,default (default: both)")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent conversations, e.g. 1,10,50")
    parser.add_argument("--long-conversations", type=int, default=3, help="for CPU per message; 0: skip")
    parser.add_argument("--long-turns", type=int, default=LONG_TURNS)
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the default pipeline's components")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the py-spy profile")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="also write the report to docs/bench.md (with --unpatched: docs/bench_unpatched.md; tracked, the README links to it)",
    )
    parser.add_argument(
        "--unpatched",
        action="store_true",
        help="start the Rasa servers without the project's Rasa patches (%s=0)" % rasa_patches.SWITCH,
    )
    args = parser.parse_args(argv)
    args.levels = [int(n) for n in args.levels.split(",") if n]
    keys = [k for k in PIPELINES if k in args.pipelines.split(",")]
    if args.long_turns < 3:
        parser.error("--long-turns must be at least 3")
    if args.unpatched:
        os.environ[rasa_patches.SWITCH] = "0"  # the servers inherit it
    work = ROOT / "build" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    configs = {"ours": "config.yml", "default": str(baseline_config(args.epochs).relative_to(ROOT))}
    # Both trainings first, then the serving runs back to back, so that they see the same machine;
    # the load average before each phase is reported to show disturbances.
    training: Dict[str, Dict[str, object]] = {}
    for key in keys:
        if args.serve_only:
            training[key] = previous_training(work, key)
        else:
            print("[%s] training with %s ..." % (LABELS[key], configs[key]), flush=True)
            training[key] = train_timed(configs[key], work, LABELS[key])
            if key == "default":
                training[key]["epochs"] = args.epochs
    if not args.serve_only:
        saved = json.loads(training_file(work).read_text()) if training_file(work).exists() else {}
        saved.update(training)
        training_file(work).write_text(json.dumps(saved, indent=2))
    if args.train_only:
        print(json.dumps(training, indent=2))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results = {key: serve(key, training[key], work, args.out, args) for key in keys}
    (args.out / "bench.json").write_text(json.dumps(results, indent=2))
    text = report(results, args)
    (args.out / "bench.md").write_text(text)
    if args.publish:
        (ROOT / "docs" / ("bench_unpatched.md" if args.unpatched else "bench.md")).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

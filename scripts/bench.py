"""`make bench`: latency, throughput, memory and training time of our pipeline, and the same
for Rasa's default pipeline (config.yml without `pipeline:`) trained on the same data in the
same run. Loopback only, bounded in count and time. Writes reports/bench.md and bench.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

from scripts.derived_configs import baseline_config
from scripts.evaluate import percentile
from scripts.servers import RasaStack
from scripts.train import ROOT, rasa_env

TURNS = [  # one conversation: a mix of rule questions, a status turn and small talk
    "Hallo",
    "Mag een asielzoeker bij ons komen werken?",
    "En mag hij ook vrijwilligerswerk doen?",
    "hij heeft inmiddels een verblijfsvergunning",
    "Wat doet het UAF?",
    "bedankt!",
]
LEVELS = (1, 10, 50)
REQUEST_TIMEOUT = 120


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for one in pids:
        try:
            for line in Path("/proc/%d/status" % one).read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def train_timed(config: str, out_dir: Path, name: str) -> Dict[str, float]:
    loaded = load_average()
    env = rasa_env()
    # An empty training cache, so that no component is restored from an earlier training.
    env["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(prefix="rasa-cache-", dir=str(out_dir))
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--config", config, "--out", str(out_dir), "--fixed-model-name", name],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(env["RASA_CACHE_DIRECTORY"], ignore_errors=True)
    model = out_dir / (name + ".tar.gz")
    return {"seconds": round(time.monotonic() - started, 1), "model": str(model),
            "model_mb": round(model.stat().st_size / 1e6, 1), "load_average": loaded}


def load_level(stack: RasaStack, conversations: int) -> Dict[str, float]:
    latencies: List[float] = []
    errors: List[str] = []
    lock = threading.Lock()

    def conversation() -> None:
        sender = "bench-%s" % uuid.uuid4().hex[:10]
        for turn in TURNS:
            started = time.perf_counter()
            try:
                stack.say(sender, turn, timeout=REQUEST_TIMEOUT)
                with lock:
                    latencies.append(time.perf_counter() - started)
            except Exception as error:  # counted and reported, the run goes on
                with lock:
                    errors.append(repr(error))

    threads = [threading.Thread(target=conversation) for _ in range(conversations)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * len(TURNS))
    wall = time.perf_counter() - started
    return {
        "conversations": conversations, "messages": len(latencies), "errors": len(errors),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "throughput_msg_s": round(len(latencies) / wall, 2),
    }


def load_average() -> float:
    """The 1-minute load average: above ~0.5 on an idle start, something else is running."""
    return round(os.getloadavg()[0], 2)


def serve(label: str, config: str, training: Dict[str, object], out_dir: Path) -> Dict[str, object]:
    result: Dict[str, object] = {"label": label, "config": config, "training": training,
                                 "load_average_before_serving": load_average()}
    with RasaStack(Path(training["model"]), tracker_db=out_dir / ("%s-tracker.db" % label), name="bench-" + label) as stack:
        rasa_pid, action_pid = stack.processes[1].pid, stack.processes[0].pid
        result["rss_after_start_mb"] = {"rasa": rss_mb(rasa_pid), "actions": rss_mb(action_pid)}
        load_level(stack, 1)  # warm-up
        result["levels"] = []
        for level in LEVELS:
            print("[%s] %d concurrent conversations ..." % (label, level), flush=True)
            result["levels"].append(load_level(stack, level))
        result["rss_after_load_mb"] = {"rasa": rss_mb(rasa_pid), "actions": rss_mb(action_pid)}
    return result


def previous_training(out: Path, key: str, work: Path, label: str) -> Dict[str, object]:
    """The training figures of the last run, for --serve-only (the models are reused from build/bench)."""
    model = work / (label + ".tar.gz")
    try:
        training = json.loads((out / "bench.json").read_text())[key]["training"]
    except (OSError, KeyError, ValueError):
        training = {"seconds": None, "model": str(model), "model_mb": round(model.stat().st_size / 1e6, 1)}
    training["model"] = str(model)
    return training


def ratio(ours: float, base: float) -> str:
    return "%.2f" % (ours / base) if base and ours is not None else "n/a"


def report(ours: dict, base: dict) -> str:
    lines = [
        "# Regelhulp benchmark", "",
        "Loopback REST webhook, one Rasa server (1 Sanic worker) + one action server, %d-turn conversations; "
        "machine: %s cores. Ratio = ours / Rasa default pipeline (same data, same policies, same run). %s" % (
            len(TURNS), subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(), time.strftime("%Y-%m-%d %H:%M")),
        "", "| measure | ours | default pipeline | ratio |", "|---|---:|---:|---:|",
        "| training time (s) | %s | %s | %s |" % (ours["training"]["seconds"], base["training"]["seconds"], ratio(ours["training"]["seconds"], base["training"]["seconds"])),
        "| model size (MB) | %s | %s | %s |" % (ours["training"]["model_mb"], base["training"]["model_mb"], ratio(ours["training"]["model_mb"], base["training"]["model_mb"])),
        "| load average before training | %s | %s | |" % (ours["training"].get("load_average"), base["training"].get("load_average")),
        "| load average before serving | %s | %s | |" % (ours["load_average_before_serving"], base["load_average_before_serving"]),
    ]
    for key in ("rss_after_start_mb", "rss_after_load_mb"):
        for process in ("rasa", "actions"):
            lines.append("| %s RSS %s (MB) | %s | %s | %s |" % (process, key.replace("rss_", "").replace("_mb", "").replace("_", " "),
                         ours[key][process], base[key][process], ratio(ours[key][process], base[key][process])))
    for mine, theirs in zip(ours["levels"], base["levels"]):
        for key in ("p50_ms", "p95_ms", "p99_ms", "throughput_msg_s", "errors"):
            lines.append("| %d concurrent: %s | %s | %s | %s |" % (mine["conversations"], key, mine[key], theirs[key], ratio(mine[key], theirs[key])))
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--serve-only", action="store_true",
                        help="reuse the models of the last run in build/bench and measure serving again")
    args = parser.parse_args(argv)
    work = ROOT / "build" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    configs = {"ours": ("regelhulp", "config.yml"), "default": ("default", str(baseline_config().relative_to(ROOT)))}
    # Both trainings first, then both serving runs back to back, so that the two serving runs see
    # the same machine; the load average before each phase is reported to show disturbances.
    training = {}
    for key, (label, config) in configs.items():
        if args.serve_only:
            training[key] = previous_training(args.out, key, work, label)
        else:
            print("[%s] training with %s ..." % (label, config), flush=True)
            training[key] = train_timed(config, work, label)
    ours, base = (serve(label, config, training[key], work) for key, (label, config) in configs.items())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps({"ours": ours, "default": base}, indent=2))
    text = report(ours, base)
    (args.out / "bench.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

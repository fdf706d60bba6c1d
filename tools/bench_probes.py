"""What `make bench` reads from the server processes: memory, CPU time, and a py-spy profile.

- rss_mb: resident memory of a process and its children (/proc/PID/status).
- cpu_ns: CPU time a process has used so far, all its threads, in nanoseconds
  (/proc/PID/task/*/schedstat: exact, unlike the 10 ms ticks of /proc/PID/stat).
- PySpy: records a sampling profile of a running process (py-spy from PyPI, requirements-dev.txt)
  in py-spy's "raw" (collapsed stacks) format; top_functions() ranks its functions.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple


def child_pids(pid: int) -> List[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for one in [pid] + child_pids(pid):
        try:
            for line in Path("/proc/%d/status" % one).read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def cpu_ns(pid: int) -> int:
    """CPU time used so far by all threads of process PID, in ns (threads that ended are not counted)."""
    total = 0
    for task in Path("/proc/%d/task" % pid).iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            pass  # the thread ended while we read
    return total


def py_spy_binary() -> Optional[str]:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


class PySpy:
    """`with PySpy(pid, out):` records a profile of PID while the block runs (raw/collapsed stacks)."""

    def __init__(self, pid: int, out: Path, rate: int = 100):
        self.pid, self.out, self.rate = pid, Path(out), rate
        self.process: Optional[subprocess.Popen] = None
        self.error = ""

    def __enter__(self) -> "PySpy":
        binary = py_spy_binary()
        if binary is None:
            self.error = "py-spy is not installed (pip install -r requirements-dev.txt)"
            return self
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.out.with_suffix(".log")
        self.process = subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(self.out),
            ],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        time.sleep(1.5)  # attach before the load starts
        if self.process.poll() is not None:
            self.error = "py-spy stopped: " + self.log.read_text(errors="replace")[-300:]
        return self

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if not self.out.exists():
            self.error = "py-spy wrote no profile: " + self.log.read_text(errors="replace")[-300:]


def parse_collapsed(lines: Iterable[str]) -> List[Tuple[List[str], int]]:
    """py-spy's raw format: one stack per line, frames root first separated by ';', then a count."""
    stacks = []
    for line in lines:
        line = line.rstrip("\n")
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def function_name(frame: str) -> str:
    """'handle (rasa/core/processor.py:123)' -> 'handle (rasa/core/processor.py)': one entry per function."""
    name, _, location = frame.partition(" (")
    return "%s (%s)" % (name, location.rsplit(":", 1)[0].rstrip(")")) if location else name


# Sanic runs on uvloop: while the loop waits for the network (or runs its own C code) the Python stack
# ends in Sanic's `serve`, and py-spy cannot tell that waiting from work. Those samples are counted apart.
LOOP_LEAVES = ("serve (sanic/server/runners.py)",)
# The frames between the process's start and a message's handling: in (nearly) every busy sample, so
# left out of the "total" list. Matched against the function's file (or name, for C-level tasks).
TRUNK = (
    "runpy.py",
    "sanic/",
    "asyncio/",
    "uvloop",
    "rasa/__main__.py",
    "rasa/cli/",
    "rasa/api.py",
    "rasa/core/run.py",
    "regelhulp/rasa_server.py",
    "rasa/core/channels/",
    "channels/guard.py",
    "rasa/core/agent.py",
    "dask/",
    "rasa/engine/",
    "handle_request",
    "connection_task",
    "handle_message (rasa/core/processor.py)",
)


def in_trunk(name: str) -> bool:
    location = name.partition(" (")[2].rstrip(")") or name
    return any(location.startswith(t) or name.startswith(t) or name == t for t in TRUNK)


def top_functions(
    stacks: List[Tuple[List[str], int]],
    n: int = 10,
    trunk_share: float = 0.9,
    loop_leaves: Tuple[str, ...] = LOOP_LEAVES,
) -> Dict[str, object]:
    """The N functions with the most samples of their own ("self": on top of the stack) and in total
    ("total": anywhere on the stack, counted once per sample), in % of the busy samples (those not
    ending in the event loop, LOOP_LEAVES). The "total" list leaves out the trunk every sample goes
    through (server, request handling: TRUNK, and any function in more than TRUNK_SHARE of the busy
    samples)."""
    all_samples = sum(count for _, count in stacks)
    own: Counter = Counter()
    total: Counter = Counter()
    loop = 0
    for frames, count in stacks:
        names = [function_name(f) for f in frames]
        if not names:
            continue
        if names[-1] in loop_leaves:
            loop += count
            continue
        own[names[-1]] += count
        for name in set(names):
            total[name] += count
    busy = (all_samples - loop) or 1

    def rows(counter: Counter, skip_trunk: bool) -> List[dict]:
        chosen = [
            (name, c)
            for name, c in counter.most_common()
            if not (skip_trunk and (c > trunk_share * busy or in_trunk(name)))
        ]
        return [{"function": name, "percent": round(100.0 * c / busy, 1)} for name, c in chosen[:n]]

    return {
        "samples": all_samples,
        "busy_samples": all_samples - loop,
        "loop_percent": round(100.0 * loop / (all_samples or 1), 1),
        "self": rows(own, False),
        "total": rows(total, True),
    }

"""The load driver bench.py and loadtest.py share: run conversations in parallel threads and read
their latencies. Also used by evaluate.py for its latency figures."""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, List


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def latency_ms(seconds: List[float]) -> Dict[str, float]:
    """p50, p95 and p99 of latencies in seconds, in milliseconds."""
    return {p: round(1000 * percentile(seconds, q), 1) for p, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))}


def run_parallel(conversation: Callable[[int], None], count: int, join_timeout: float) -> float:
    """Runs conversation(0) ... conversation(count - 1) at once, one thread each; the wall-clock seconds."""
    threads = [threading.Thread(target=conversation, args=(index,)) for index in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    return time.perf_counter() - started

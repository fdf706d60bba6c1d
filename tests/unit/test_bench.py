"""The pure parts of `make bench`: the profile summary, the long conversation, the report."""

from __future__ import annotations

import argparse

import yaml

from ops.derived_configs import baseline_config
from tools import bench
from tools.bench_probes import cpu_ns, function_name, parse_collapsed, rss_mb, top_functions

RAW = [
    "<module> (rasa/__main__.py:10);run (asyncio/base_events.py:600);validate (jsonschema/validators.py:1117) 60",
    "<module> (rasa/__main__.py:10);run (asyncio/base_events.py:600);retrieve (rasa/core/tracker_store.py:1270);"
    "from_parameters (rasa/shared/core/events.py:320) 30",
    "<module> (rasa/__main__.py:10);run (asyncio/base_events.py:601);retrieve (rasa/core/tracker_store.py:1275) 10",
    "<module> (rasa/__main__.py:10);run (asyncio/base_events.py:600);serve (sanic/server/runners.py:120) 25",
    "not a stack line",
]


def test_profile_top_functions_own_and_total_without_the_trunk():
    stacks = parse_collapsed(RAW)
    assert len(stacks) == 4
    top = top_functions(stacks, n=2)
    assert top["samples"] == 125 and top["busy_samples"] == 100 and top["loop_percent"] == 20.0
    assert top["self"] == [
        {"function": "validate (jsonschema/validators.py)", "percent": 60.0},
        {"function": "from_parameters (rasa/shared/core/events.py)", "percent": 30.0},
    ]
    # <module> and run are in every sample (the trunk): left out of the totals
    assert top["total"][0] == {"function": "validate (jsonschema/validators.py)", "percent": 60.0}
    assert top["total"][1] == {"function": "retrieve (rasa/core/tracker_store.py)", "percent": 40.0}


def test_function_name_drops_the_line_number():
    assert function_name("handle (rasa/core/processor.py:123)") == "handle (rasa/core/processor.py)"
    assert function_name("<idle>") == "<idle>"


def test_own_process_probes():
    import os

    before = cpu_ns(os.getpid())
    sum(i * i for i in range(200000))
    assert cpu_ns(os.getpid()) > before
    assert rss_mb(os.getpid()) > 10


def test_long_conversation_ends_with_the_message_of_turn_2():
    turns = bench.long_conversation(40)
    assert len(turns) == 40 and turns[1] == turns[-1] == bench.TURNS[1]


def test_baseline_is_rasa_s_default_configuration_with_one_epoch():
    config = yaml.safe_load(baseline_config(1).read_text())
    names = [c["name"] for c in config["pipeline"] + config["policies"]]
    assert "DIETClassifier" in names and "TEDPolicy" in names
    assert all(c["epochs"] == 1 for c in config["pipeline"] + config["policies"] if "epochs" in c)
    assert config["language"] == "nl"


def fake_result(p95_1: float, tput_10: float, turn2: float, turn40: float) -> dict:
    return {
        "training": {"seconds": 100, "model_mb": 7.7, "load_average": 1.0, "epochs": 1},
        "load_average_before_serving": 0.5,
        "patches": "applied: a, b",
        "rss_after_start_mb": {"rasa": 700, "actions": 110},
        "rss_after_load_mb": {"rasa": 720, "actions": 112},
        "levels": [
            {"conversations": 1, "p50_ms": 20, "p95_ms": p95_1, "p99_ms": 30, "throughput_msg_s": 45, "errors": 0},
            {
                "conversations": 10,
                "p50_ms": 200,
                "p95_ms": 250,
                "p99_ms": 300,
                "throughput_msg_s": tput_10,
                "errors": 0,
            },
        ],
        "cpu": {
            "turns": 40,
            "rasa_turn2_ms": turn2,
            "rasa_last_turn_ms": turn40,
            "rasa_ratio": round(turn40 / turn2, 2),
            "actions_turn2_ms": 5,
            "actions_last_turn_ms": 9,
        },
    }


def test_report_checks_the_targets_and_compares_both_pipelines():
    args = argparse.Namespace(levels=[1, 10], long_turns=40, long_conversations=3, epochs=1)
    ours, default = fake_result(25, 45, 20, 24), fake_result(80, 15, 40, 60)
    ours["profile"] = {
        "samples": 100,
        "busy_samples": 60,
        "loop_percent": 40.0,
        "file": "reports/bench_profile.txt",
        "self": [{"function": "validate (x.py)", "percent": 60.0}],
        "total": [],
    }
    text = bench.report({"ours": ours, "default": default}, args)
    assert "| p95 at 1 conversation (ms) | 25 | <= 30 | yes |" in text
    assert "| messages/s at 10 concurrent, ours / default pipeline | 3.0 | >= 2 | yes |" in text
    assert "| Rasa server CPU per message, turn 40 / turn 2 | 1.2 | <= 1.3 | yes |" in text
    assert "| 10 concurrent: throughput_msg_s | 45 | 15 | 3.00 |" in text
    assert "| 60.0 | `validate (x.py)` | |  |  |" in text

    alone = bench.report({"ours": fake_result(40, 20, 20, 40)}, args)
    assert "| p95 at 1 conversation (ms) | 40 | <= 30 | **no** |" in alone
    assert "ours / default pipeline | n/a |" in alone


def test_loadtest_report_compares_replica_counts(tmp_path, monkeypatch):
    from tools import loadtest

    def figures(replicas: int, throughput: float) -> dict:
        return {
            "conversations": 50,
            "turns": 10,
            "replicas": replicas,
            "sent": 500,
            "statuses": {"200": 500},
            "server_errors_5xx": 0,
            "lost_user_events": 0,
            "duplicated_user_events": 0,
            "conversations_out_of_order": 0,
            "stored_user_events": 500,
            "latency_ms": {"p50": 900.0, "p95": 1200.0, "p99": 1300.0},
            "throughput_msg_per_s": throughput,
            "seconds": 20.0,
            "rasa_patches": True,
            "finished_at": "2026-12-07 15:30 UTC",
            "load_average_after": 2.0,
        }

    monkeypatch.setattr(loadtest, "ROOT", tmp_path)
    text = loadtest.write_report([figures(1, 30.0), figures(2, 42.0)]).read_text()
    assert "Throughput with 2 replicas / with 1 replica: **1.40**" in text
    assert "## 1 replica(s)" in text and "## 2 replica(s)" in text and "| throughput | 42.0 messages/s |" in text
    assert loadtest.scaling([figures(2, 42.0)]) is None

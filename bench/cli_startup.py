"""Benchmark: how long ``odoosync --help`` and ``odoosync version`` take to start.

Each command runs as a fresh process (``python -m odoosync ...``), ``--runs`` times,
beside ``python -c pass`` measured in the same run as the baseline: the interpreter's own
start-up on this machine, now. The table shows the fastest and the median wall time per
command and the median's ratio to the baseline's; the target is 0.3 s or less for both
commands (the fastest run, the one least disturbed by other work on the machine).

    .venv/bin/python bench/cli_startup.py            # 15 runs each
    .venv/bin/python bench/cli_startup.py --runs 30
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.3
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "odoosync --help": [sys.executable, "-m", "odoosync", "--help"],
    "odoosync version": [sys.executable, "-m", "odoosync", "version"],
}


def measure(argv: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh processes (one warm-up run first, not counted)."""
    subprocess.run(argv, check=True, capture_output=True)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command")
    args = parser.parse_args()
    results = {name: measure(argv, args.runs) for name, argv in COMMANDS.items()}
    baseline = statistics.median(results["python -c pass"])
    print(f"{'command':<18} {'fastest s':>9} {'median s':>9} {'x baseline':>10}")
    ok = True
    for name, seconds in results.items():
        median = statistics.median(seconds)
        print(f"{name:<18} {min(seconds):9.3f} {median:9.3f} {median / baseline:10.1f}")
        if name != "python -c pass" and min(seconds) > TARGET_SECONDS:
            ok = False
    print(f"target: {TARGET_SECONDS} s for --help and version: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: how long ``odoosync --help`` and ``odoosync version`` take to start.

Each command runs as a fresh process (``python -m odoosync ...``), ``--runs`` times,
beside ``python -c pass`` measured in the same run as the baseline: the interpreter's own
start-up on this machine, now. The table shows per command the fastest and the median
wall time, the median CPU time (user + system of the child: what the start-up costs,
much less disturbed than wall time when other work shares the CPUs) and the medians'
ratios to the baseline's. The target is 0.3 s or less for both commands, judged on the
fastest wall time and on the CPU time.

    .venv/bin/python bench/cli_startup.py            # 15 runs each
    .venv/bin/python bench/cli_startup.py --runs 30
    .venv/bin/python bench/cli_startup.py --python /other/checkout/.venv/bin/python   # before/after
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.3


def commands(python: str) -> dict[str, list[str]]:
    return {
        "python -c pass": [python, "-c", "pass"],
        "odoosync --help": [python, "-m", "odoosync", "--help"],
        "odoosync version": [python, "-m", "odoosync", "version"],
    }


def measure(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` fresh processes (one warm-up run first, not counted)."""
    subprocess.run(argv, check=True, capture_output=True)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command")
    parser.add_argument("--python", default=sys.executable, help="the interpreter whose odoosync to measure")
    args = parser.parse_args()
    results = {name: measure(argv, args.runs) for name, argv in commands(args.python).items()}
    base_wall, base_cpu = (statistics.median(values) for values in results["python -c pass"])
    print(f"{'command':<18} {'fastest s':>9} {'median s':>9} {'cpu s':>7} {'x wall':>7} {'x cpu':>7}")
    ok = True
    for name, (wall, cpu) in results.items():
        median, cpu_median = statistics.median(wall), statistics.median(cpu)
        print(
            f"{name:<18} {min(wall):9.3f} {median:9.3f} {cpu_median:7.3f} {median / base_wall:7.1f} "
            f"{cpu_median / base_cpu:7.1f}"
        )
        if name != "python -c pass" and (min(wall) > TARGET_SECONDS or cpu_median > TARGET_SECONDS):
            ok = False
    print(f"target: {TARGET_SECONDS} s for --help and version: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

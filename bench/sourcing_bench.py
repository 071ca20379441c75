"""Throughput of the sourcing analyser: articles per second on one core.

Two inputs: the seed article (about 500 words) and a 2,000-word article stitched from the
development set. The machine is shared and noisy, so each figure is the median of several timed
rounds of CPU time in this one process (one core), and each is also given as a ratio to a ceiling
measured in the same run: one regular-expression pass that only splits the same text into words,
the least any analyser must do.

    .venv/bin/python bench/sourcing_bench.py [--rounds 7] [--seconds 1.0]
"""
from __future__ import annotations

import argparse
import platform
import re
import statistics
import time
from pathlib import Path

from masthead.sourcing import analyse

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "sourcing" / "seed" / "seed-article.txt"
DEV = ROOT / "tests" / "sourcing" / "dev"
WORD = re.compile(r"\w+")


def long_article(words: int = 2000) -> str:
    parts, count = [], 0
    for path in sorted(DEV.glob("*.txt")):
        body = path.read_text(encoding="utf-8").split("\n\n", 2)[-1]  # drop section line and headline
        parts.append(body)
        count += len(body.split())
        if count >= words:
            break
    text = "\n\n".join(parts)
    return " ".join(text.split(" ")[:words]) if count > words else text


def per_second(fn, text: str, seconds: float, rounds: int) -> float:
    """Median over rounds of calls per CPU-second, each round running for about ``seconds``."""
    rates = []
    for _ in range(rounds):
        calls, start = 0, time.process_time()
        while (elapsed := time.process_time() - start) < seconds:
            fn(text)
            calls += 1
        rates.append(calls / elapsed)
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    inputs = {"seed article": SEED.read_text(encoding="utf-8"), "2,000-word article": long_article()}
    print(f"python {platform.python_version()} on {platform.machine()}, {args.rounds} rounds of "
          f"{args.seconds:.1f} CPU-s, median")
    print("| input | words | analyser articles/s per core | ceiling (word split) articles/s | analyser / ceiling |")
    print("| --- | --- | --- | --- | --- |")
    for name, text in inputs.items():
        analyse(text)  # warm the word lists
        rate = per_second(analyse, text, args.seconds, args.rounds)
        ceiling = per_second(WORD.findall, text, args.seconds, args.rounds)
        print(f"| {name} | {len(text.split())} | {rate:,.0f} | {ceiling:,.0f} | {rate / ceiling:.4f} |")


if __name__ == "__main__":
    main()

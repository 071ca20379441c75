"""Throughput of the sourcing analyser: articles per second on one core.

Two inputs: the seed article (about 500 words) and a 2,000-word article stitched from the
development set. The machine is shared and noisy, so each figure is the median of several timed
rounds of CPU time in this one process (one core), and each is also given as a ratio to a ceiling
measured in the same run: one regular-expression pass that only splits the same text into words,
the least any analyser must do.

    .venv/bin/python bench/sourcing_bench.py [--rounds 7] [--seconds 1.0]
    .venv/bin/python bench/sourcing_bench.py --growth

`--growth` instead times single sentences of 8,000 and 32,000 characters with no full stop,
made of numbers, "according to" sources and reported clauses: what a pasted table or a run-on
paragraph gives the analyser on every save. Four times the text should cost about four times
the time; sixteen means the cost grows with its square.
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


RUN_ON = {
    "numbers": "5 million 3 percent 12,000 ",
    "according to": "according to the Ministry of Health ",
    "reported clauses": "the minister said that the plan would cost 5 million dollars and ",
    "quotations": "“We will win,” said John Smith and ",
    "unnamed sources": "an official said the plan would fail and the official told reporters, ",
}


def growth() -> None:
    """CPU seconds per analysis of one run-on sentence, and the ratio from 8,000 to 32,000."""
    print("| sentence of | 8,000 chars, s | 32,000 chars, s | growth (4 = linear) |")
    print("| --- | ---: | ---: | ---: |")
    for name, unit in RUN_ON.items():
        times = []
        for size in (8_000, 32_000):
            text = (unit * (size // len(unit) + 1))[:size] + "."
            start = time.process_time()
            analyse(text)
            times.append(time.process_time() - start)
        print(f"| {name} | {times[0]:.3f} | {times[1]:.3f} | {times[1] / times[0]:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--growth", action="store_true", help="time run-on sentences instead")
    args = parser.parse_args()
    if args.growth:
        growth()
        return
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

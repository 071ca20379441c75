"""Where an uncached article's time goes, in one process: the whole page, the same request with
its templates free, and the plain Wagtail site's article, side by side.

Why: served, the uncached seed article reaches 0.7-0.9x the plain Wagtail site (peers_bench.py),
against a target of 1.5x. This measures how far any change to rendering alone could take it.
"With its templates free" replaces template rendering (Jinja2's and Django's engines) by the
page it rendered before: the templates and everything they call (the comment thread and form,
the cards, the share bar, the structured data, the "Who is quoted" box, and the queries their
tags make) then cost nothing, while routing, the page's context (related reading, tags, bylines,
pictures), the middleware and Django's request handling still run. If even that request is not
1.5x as fast as Wagtail's whole one, no template engine, no Python markup and no query count
can reach the target without dropping parts of the page.

Each system is timed in a process of its own through Django's test client (no server, no
network): `--rounds` rounds, each the best of 5 x `--requests` requests after a warm-up. The
rounds alternate masthead and Wagtail, so a noisy machine slows both alike.

peers_bench.py runs this after its publish timings, on its own data set. Alone:

    .venv/bin/python bench/render_split.py --data-dir DIR --path /world/<seed>/

DIR being a masthead data directory whose static files were collected with DEBUG off
(peers_bench.py --keep leaves one). The Wagtail site is the shared peer scripts' (setup-wagtail.sh),
under $PEERS_STATE (default /var/tmp/masthead-peers).

`--instructions` counts instead of timing: each of the three requests runs in a process of its own
under valgrind's callgrind, counting only while its `--requests` GETs run (after a warm-up), and
the report gives instructions per request. Why: these machines are shared and their timings
swing by a third from one minute to the next, while the count is the same to a few parts in ten
thousand from run to run, whatever else the machine is doing. So a change worth 1 % of the page
shows, where timings need many interleaved rounds to see 5 %. Instructions are not time (a
cache miss costs more than an addition), so the served benchmark stays the judge; both systems
run the same CPython, so their counts compare. It needs valgrind (Debian's `valgrind`).

This module imports only the standard library at the top: the peer's half runs under the peer's
own Python, which has no masthead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5  # the issue's: uncached article >= 1.5x the plain Wagtail site
BATCHES = 5  # timed batches per round; a round's figure is the fastest batch


def best_ms(get, path: str, requests: int) -> float:
    """The fastest of BATCHES batches of `requests` GETs, in ms per request."""
    for _ in range(max(3, requests // 10)):
        get(path)
    best = float("inf")
    for _ in range(BATCHES):
        start = time.perf_counter()
        for _ in range(requests):
            get(path)
        best = min(best, (time.perf_counter() - start) * 1000 / requests)
    return best


def client_get():
    """A GET through Django's test client that fails loudly on anything but a 200."""
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")

    def get(path: str):
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        return response

    return get


def child(mode: str, path: str, requests: int) -> dict:
    """One round in this process: `masthead` (the whole page, then with its templates free) or
    `wagtail` (the peer's page). Django must be configured by the environment."""
    get = client_get()
    page = get(path).content
    result = {"bytes": len(page)}
    if mode == "wagtail":
        result["wagtail_ms"] = best_ms(get, path, requests)
        return result
    result["full_ms"] = best_ms(get, path, requests)
    with templates_free(page.decode()):
        result["templates_free_ms"] = best_ms(get, path, requests)
    return result


@contextlib.contextmanager
def templates_free(rendered: str):
    """Every template renders as `rendered` at no cost, until the block ends."""
    templates = template_classes()
    renders = [cls.render for cls in templates]
    for cls in templates:
        cls.render = lambda self, context=None, request=None: rendered
    try:
        yield
    finally:
        for cls, render in zip(templates, renders):
            cls.render = render


COUNTED_MODES = ("masthead", "masthead-free", "wagtail")


def counted_child(mode: str, path: str, requests: int, toggle=None) -> dict:
    """One of COUNTED_MODES in this process, under callgrind started with instrumentation off:
    a warm-up, then instrumentation on for `requests` GETs only. `toggle(on)` switches it
    (callgrind_control by default)."""
    if mode not in COUNTED_MODES:
        raise ValueError(f"a counted child runs one of {COUNTED_MODES}, not {mode!r}")
    toggle = toggle or callgrind_toggle
    get = client_get()
    page = get(path).content
    with templates_free(page.decode()) if mode == "masthead-free" else contextlib.nullcontext():
        for _ in range(3):
            get(path)
        toggle(True)
        try:
            for _ in range(requests):
                get(path)
        finally:
            toggle(False)
    return {"bytes": len(page)}


def callgrind_toggle(on: bool) -> None:
    """Switch callgrind's instrumentation of this process on or off. callgrind_control reaches
    the process through vgdb, which needs ptrace (a kernel with Yama's ptrace_scope=1 refuses it
    to a process that is not the target's parent). Each count includes half of each switch's
    own work (starting callgrind_control, waiting for it): BENCHMARKS.md gives its size."""
    subprocess.run(
        ["callgrind_control", f"--instr={'on' if on else 'off'}", str(os.getpid())],
        check=True,
        capture_output=True,
        timeout=120,
    )


def callgrind_total(out_file: Path) -> int:
    """The instructions counted in a callgrind output file (its `totals:` line)."""
    for line in out_file.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"{out_file} has no totals line: did callgrind finish?")


def template_classes() -> list[type]:
    """The template class of each engine Django may render a page with: masthead's pages are
    Jinja2 templates, and a page left in Django's engine must be free too."""
    from django.template.backends import django as django_backend

    classes: list[type] = [django_backend.Template]
    try:
        from django.template.backends import jinja2 as jinja2_backend
    except ImportError:  # a site without Jinja2 (the peer's Python never gets here)
        return classes
    return classes + [jinja2_backend.Template]


def peer_command(state: Path) -> tuple[list[str], Path, dict]:
    """How to run this file under the Wagtail peer's Python, in its site, uncached."""
    site = state / "data" / "wagsite"
    python = state / "venv" / "bin" / "python"
    if not (site / "manage.py").exists() or not python.exists():
        raise FileNotFoundError(f"no Wagtail peer under {state}: run setup-wagtail.sh first")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "wagsite.settings.bench",
        "BENCH_CACHE": "0",
        "PYTHONPATH": str(site),
    }
    return [str(python)], site, env


def run_child(
    python: list[str], mode: str, path: str, requests: int, cwd: Path, env: dict, counted: bool = False
) -> dict:
    spec = json.dumps({"mode": mode, "path": path, "requests": requests, "counted": counted})
    r = subprocess.run(
        [*python, __file__, "--child", spec],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800 if counted else 600,
        stdin=subprocess.DEVNULL,
    )
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"render_split {mode} failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(lines[-1])


def measure(
    masthead_env: dict, masthead_cwd: Path, path: str, state: Path, peer_path: str, rounds: int, requests: int
) -> dict:
    """Alternating rounds of masthead (uncached settings in `masthead_env`) and the peer; medians
    of the rounds, and the ratios the target is about (Wagtail's time over masthead's)."""
    peer_python, peer_cwd, peer_env = peer_command(state)
    runs: dict[str, list] = {"masthead": [], "wagtail": []}
    for _ in range(rounds):
        runs["masthead"].append(run_child([sys.executable], "masthead", path, requests, masthead_cwd, masthead_env))
        runs["wagtail"].append(run_child(peer_python, "wagtail", peer_path, requests, peer_cwd, peer_env))
    return summarise(runs, rounds, requests)


def summarise(runs: dict, rounds: int, requests: int) -> dict:
    """Medians of each time over the rounds; the ratios are medians of per-round ratios (both
    systems ran in the same round), as peers_bench.py's are."""

    def median(system: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[system]), 3)

    def ratio(key: str) -> float:
        pairs = zip(runs["wagtail"], runs["masthead"])
        return round(statistics.median(w["wagtail_ms"] / m[key] for w, m in pairs), 3)

    full, free, wagtail = median("masthead", "full_ms"), median("masthead", "templates_free_ms"), median("wagtail", "wagtail_ms")
    return {
        "rounds": rounds,
        "requests": requests,
        "masthead_full_ms": full,
        "masthead_templates_free_ms": free,
        "wagtail_ms": wagtail,
        "masthead_bytes": runs["masthead"][0]["bytes"],
        "wagtail_bytes": runs["wagtail"][0]["bytes"],
        "ratio_full": ratio("full_ms"),
        "ratio_templates_free": ratio("templates_free_ms"),
        "target": TARGET,
        "target_ms": round(wagtail / TARGET, 3),
        "runs": runs,
    }


def markdown(split: dict) -> list[str]:
    """The report's lines for peers_bench.md."""
    s = split
    return report(
        f"Where the uncached article's time goes, in one process (bench/render_split.py; Django's test "
        f"client, median of {s['rounds']} alternating rounds, each the best of {BATCHES} x {s['requests']} requests; "
        "ratios are medians of per-round ratios):",
        ("ms", "time"),
        s,
        [s["masthead_full_ms"], s["masthead_templates_free_ms"], s["wagtail_ms"]],
        f"{s['target_ms']:.2f} ms or less",
    )


def report(heading: str, unit: tuple[str, str], s: dict, values: list[float], needed: str) -> list[str]:
    """The split's table (the whole page, with its templates free, Wagtail's), timed or counted:
    `unit` names the column and what is compared, `values` are in that unit."""
    whole, free, wagtail = values
    return [
        "",
        heading,
        "",
        f"| request | {unit[0]} | Wagtail's {unit[1]} over this one |",
        "| --- | ---: | ---: |",
        f"| masthead, the whole page ({s['masthead_bytes']:,} B) | {whole:.2f} | {s['ratio_full']:.2f}x |",
        f"| masthead, its templates free (routing, context, middleware) | {free:.2f} | "
        f"{s['ratio_templates_free']:.2f}x |",
        f"| plain Wagtail, the whole page ({s['wagtail_bytes']:,} B) | {wagtail:.2f} | 1.00x |",
        "",
        f"- {s['target']}x the Wagtail site needs masthead's whole page in {needed}.",
    ]


def measure_instructions(
    masthead_env: dict,
    masthead_cwd: Path,
    path: str,
    state: Path,
    peer_path: str,
    requests: int,
    out_dir: Path,
) -> dict:
    """Instructions per request of each of COUNTED_MODES, each counted once under callgrind."""
    peer_python, peer_cwd, peer_env = peer_command(state)
    counts: dict[str, dict] = {}
    for mode in COUNTED_MODES:
        if mode == "wagtail":
            python, cwd, env, page = peer_python, peer_cwd, peer_env, peer_path
        else:
            python, cwd, env, page = [sys.executable], masthead_cwd, masthead_env, path
        out_file = out_dir / f"callgrind-{mode}.out"
        valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}"]
        found = run_child([*valgrind, *python], mode, page, requests, cwd, env, counted=True)
        counts[mode] = {"bytes": found["bytes"], "instructions": callgrind_total(out_file) // requests}
    return summarise_instructions(counts, requests)


def summarise_instructions(counts: dict, requests: int) -> dict:
    wagtail = counts["wagtail"]["instructions"]
    whole, free = counts["masthead"]["instructions"], counts["masthead-free"]["instructions"]
    return {
        "requests": requests,
        "masthead_full": whole,
        "masthead_templates_free": free,
        "wagtail": wagtail,
        "masthead_bytes": counts["masthead"]["bytes"],
        "wagtail_bytes": counts["wagtail"]["bytes"],
        "ratio_full": round(wagtail / whole, 3),
        "ratio_templates_free": round(wagtail / free, 3),
        "target": TARGET,
        "target_instructions": int(wagtail / TARGET),
    }


def markdown_instructions(c: dict) -> list[str]:
    """The report's lines for the instruction counts."""
    return report(
        f"Instructions per uncached article request, in one process (bench/render_split.py --instructions; "
        f"callgrind, counting {c['requests']} requests after a warm-up):",
        ("million instructions", "count"),
        c,
        [c["masthead_full"] / 1e6, c["masthead_templates_free"] / 1e6, c["wagtail"] / 1e6],
        f"{c['target_instructions'] / 1e6:.2f} million instructions or fewer",
    )


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="a masthead data directory (MASTHEAD_DATA_DIR)")
    p.add_argument("--path", help="the masthead article's path")
    p.add_argument("--peer-path", help="the Wagtail peer's article (default: the seed article's)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--requests", type=int, help="requests per timed batch (default 50), or counted (default 10)"
    )
    p.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions under callgrind (one run of each request; --requests default 10)",
    )
    p.add_argument("--out", help="where --instructions keeps callgrind's files (default: a temporary folder)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if not a.child and not (a.data_dir and a.path):
        p.error("--data-dir and --path are required")
    if a.requests is None:
        a.requests = 10 if a.instructions else 50
    if a.rounds < 1 or a.requests < 1:
        p.error("--rounds and --requests must be >= 1")
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.child:
        spec = json.loads(a.child)
        run = counted_child if spec.get("counted") else child
        print(json.dumps(run(spec["mode"], spec["path"], spec["requests"])))
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import harness
    from peers_bench import SEED_SLUG

    data_dir = Path(a.data_dir).resolve()
    env = harness.masthead_env(data_dir, os.environ.get("SECRET_KEY") or "render-split-" + "x" * 40)
    env["DJANGO_SETTINGS_MODULE"] = harness.UNCACHED_SETTINGS
    state = Path(os.environ.get("PEERS_STATE", "/var/tmp/masthead-peers"))
    peer_path = a.peer_path or f"/{SEED_SLUG}/"
    if a.instructions:
        with tempfile.TemporaryDirectory(prefix="render-split-") as scratch:
            out_dir = Path(a.out or scratch)
            out_dir.mkdir(parents=True, exist_ok=True)
            counts = measure_instructions(env, data_dir, a.path, state, peer_path, a.requests, out_dir)
        print("\n".join(markdown_instructions(counts)))
        print(json.dumps(counts))
        return 0
    split = measure(env, data_dir, a.path, state, peer_path, a.rounds, a.requests)
    print("\n".join(markdown(split)))
    print(json.dumps({k: v for k, v in split.items() if k != "runs"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

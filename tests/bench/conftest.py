"""What the benchmark tests share: bench/ importable, as it is for the scripts themselves."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def on_bench_path():
    """bench/ on sys.path for the test, as when a benchmark runs as a script."""
    sys.path.insert(0, str(BENCH))
    try:
        yield BENCH
    finally:
        sys.path.remove(str(BENCH))

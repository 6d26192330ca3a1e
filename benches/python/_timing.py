"""Timing shared by the Python benches: contenders are timed in turns, not one after the other.

On a shared machine the load changes over seconds; timing every contender once per round, in a rotating
order, exposes them all to the same conditions, and the best time of each over the rounds is kept. A
pause of a quarter second before each turn lets the worker threads of the previous contender go idle
(OpenBLAS threads spin for about a tenth of a second after a call), so that no contender pays for the
spinning threads of another; an untimed call then wakes the contender's own threads and caches, so
that none pays for the pause either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any


def race(
    contenders: Mapping[str, Callable[[], Any]], rounds: int, pause: float = 0.25
) -> dict[str, tuple[float, Any]]:
    """``{name: (best wall-clock seconds, value of the last call)}`` over ``rounds`` rounds."""
    names = list(contenders)
    values = {name: contenders[name]() for name in names}  # warm-up
    best = dict.fromkeys(names, float("inf"))
    for r in range(rounds):
        for i in range(len(names)):
            name = names[(i + r) % len(names)]
            time.sleep(pause)
            contenders[name]()
            start = time.perf_counter()
            values[name] = contenders[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (best[name], values[name]) for name in names}

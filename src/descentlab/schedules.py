"""Step-size schedules: functions t -> alpha_t of the step count t = 0, 1, 2, ...

Every optimizer in :mod:`descentlab.optim` takes one wherever it takes a step size
(``optim.SGD(alpha=schedules.cosine(0.1, T))``), and evaluates it once per update at the
number of updates made so far, so alpha_0 is the first step's size.

Robbins and Monro (1951) ask of a schedule that

    sum_t alpha_t = infinity       (the steps can travel any distance)
    sum_t alpha_t^2 < infinity     (the noise they inject adds up to a finite amount)

:func:`inverse_time` meets both; a constant step meets only the first, which is why SGD
with a constant step stalls at a noise floor whose height is proportional to alpha.
Step decay, cosine and warm-up are finite-horizon schedules: they are defined for a
budget of T steps and the conditions say nothing about them.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

Schedule = Callable[[int], float]


def constant(alpha: float) -> Schedule:
    """alpha_t = alpha."""
    return lambda t: float(alpha)


def inverse_time(alpha0: float, decay: float) -> Schedule:
    """alpha_t = alpha0 / (1 + decay t): sum alpha_t diverges, sum alpha_t^2 converges (Robbins-Monro)."""
    return lambda t: alpha0 / (1.0 + decay * t)


def step_decay(alpha0: float, factor: float, every: int) -> Schedule:
    """alpha_t = alpha0 factor^floor(t / every): the step is multiplied by ``factor`` every ``every`` steps."""
    if every < 1:
        raise ValueError(f"every counts steps and must be at least 1, got {every}")
    return lambda t: alpha0 * factor ** (t // every)


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    """alpha_t = values[i] for boundaries[i-1] <= t < boundaries[i] (values has one entry more).

    piecewise_constant([T0], [alpha / (1 - mu), alpha]) is the step-decay schedule that matches
    SGDEM: heavy-ball steps of terminal speed alpha / (1 - mu) for T0 steps, then SGD at alpha.
    """
    if len(values) != len(boundaries) + 1:
        raise ValueError(f"{len(boundaries)} boundaries need {len(boundaries) + 1} values, got {len(values)}")
    if list(boundaries) != sorted(boundaries):
        raise ValueError(f"boundaries must increase, got {list(boundaries)}")
    return lambda t: float(values[sum(t >= b for b in boundaries)])


def cosine(alpha0: float, T: int, alpha_min: float = 0.0) -> Schedule:
    """alpha_t = alpha_min + (alpha0 - alpha_min) (1 + cos(pi t / T)) / 2 for t <= T, alpha_min after.

    Loshchilov and Hutter's (2017) annealing without restarts: alpha0 at t = 0, alpha_min at t = T.
    """
    if T < 1:
        raise ValueError(f"T is a number of steps and must be at least 1, got {T}")
    return lambda t: alpha_min + (alpha0 - alpha_min) * (1.0 + math.cos(math.pi * min(t, T) / T)) / 2.0


def warmup(schedule: Schedule, T_w: int) -> Schedule:
    """Linear warm-up over the first T_w steps, then ``schedule`` shifted to start at T_w:

        alpha_t = (t + 1) / T_w  schedule(0)    for t < T_w   (alpha_0 = schedule(0) / T_w, never 0)
        alpha_t = schedule(t - T_w)              for t >= T_w

    The first step is already a small step (t is counted from 0, so the factor is t + 1),
    and step T_w - 1 reaches the full schedule(0).
    """
    if T_w < 0:
        raise ValueError(f"T_w counts steps and cannot be negative, got {T_w}")
    return lambda t: (t + 1) / T_w * schedule(0) if t < T_w else schedule(t - T_w)


def warmup_cosine(alpha0: float, T_w: int, T: int, alpha_min: float = 0.0) -> Schedule:
    """T_w steps of linear warm-up to alpha0, then cosine decay to alpha_min at step T (T > T_w)."""
    if T <= T_w:
        raise ValueError(f"the run (T = {T}) must be longer than its warm-up (T_w = {T_w})")
    return warmup(cosine(alpha0, T - T_w, alpha_min), T_w)


def linear_scaling(alpha0: float, B0: int, B: int) -> float:
    """The linear scaling rule (Goyal et al., 2017): alpha = alpha0 B / B0 for batch size B."""
    return alpha0 * B / B0


def values(schedule, T: int) -> list[float]:
    """[alpha_0, ..., alpha_{T-1}]: the first T step sizes (a constant is repeated)."""
    return [float(schedule(t)) if callable(schedule) else float(schedule) for t in range(T)]

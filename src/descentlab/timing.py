"""Timing of the book's cost measurements (chapters 1 and 2)."""

from __future__ import annotations

import time
import timeit


def seconds(fn, min_time: float = 0.02, *, with_result: bool = False):
    """Processor seconds per call of fn(), over enough calls to last min_time.

    Processor time (time.process_time) counts only the time this program ran, so
    other programs sharing the machine inflate it far less than wall-clock time.
    The number of calls doubles from 1 until their total lasts min_time. Callers
    keep the best of several rounds (the minimum of repeated calls), interleaved
    so that a burst of load hits every case alike. With with_result=True, returns
    (seconds, result of the last call), so a timed result can be checked without
    computing it again.
    """
    if with_result:
        last = [None]

        def call():
            last[0] = fn()
    else:
        call = fn
    number = 1
    while (t := timeit.timeit(call, number=number, timer=time.process_time)) < min_time:
        number *= 2
    return (t / number, last[0]) if with_result else t / number

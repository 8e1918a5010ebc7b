"""Optimizers as pure functions of (parameters, gradients, state).

Every optimizer is a frozen dataclass of hyper-parameters with two methods:

    state = opt.init(params)                         # params: dict name -> array
    params, state = opt.update(params, grads, state) # returns NEW arrays; inputs untouched

The state is a NamedTuple that always carries the step count ``t`` (how many
updates have been made), which schedules, Adam's bias correction and SGDEM's
switch need. Keeping hyper-parameters and state apart (as optax does) makes an
optimizer easy to test: the same inputs give the same outputs, always.

A step size ``alpha`` is a float or a schedule, a function t -> alpha_t of the
step count t = 0, 1, 2, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple, Union

import numpy as np

Params = Mapping[str, np.ndarray]
StepSize = Union[float, Callable[[int], float]]


class StepState(NamedTuple):
    """The state of a memoryless method: only the step count."""

    t: int


def step_size(alpha: StepSize, t: int) -> float:
    """alpha_t: the constant alpha, or the schedule evaluated at step t."""
    return float(alpha(t)) if callable(alpha) else float(alpha)


def _check(params: Params, grads: Params) -> None:
    if set(params) != set(grads):
        raise KeyError(f"params and grads name different parameters: {sorted(set(params) ^ set(grads))}")
    for k in params:
        if np.shape(params[k]) != np.shape(grads[k]):
            raise ValueError(f"grads[{k!r}] has shape {np.shape(grads[k])}, the parameter {np.shape(params[k])}.")


@dataclass(frozen=True)
class SGD:
    """theta_{t+1} = theta_t - alpha_t g_t.

    With g_t the gradient of one sample's loss (or a mini-batch mean) this is
    stochastic gradient descent; with the full-batch gradient of R_N it is
    gradient descent (:class:`GradientDescent` is the same update by another name).
    """

    alpha: StepSize = 0.1

    def init(self, params: Params) -> StepState:
        return StepState(t=0)

    def update(self, params: Params, grads: Params, state: StepState):
        _check(params, grads)
        a = step_size(self.alpha, state.t)
        new = {k: params[k] - a * grads[k] for k in params}
        return new, StepState(t=state.t + 1)


@dataclass(frozen=True)
class GradientDescent(SGD):
    """Gradient descent: the SGD update applied to the full-batch gradient of R_N."""


def inverse_time(alpha0: float, decay: float) -> Callable[[int], float]:
    """The schedule alpha_t = alpha0 / (1 + decay t)."""
    return lambda t: alpha0 / (1.0 + decay * t)


def apply(params: dict, new: Params) -> None:
    """Copy updated values into the existing arrays (for models that own their arrays, like MLP)."""
    for k, v in new.items():
        params[k][...] = v

"""Optimizers as pure functions of (parameters, gradients, state).

Every optimizer is a frozen dataclass of hyper-parameters with two methods:

    state = opt.init(params)                         # params: dict name -> array
    params, state = opt.update(params, grads, state) # returns NEW arrays; inputs untouched

The state is a NamedTuple that always carries the step count ``t`` (how many
updates have been made), which schedules, Adam's bias correction and SGDEM's
switch need. Keeping hyper-parameters and state apart (as optax does) makes an
optimizer easy to test: the same inputs give the same outputs, always.

A step size ``alpha`` is a float or a schedule, a function t -> alpha_t of the
step count t = 0, 1, 2, ... (descentlab.schedules). It is evaluated at the number of
updates made so far: the first update, which makes v_1 and w_1 from v_0 = 0 and w_0,
uses alpha_0, and update t uses alpha_{t-1}. (The docstrings below write alpha_t for
"the current step size".)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple, Union

import numpy as np

from .schedules import inverse_time  # noqa: F401  (kept here: chapter 3 imports it from optim)

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


class MomentumState(NamedTuple):
    """Heavy-ball state: the step count and the velocity v_t of every parameter."""

    t: int
    v: dict


@dataclass(frozen=True)
class Momentum:
    """Heavy-ball momentum (Polyak, 1964) in the lecture's form:

        v_t     = mu v_{t-1} - alpha_t g_t,      v_0 = 0
        w_{t+1} = w_t + v_t

    Convention: the velocity starts at zero, so the first step v_1 = -alpha g_1 is
    a plain SGD step. (The slide writes v_1 = g_1, which loses both the sign and
    alpha: taken literally, the first step climbs the loss by a whole gradient.)

    Unrolled, v_t = -sum_{s<=t} mu^{t-s} alpha_s g_s: an exponentially weighted sum
    of past steps, so a constant gradient g moves w at the terminal speed
    -alpha g / (1 - mu).

    PyTorch's ``SGD(momentum=mu)`` keeps b_t = mu b_{t-1} + g_t and steps
    w -= alpha b_t. For a constant alpha that is the same iterate (v_t = -alpha b_t);
    with a schedule the two differ, because here alpha_t scales only the new gradient.
    mu = 0 is SGD.
    """

    alpha: StepSize = 0.01
    mu: float = 0.9

    def __post_init__(self):
        if not 0.0 <= self.mu < 1.0:
            raise ValueError(f"momentum mu must lie in [0, 1), got {self.mu}: mu >= 1 never forgets a gradient.")

    def init(self, params: Params) -> MomentumState:
        return MomentumState(t=0, v={k: np.zeros_like(params[k]) for k in params})

    def update(self, params: Params, grads: Params, state: MomentumState):
        _check(params, grads)
        a = step_size(self.alpha, state.t)
        v = {k: self.mu * state.v[k] - a * grads[k] for k in params}
        new = {k: params[k] + v[k] for k in params}
        return new, MomentumState(t=state.t + 1, v=v)


@dataclass(frozen=True)
class SGDEM:
    """SGD with early momentum: heavy-ball momentum for the first T0 steps, plain SGD after.

        t < T0:   v_t = mu v_{t-1} - alpha_t g_t,   w_{t+1} = w_t + v_t     (v_0 = 0)
        t >= T0:  w_{t+1} = w_t - alpha_t g_t                              (the velocity is dropped)

    with t = 0, 1, 2, ... the step count. This is the book's definition of the method of
    Ramezani-Kebrya et al. (JMLR 2024), whose exact form was not available to us; T0 = 0 is
    SGD and T0 >= the number of steps is SGDM (:class:`Momentum`).
    """

    alpha: StepSize = 0.01
    mu: float = 0.9
    T0: int = 0

    def __post_init__(self):
        Momentum(self.alpha, self.mu)       # the same checks on mu
        if self.T0 < 0:
            raise ValueError(f"T0 counts steps and cannot be negative, got {self.T0}")

    def init(self, params: Params) -> MomentumState:
        return Momentum(self.alpha, self.mu).init(params)

    def update(self, params: Params, grads: Params, state: MomentumState):
        if state.t < self.T0:
            return Momentum(self.alpha, self.mu).update(params, grads, state)
        new, s = SGD(self.alpha).update(params, grads, StepState(state.t))
        return new, MomentumState(t=s.t, v=state.v)


@dataclass(frozen=True)
class Nesterov:
    """Nesterov's accelerated gradient (Nesterov, 1983) in PyTorch's form:

        b_t     = mu b_{t-1} + g_t                  (b_0 = 0)
        w_{t+1} = w_t - alpha_t (g_t + mu b_t)

    with g_t the gradient at the stored point w_t. This is the look-ahead form of
    Sutskever et al. (2013),

        v_t     = mu v_{t-1} - alpha grad f(x_t + mu v_{t-1}),    x_{t+1} = x_t + v_t,

    written for the look-ahead point w_t = x_t + mu v_{t-1} itself: with a constant alpha,
    v_t = -alpha b_t and the two produce the same points (tested), and the gradient is taken
    where the parameters are, so the method fits update(params, grads, state). It equals
    torch.optim.SGD(momentum=mu, nesterov=True). mu = 0 is SGD.
    """

    alpha: StepSize = 0.01
    mu: float = 0.9

    def __post_init__(self):
        Momentum(self.alpha, self.mu)       # the same checks on mu

    def init(self, params: Params) -> MomentumState:
        return MomentumState(t=0, v=_zeros(params))

    def update(self, params: Params, grads: Params, state: MomentumState):
        _check(params, grads)
        a = step_size(self.alpha, state.t)
        b = {k: self.mu * state.v[k] + grads[k] for k in params}
        new = {k: params[k] - a * (grads[k] + self.mu * b[k]) for k in params}
        return new, MomentumState(t=state.t + 1, v=b)


def nesterov_lookahead_step(x, v, grad_fn, alpha: float, mu: float):
    """One step of the look-ahead form: v' = mu v - alpha grad f(x + mu v), x' = x + v'.

    x, v: arrays of one shape (the iterate and its velocity); returns (x', v')."""
    v_new = mu * v - alpha * grad_fn(x + mu * v)
    return x + v_new, v_new


class AdaptiveState(NamedTuple):
    """State of the adaptive methods: step count t, the running squares c (per parameter) and,
    for the two Adams, the velocity or first moment v (empty for AdaGrad and RMSProp)."""

    t: int
    c: dict
    v: dict


def _zeros(params: Params) -> dict:
    return {k: np.zeros_like(params[k]) for k in params}


@dataclass(frozen=True)
class AdaGrad:
    """AdaGrad (Duchi, Hazan and Singer, 2011) in the lecture's form:

        c_t     = c_{t-1} + g_t * g_t                  (entrywise; c_0 = 0)
        w_{t+1} = w_t - alpha g_t / sqrt(c_t + eps)

    Each coordinate's step is divided by the root of its own sum of squared gradients.
    eps sits inside the square root, as on the slide (eps = 1e-6 caps the step at
    alpha / sqrt(eps) times the gradient). torch.optim.Adagrad adds eps outside the root.
    """

    alpha: StepSize = 0.1
    eps: float = 1e-6

    def init(self, params: Params) -> AdaptiveState:
        return AdaptiveState(t=0, c=_zeros(params), v={})

    def update(self, params: Params, grads: Params, state: AdaptiveState):
        _check(params, grads)
        a = step_size(self.alpha, state.t)
        c = {k: state.c[k] + grads[k] * grads[k] for k in params}
        new = {k: params[k] - a * grads[k] / np.sqrt(c[k] + self.eps) for k in params}
        return new, AdaptiveState(t=state.t + 1, c=c, v={})


@dataclass(frozen=True)
class RMSProp:
    """RMSProp (Tieleman and Hinton, 2012) in the lecture's form:

        c_t     = beta c_{t-1} + (1 - beta) g_t * g_t   (c_0 = 0)
        w_{t+1} = w_t - alpha g_t / sqrt(c_t + eps)

    AdaGrad with a memory that fades: old squares are scaled down by beta each step, so
    the steps do not shrink forever. eps inside the root, as on the slide; torch's
    RMSprop(alpha=beta) adds it outside.
    """

    alpha: StepSize = 0.001
    beta: float = 0.9
    eps: float = 1e-6

    def init(self, params: Params) -> AdaptiveState:
        return AdaptiveState(t=0, c=_zeros(params), v={})

    def update(self, params: Params, grads: Params, state: AdaptiveState):
        _check(params, grads)
        a = step_size(self.alpha, state.t)
        c = {k: self.beta * state.c[k] + (1 - self.beta) * grads[k] * grads[k] for k in params}
        new = {k: params[k] - a * grads[k] / np.sqrt(c[k] + self.eps) for k in params}
        return new, AdaptiveState(t=state.t + 1, c=c, v={})


@dataclass(frozen=True)
class LectureAdam:
    """The lecture's "ADAM": RMSProp plus heavy-ball momentum, without bias correction.

        c_t     = beta c_{t-1} + (1 - beta) g_t * g_t
        v_t     = mu v_{t-1} - alpha g_t / sqrt(c_t + eps)      (c_0 = v_0 = 0)
        w_{t+1} = w_t + v_t

    Not the Adam of Kingma and Ba (:class:`Adam`): the momentum acts on the scaled step
    rather than on the gradient, nothing corrects the bias of c_t towards 0 in the first
    steps, and eps sits inside the root. It equals torch's RMSprop(momentum=mu) with eps = 0.
    """

    alpha: StepSize = 0.001
    beta: float = 0.999
    mu: float = 0.9
    eps: float = 1e-6

    def init(self, params: Params) -> AdaptiveState:
        return AdaptiveState(t=0, c=_zeros(params), v=_zeros(params))

    def update(self, params: Params, grads: Params, state: AdaptiveState):
        _check(params, grads)
        a = step_size(self.alpha, state.t)
        c = {k: self.beta * state.c[k] + (1 - self.beta) * grads[k] * grads[k] for k in params}
        v = {k: self.mu * state.v[k] - a * grads[k] / np.sqrt(c[k] + self.eps) for k in params}
        new = {k: params[k] + v[k] for k in params}
        return new, AdaptiveState(t=state.t + 1, c=c, v=v)


@dataclass(frozen=True)
class Adam:
    """Adam as Kingma and Ba (2015) define it:

        v_t     = beta1 v_{t-1} + (1 - beta1) g_t             (first moment; v_0 = 0)
        c_t     = beta2 c_{t-1} + (1 - beta2) g_t * g_t       (second moment; c_0 = 0)
        v_hat   = v_t / (1 - beta1^t),   c_hat = c_t / (1 - beta2^t)
        w_{t+1} = w_t - alpha v_hat / (sqrt(c_hat) + eps)

    with t counted from 1. The divisions by 1 - beta^t undo the pull of the zero start:
    without them the first step would be (1 - beta1) / sqrt(1 - beta2) times alpha sign(g),
    about 3.2 alpha for the defaults. eps sits outside the root. Equals torch.optim.Adam.
    """

    alpha: StepSize = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def init(self, params: Params) -> AdaptiveState:
        return AdaptiveState(t=0, c=_zeros(params), v=_zeros(params))

    def update(self, params: Params, grads: Params, state: AdaptiveState):
        _check(params, grads)
        a, t = step_size(self.alpha, state.t), state.t + 1
        v = {k: self.beta1 * state.v[k] + (1 - self.beta1) * grads[k] for k in params}
        c = {k: self.beta2 * state.c[k] + (1 - self.beta2) * grads[k] * grads[k] for k in params}
        new = {k: params[k] - a * (v[k] / (1 - self.beta1**t)) / (np.sqrt(c[k] / (1 - self.beta2**t)) + self.eps)
               for k in params}
        return new, AdaptiveState(t=t, c=c, v=v)


@dataclass(frozen=True)
class AdamW:
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), in PyTorch's form:

        w_{t+1} = (1 - alpha_t gamma) w_t - alpha_t v_hat / (sqrt(c_hat) + eps)

    with v_hat, c_hat the bias-corrected moments of :class:`Adam`. The decay shrinks every
    weight by the same factor, outside the adaptive scaling. An l2 term (gamma/2) ||w||^2
    added to the loss instead puts gamma w into g_t, where Adam divides it by sqrt(c_hat):
    coordinates with large gradients are then decayed less. For SGD the two are the same
    update. Equals torch.optim.AdamW(lr=alpha, weight_decay=gamma).
    """

    alpha: StepSize = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    gamma: float = 0.01

    def init(self, params: Params) -> AdaptiveState:
        return Adam(self.alpha, self.beta1, self.beta2, self.eps).init(params)

    def update(self, params: Params, grads: Params, state: AdaptiveState):
        a = step_size(self.alpha, state.t)
        decayed = {k: (1.0 - a * self.gamma) * params[k] for k in params}
        adam = Adam(self.alpha, self.beta1, self.beta2, self.eps)
        step, state = adam.update({k: np.zeros_like(params[k]) for k in params}, grads, state)
        return {k: decayed[k] + step[k] for k in params}, state


def with_l2(params: Params, grads: Params, gamma: float) -> dict:
    """g + gamma w: the gradient of R(w) + (gamma / 2) ||w||^2 from the gradient g of R."""
    return {k: grads[k] + gamma * params[k] for k in params}


def trajectory(opt, grad_fn: Callable[[np.ndarray], np.ndarray], w0, steps: int) -> np.ndarray:
    """The iterates w_0, w_1, ..., w_T (T = steps) of an optimizer on a single parameter,
    with g_t = grad_fn(w_t); shape (steps + 1, *np.shape(w0)). For pictures of small problems."""
    params = {"w": np.asarray(w0, dtype=float)}
    state, path = opt.init(params), [params["w"]]
    for _ in range(steps):
        params, state = opt.update(params, {"w": np.asarray(grad_fn(params["w"]), dtype=float)}, state)
        path.append(params["w"])
    return np.array(path)


def apply(params: dict, new: Params) -> None:
    """Copy updated values into the existing arrays (for models that own their arrays, like MLP)."""
    for k, v in new.items():
        params[k][...] = v

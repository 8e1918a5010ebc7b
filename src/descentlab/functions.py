"""Test functions with exact gradients, used across the book's figures and tests.

Each is a pair ``f(x) -> float`` and ``grad(x) -> array`` for x of shape (2,)
unless noted; they are vectorised over leading axes for contour plots:
``f(X)`` with X of shape (..., 2) returns shape (...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class TestFunction:
    """A named function with its exact gradient."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    formula: str

    __test__ = False  # not a pytest test class

    def __call__(self, x):
        return self.f(np.asarray(x, dtype=np.float64))


def _ripple_f(x):
    x1, x2 = x[..., 0], x[..., 1]
    return 0.5 * x1**2 + x2**2 + 0.5 * np.sin(2.0 * x1) * np.cos(x2)


def _ripple_grad(x):
    x1, x2 = x[..., 0], x[..., 1]
    d1 = x1 + np.cos(2.0 * x1) * np.cos(x2)
    d2 = 2.0 * x2 - 0.5 * np.sin(2.0 * x1) * np.sin(x2)
    return np.stack([d1, d2], axis=-1)


ripple = TestFunction(
    "ripple", _ripple_f, _ripple_grad,
    r"f(\mathbf{x}) = \tfrac12 x_1^2 + x_2^2 + \tfrac12 \sin(2x_1)\cos(x_2)",
)


def _rosenbrock_f(x):
    x1, x2 = x[..., 0], x[..., 1]
    return (1.0 - x1) ** 2 + 100.0 * (x2 - x1**2) ** 2


def _rosenbrock_grad(x):
    x1, x2 = x[..., 0], x[..., 1]
    d1 = -2.0 * (1.0 - x1) - 400.0 * x1 * (x2 - x1**2)
    d2 = 200.0 * (x2 - x1**2)
    return np.stack([d1, d2], axis=-1)


rosenbrock = TestFunction(
    "rosenbrock", _rosenbrock_f, _rosenbrock_grad,
    r"f(\mathbf{x}) = (1 - x_1)^2 + 100 (x_2 - x_1^2)^2",
)


def quadratic(A, b=None, c: float = 0.0) -> TestFunction:
    """f(x) = 1/2 x^T A x - b^T x + c for symmetric A: (n, n); grad = A x - b."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.allclose(A, A.T):
        raise ValueError("A must be a symmetric square matrix.")
    b = np.zeros(A.shape[0]) if b is None else np.asarray(b, dtype=np.float64)

    def f(x):
        return 0.5 * np.einsum("...i,ij,...j->...", x, A, x) - x @ b + c

    def grad(x):
        return x @ A - b

    return TestFunction("quadratic", f, grad, r"f(\mathbf{x}) = \tfrac12 \mathbf{x}^\top A \mathbf{x} - \mathbf{b}^\top \mathbf{x} + c")


def _kink_f(x):
    x1, x2 = x[..., 0], x[..., 1]
    r2 = x1**2 + x2**2
    safe = np.where(r2 == 0.0, 1.0, r2)
    return np.where(r2 == 0.0, 0.0, x1**2 * x2 / safe)


def _kink_grad(x):
    x1, x2 = x[..., 0], x[..., 1]
    r2 = x1**2 + x2**2
    safe = np.where(r2 == 0.0, 1.0, r2)
    d1 = 2.0 * x1 * x2**3 / safe**2
    d2 = x1**2 * (x1**2 - x2**2) / safe**2
    # At the origin both partial derivatives are 0 (f vanishes on both axes).
    return np.stack([np.where(r2 == 0.0, 0.0, d1), np.where(r2 == 0.0, 0.0, d2)], axis=-1)


#: Every directional derivative exists at the origin, yet delta_v f(0) = v1^2 v2 / |v|^2
#: is not v^T grad f(0) = 0: f is not differentiable there.
not_differentiable = TestFunction(
    "not_differentiable", _kink_f, _kink_grad,
    r"f(\mathbf{x}) = \frac{x_1^2 x_2}{x_1^2 + x_2^2},\ f(\mathbf{0}) = 0",
)


def not_differentiable_directional(v) -> float:
    """The exact delta_v f(0) of :data:`not_differentiable`: v1^2 v2 / (v1^2 + v2^2)."""
    v1, v2 = float(v[0]), float(v[1])
    return v1**2 * v2 / (v1**2 + v2**2)


# ---------------------------------------------------------------- one-dimensional landscapes (chapter 3)

@dataclass(frozen=True)
class Function1D:
    """A scalar function of one variable with its derivative; vectorised."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    formula: str


#: Two minima of different depth and a maximum between them.
double_well = Function1D(
    "double_well", lambda x: x**4 / 4 - x**2 + 0.3 * x, lambda x: x**3 - 2 * x + 0.3,
    r"f(x) = x^4/4 - x^2 + 0.3x")

#: A stationary point that is neither a minimum nor a maximum.
cubic = Function1D("cubic", lambda x: x**3, lambda x: 3 * x**2, r"f(x) = x^3")

#: A flat saddle at 0 on the way down to the minimum at -1 (chapter 4): f'(x) = x^2 (x + 1).
saddle_then_minimum = Function1D(
    "saddle_then_minimum", lambda x: x**4 / 4 + x**3 / 3, lambda x: x**3 + x**2,
    r"f(x) = x^4/4 + x^3/3")

#: Almost flat for x << 0: the gradient is tiny far from the drop.
plateau = Function1D(
    "plateau", lambda x: 1.0 / (1.0 + np.exp(x)), lambda x: -np.exp(x) / (1.0 + np.exp(x)) ** 2,
    r"f(x) = 1 / (1 + e^{x})")

saddle = quadratic(np.diag([1.0, -1.0]))
"""f(x) = (x1^2 - x2^2) / 2: a saddle at the origin, curving up along x1 and down along x2."""

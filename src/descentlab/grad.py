"""Numerical derivatives: chapter 1's definitions, as code.

Notation follows the book: ``f: R^n -> R``, a point ``x``, a direction ``v``,
a step ``eps`` (the lecture's epsilon) and the unit vectors ``e_i``.

Every routine here works in float64. Finite differences divide a tiny
difference of function values by a tiny step, so they lose about half of the
available digits to round-off; in float32 (7 digits) almost nothing is left,
and a gradient check would fail for reasons that have nothing to do with the
gradient. Handing float32 data to these functions is therefore an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

Array = np.ndarray

SCHEMES = ("forward", "central")


def as_float64(x, name: str = "x") -> Array:
    """Return ``x`` as a new float64 array; refuse lower-precision floats.

    Integers, booleans and Python numbers are converted (exactly). float16 and
    float32 raise ``TypeError``, because the caller almost certainly meant to
    check float64 code and would get meaningless round-off instead.
    """
    arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} is complex ({arr.dtype}); these derivatives are for real functions.")
    if arr.dtype.kind == "f" and arr.dtype != np.float64:
        raise TypeError(
            f"{name} has dtype {arr.dtype}, but numerical derivatives need float64: "
            f"with {arr.dtype} the round-off of a finite difference is about "
            f"{np.finfo(arr.dtype).eps:.0e}/eps, which swamps the derivative. "
            f"Convert first, e.g. {name}.astype(np.float64)."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {arr.dtype}; expected real numbers.")
    return np.array(arr, dtype=np.float64)


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def forward_difference(phi: Callable[[float], float], t: float = 0.0, eps: float = 1e-6) -> float:
    """(phi(t + eps) - phi(t)) / eps: error O(eps) for smooth phi."""
    return (phi(t + eps) - phi(t)) / eps


def central_difference(phi: Callable[[float], float], t: float = 0.0, eps: float = 1e-6) -> float:
    """(phi(t + eps) - phi(t - eps)) / (2 eps): error O(eps^2) for smooth phi."""
    return (phi(t + eps) - phi(t - eps)) / (2.0 * eps)


def difference(phi: Callable[[float], float], t: float = 0.0, eps: float = 1e-6,
               scheme: str = "central") -> float:
    """The one-dimensional difference quotient named by ``scheme``."""
    _check_scheme(scheme)
    rule = central_difference if scheme == "central" else forward_difference
    return rule(phi, t, eps)


def directional_derivative(f: Callable[[Array], float], x, v, eps: float = 1e-6,
                           scheme: str = "central") -> float:
    """delta_v f(x) as the limit: the derivative of phi(s) = f(x + s v) at s = 0.

    x, v: arrays of the same shape (any shape). ``v`` is not normalised: the
    lecture's delta_v f(x) scales with the length of v.
    """
    x = as_float64(x, "x")
    v = as_float64(v, "v")
    if x.shape != v.shape:
        raise ValueError(f"x has shape {x.shape} but v has shape {v.shape}; they must match.")
    return difference(lambda s: float(f(x + s * v)), 0.0, eps, scheme)


def directional_derivative_from_gradient(grad_f_x, v) -> float:
    """delta_v f(x) = v^T grad f(x): the inner product form (f differentiable at x)."""
    g = as_float64(grad_f_x, "grad_f_x")
    v = as_float64(v, "v")
    if g.shape != v.shape:
        raise ValueError(f"the gradient has shape {g.shape} but v has shape {v.shape}.")
    return float(np.vdot(v, g))


def partial_derivative(f: Callable[[Array], float], x, i, eps: float = 1e-6,
                       scheme: str = "central") -> float:
    """df/dx_i = delta_{e_i} f(x); ``i`` is an index into x (an int or a tuple)."""
    x = as_float64(x, "x")
    e_i = np.zeros_like(x)
    e_i[i] = 1.0
    return directional_derivative(f, x, e_i, eps, scheme)


def steepest_ascent(grad_f_x) -> tuple[Array, float]:
    """The unit direction of fastest increase and its rate: (g / ||g||, ||g||).

    By Cauchy-Schwarz, v^T g <= ||v|| ||g|| with equality for v parallel to g,
    so over unit vectors v the directional derivative peaks at v = g / ||g||.
    At a stationary point (g = 0) every direction has rate 0; the direction
    returned is then the zero vector.
    """
    g = as_float64(grad_f_x, "grad_f_x")
    norm = float(np.linalg.norm(g))
    if norm == 0.0:
        return np.zeros_like(g), 0.0
    return g / norm, norm


UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2  # u = 2^-53


def difference_error_bound(eps, scheme: str = "central", f0: float = 1.0, d2: float = 1.0,
                           d3: float = 1.0, u: float = UNIT_ROUNDOFF):
    """A model of the total error of a difference quotient at step eps.

    forward:  eps/2 |f''| + 2 u |f| / eps      (truncation O(eps) + round-off)
    central:  eps^2/6 |f'''| + u |f| / eps     (truncation O(eps^2) + round-off)
    f0, d2, d3: |f|, |f''|, |f'''| near the point; u: unit round-off.
    """
    _check_scheme(scheme)
    eps = np.asarray(eps, dtype=np.float64)
    if scheme == "forward":
        return eps / 2.0 * abs(d2) + 2.0 * u * abs(f0) / eps
    return eps**2 / 6.0 * abs(d3) + u * abs(f0) / eps


def best_step(scheme: str = "central", f0: float = 1.0, d2: float = 1.0, d3: float = 1.0,
              u: float = UNIT_ROUNDOFF) -> float:
    """The eps minimising :func:`difference_error_bound`.

    forward: 2 sqrt(u |f| / |f''|), about 1e-8;  central: (3 u |f| / |f'''|)^(1/3), about 1e-5.
    """
    _check_scheme(scheme)
    if scheme == "forward":
        return float(2.0 * np.sqrt(u * abs(f0) / abs(d2)))
    return float(np.cbrt(3.0 * u * abs(f0) / abs(d3)))


def numerical_gradient(f: Callable[..., float], *xs, eps: float = 1e-6,
                       scheme: str = "central"):
    """The gradient of f(*xs) with respect to every entry of every array in xs.

    xs: one or several arrays of any shapes. Returns one array of the same
    shape as each x (a single array if one was given, else a tuple).

    Cost: ``scheme="forward"`` evaluates f once at xs and once per entry,
    n + 1 evaluations for n entries in all; ``"central"`` evaluates f twice per
    entry, 2n. The arrays passed in are not modified.
    """
    _check_scheme(scheme)
    xs = [as_float64(x, f"xs[{k}]") for k, x in enumerate(xs)]
    if not xs:
        raise ValueError("numerical_gradient needs at least one array to differentiate.")

    def value() -> float:
        return float(f(*xs))

    f0 = value() if scheme == "forward" else None
    grads = []
    for x in xs:
        g = np.empty_like(x)
        for i in np.ndindex(x.shape):
            saved = x[i]
            x[i] = saved + eps
            f_plus = value()
            if scheme == "forward":
                g[i] = (f_plus - f0) / eps
            else:
                x[i] = saved - eps
                g[i] = (f_plus - value()) / (2.0 * eps)
            x[i] = saved
        grads.append(g)
    return grads[0] if len(grads) == 1 else tuple(grads)


def relative_error(analytic, numeric, floor: float = 1e-2) -> Array:
    """Entrywise |a - n| / max(|a|, |n|, floor).

    Entries smaller than ``floor`` are compared on an absolute scale: a central
    difference cannot resolve them relatively, since its round-off is about
    u |f| / eps (u = 2.2e-16), i.e. 1e-10 for |f| ~ 1 and eps = 1e-6.
    """
    a = as_float64(analytic, "analytic")
    n = as_float64(numeric, "numeric")
    if a.shape != n.shape:
        raise ValueError(f"analytic gradient has shape {a.shape} but the numerical one {n.shape}.")
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


@dataclass(frozen=True)
class ParamCheck:
    """The check of one named parameter."""

    name: str
    shape: tuple
    max_rel_error: float
    worst_index: tuple
    analytic_at_worst: float
    numeric_at_worst: float
    passed: bool


@dataclass(frozen=True)
class GradCheckReport:
    """Per-parameter result of :func:`gradient_check`; ``str()`` gives a table."""

    params: tuple
    tol: float
    eps: float

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.params)

    @property
    def max_rel_error(self) -> float:
        return max(p.max_rel_error for p in self.params)

    def __getitem__(self, name: str) -> ParamCheck:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        rows = [f"gradient check (central differences, eps={self.eps:g}, tol={self.tol:g})",
                f"{'parameter':<12}{'shape':<12}{'max rel error':>14}  {'worst entry':<14}"
                f"{'analytic':>13}{'numeric':>13}  result"]
        for p in self.params:
            rows.append(
                f"{p.name:<12}{str(p.shape):<12}{p.max_rel_error:>14.2e}  {str(p.worst_index):<14}"
                f"{p.analytic_at_worst:>13.6g}{p.numeric_at_worst:>13.6g}  "
                f"{'pass' if p.passed else 'FAIL'}")
        rows.append("all parameters pass" if self.passed else
                    "FAILED: " + ", ".join(p.name for p in self.params if not p.passed))
        return "\n".join(rows)

    _repr_pretty_ = lambda self, printer, cycle: printer.text(str(self))  # noqa: E731


def gradient_check(f: Callable[[Mapping[str, Array]], float], params, grads,
                   eps: float = 1e-6, tol: float = 1e-7, floor: float = 1e-2) -> GradCheckReport:
    """Compare analytic gradients with central differences, parameter by parameter.

    f: called as f(params), returns the scalar loss.
    params: a dict name -> float64 array (or a single array, named "x").
    grads: the analytic gradients, same names and shapes as params.
    A parameter passes when its largest entrywise :func:`relative_error` is
    below ``tol``. ``params`` is not modified.
    """
    if not isinstance(params, Mapping):
        params, grads, single = {"x": params}, {"x": grads}, True
    else:
        single = False
    params = {k: as_float64(v, f"params[{k!r}]") for k, v in params.items()}
    missing = set(params) ^ set(grads)
    if missing:
        raise KeyError(f"params and grads must have the same names; differ in {sorted(missing)}")

    names = list(params)

    def loss(*arrays) -> float:
        current = dict(zip(names, arrays))
        return f(current["x"] if single else current)

    numeric = numerical_gradient(loss, *(params[k] for k in names), eps=eps)
    if len(names) == 1:
        numeric = (numeric,)
    checks = []
    for name, n in zip(names, numeric):
        a = as_float64(grads[name], f"grads[{name!r}]")
        if a.shape != n.shape:
            raise ValueError(f"grads[{name!r}] has shape {a.shape}, but the parameter has shape {n.shape}.")
        err = relative_error(a, n, floor)
        worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
        worst_err = float(err[worst]) if err.size else 0.0
        checks.append(ParamCheck(name, a.shape, worst_err, tuple(int(i) for i in worst),
                                 float(a[worst]) if err.size else 0.0,
                                 float(n[worst]) if err.size else 0.0,
                                 bool(worst_err < tol)))
    return GradCheckReport(tuple(checks), tol, eps)


def loglog_slope(x, y) -> float:
    """Least-squares slope of log(y) against log(x): the measured order p in y ~ C x^p."""
    x = as_float64(x, "x")
    y = as_float64(y, "y")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("loglog_slope needs positive x and y.")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])

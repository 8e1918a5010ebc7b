"""Curvature of a loss without forming its Hessian: Hessian-vector products and the top eigenvalue.

A Hessian-vector product is a directional derivative of the gradient,

    H v = d/dh grad R(w + h v) |_{h=0}  ~  (grad R(w + h v) - grad R(w - h v)) / (2h),

so two gradient evaluations (two back propagations) give H v for any v, with an error of
order h^2 (a central difference, chapter 1). Power iteration repeats v <- H v / ||H v||;
the Rayleigh quotient v^T H v then tends to the eigenvalue of largest magnitude. The top
eigenvalue lambda_max, the sharpness, sets gradient descent's stability threshold
alpha < 2 / lambda_max (chapter 4).

Everything here works on flat vectors w: (E,), so it applies to any model;
:func:`flat_loss_grad` turns an MLP and a data set into such a function.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from . import losses as _losses

Vector = np.ndarray
GradFn = Callable[[Vector], Vector]


def hvp(grad_fn: GradFn, w: Vector, v: Vector, h: float = 1e-5) -> Vector:
    """H(w) v by a central difference of gradients; w, v: (E,). The step along v is h ||w|| / ||v||
    (h relative to the size of w, at least h), so the result does not depend on the scale of v.

    The difference assumes a smooth gradient: with ReLU (or any kink) the two points may lie on
    different linear pieces and the product is then wrong by O(1), not O(h^2); use a smooth
    activation (tanh) or check that a smaller h gives the same answer."""
    w, v = np.asarray(w, dtype=np.float64), np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v)
    if norm == 0.0:
        return np.zeros_like(w)
    step = h * max(1.0, np.linalg.norm(w)) / norm
    return (grad_fn(w + step * v) - grad_fn(w - step * v)) / (2.0 * step)


def dense_hessian(grad_fn: GradFn, w: Vector, h: float = 1e-5) -> np.ndarray:
    """The (E, E) Hessian from E products with the unit vectors, symmetrised; for small E and tests."""
    H = np.column_stack([hvp(grad_fn, w, e, h) for e in np.eye(np.size(w))])
    return (H + H.T) / 2.0


class Eigen(NamedTuple):
    """The result of :func:`top_eigenvalue`: lam (the estimate), v (its unit vector, (E,)),
    history ((k,) the Rayleigh quotient after each iteration) and products (H v evaluations used)."""

    lam: float
    v: Vector
    history: np.ndarray
    products: int


def power_iteration(matvec: Callable[[Vector], Vector], v0: Vector, iters: int = 100,
                    tol: float = 1e-6) -> Eigen:
    """The eigenvalue of largest magnitude of a symmetric map by power iteration.

    v <- A v / ||A v||, stopped when two successive Rayleigh quotients v^T A v agree to a
    relative ``tol`` or after ``iters`` products. With r = |lam_2 / lam_1| the angle between v and
    the top eigenvector shrinks like r^k, the Rayleigh quotient's error like r^(2k).
    """
    v = np.asarray(v0, dtype=np.float64)
    v = v / np.linalg.norm(v)
    history = []
    for k in range(1, iters + 1):
        Av = matvec(v)
        history.append(float(v @ Av))
        norm = np.linalg.norm(Av)
        if norm == 0.0:
            break
        v = Av / norm
        if k > 1 and abs(history[-1] - history[-2]) <= tol * abs(history[-1]):
            break
    return Eigen(history[-1], v, np.array(history), len(history))


def top_eigenvalue(grad_fn: GradFn, w: Vector, rng: np.random.Generator, iters: int = 100,
                   tol: float = 1e-6, h: float = 1e-5, v0: Vector | None = None) -> Eigen:
    """lambda_max of the Hessian of R at w (the largest eigenvalue, not the largest in magnitude).

    Power iteration on finite-difference products from a random start. If the dominant
    eigenvalue is negative (a saddle, or a strongly concave direction) a second run on the
    shifted map H - lam I, whose dominant eigenvalue is lambda_max - lam, finds the top one.
    v0: a start (for example the previous estimate's v, while tracking lambda_max during training:
    a warm start needs a few products instead of dozens); random when None.
    """
    w = np.asarray(w, dtype=np.float64)
    matvec = lambda v: hvp(grad_fn, w, v, h)  # noqa: E731
    start = rng.standard_normal(w.shape) if v0 is None else v0
    first = power_iteration(matvec, start, iters, tol)
    if first.lam >= 0:
        return first
    shift = first.lam
    second = power_iteration(lambda v: matvec(v) - shift * v, rng.standard_normal(w.shape), iters, tol)
    return Eigen(second.lam + shift, second.v, second.history + shift, first.products + second.products)


def flatten(params) -> Vector:
    """The parameters of a dict name -> array as one vector (E,), in the dict's order."""
    return np.concatenate([np.ravel(params[k]) for k in params])


def unflatten(w: Vector, like) -> dict:
    """The inverse of :func:`flatten`: a dict of arrays shaped as in ``like``."""
    out, i = {}, 0
    for k, a in like.items():
        out[k] = np.reshape(w[i:i + np.size(a)], np.shape(a))
        i += np.size(a)
    if i != np.size(w):
        raise ValueError(f"w has {np.size(w)} entries, the parameters {i}")
    return out


def flat_loss_grad(model, X, Y, loss=_losses.softmax_cross_entropy):
    """(value_fn, grad_fn): R and grad R on (X, Y) as functions of one parameter vector w: (E,),
    for a model with .params and .loss_and_grad (an MLP). Each call evaluates the model at w and
    then puts its own parameters back, so the model is left as it was."""

    def at(w, f):
        saved = flatten(model.params)
        for k, a in unflatten(np.asarray(w, dtype=np.float64), model.params).items():
            model.params[k][...] = a
        try:
            return f()
        finally:
            for k, a in unflatten(saved, model.params).items():
                model.params[k][...] = a

    def value_fn(w):
        return at(w, lambda: model.loss(X, Y, loss))

    def grad_fn(w):
        return at(w, lambda: flatten(model.loss_and_grad(X, Y, loss)[1]))

    return value_fn, grad_fn

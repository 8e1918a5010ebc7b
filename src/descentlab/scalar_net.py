"""The lecture's scalar equations, one Python operation per elementary operation.

This is back propagation written entry by entry, as on the slides, with plain
Python floats and loops: every multiply-add of the forward pass is one line of
work, so running time is proportional to the number of elementary operations
(with no library overhead to blur it). Chapter 2 times it to measure the cost
of a gradient: Theta(E^2) by finite differences against Theta(E) by back propagation.

Layout: ``W[l][i][j]`` is w_{i,j}^[l+1] (node i of the layer below to node j of
the layer above), ``b[l][j]`` is b_j^[l+1]; hidden layers use tanh and the
output is linear with the squared loss l = sum_j (z_j^[L] - y_j)^2.
Use descentlab.nn for real work: this module exists to be counted.
"""

from __future__ import annotations

import math

import numpy as np


def from_arrays(Ws, bs):
    """Nested lists from arrays: Ws[l] of shape (n^[l-1], n^[l]), bs[l] of shape (n^[l],)."""
    return [w.tolist() for w in Ws], [b.tolist() for b in bs]


def forward(W, b, x):
    """Returns the lists z[l] and a[l] (a[0] = x) for one sample."""
    a, z = [list(x)], [None]
    L = len(W)
    for l in range(L):
        z_l = []
        for j in range(len(b[l])):
            s = b[l][j]
            for i, a_i in enumerate(a[l]):
                s += W[l][i][j] * a_i                      # z_j = sum_i w_ij a_i + b_j
            z_l.append(s)
        z.append(z_l)
        a.append(z_l if l == L - 1 else [math.tanh(v) for v in z_l])
    return z, a


def loss(W, b, x, y) -> float:
    z, _ = forward(W, b, x)
    return sum((zj - yj) ** 2 for zj, yj in zip(z[-1], y))


def backward(W, b, x, y):
    """All partial derivatives of the loss, by the delta recursion. Returns (dW, db) nested lists."""
    z, a = forward(W, b, x)
    L = len(W)
    delta = [2.0 * (zj - yj) for zj, yj in zip(z[L], y)]    # delta^[L] = dl/dz^[L]
    dW, db = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        dW[l] = [[a_i * d_j for d_j in delta] for a_i in a[l]]   # dl/dw_ij = a_i delta_j
        db[l] = list(delta)
        if l > 0:
            delta = [sum(W[l][j][k] * delta[k] for k in range(len(delta))) * (1.0 - math.tanh(z[l][j]) ** 2)
                     for j in range(len(z[l]))]             # delta_j = (sum_k w_jk delta_k) g'(z_j)
    return dW, db


def finite_difference_gradient(W, b, x, y, eps: float = 1e-6):
    """All partial derivatives by central differences: two loss evaluations per parameter."""
    dW = [[[0.0] * len(row) for row in Wl] for Wl in W]
    db = [[0.0] * len(bl) for bl in b]
    for l in range(len(W)):
        for i in range(len(W[l])):
            for j in range(len(W[l][i])):
                saved = W[l][i][j]
                W[l][i][j] = saved + eps
                plus = loss(W, b, x, y)
                W[l][i][j] = saved - eps
                minus = loss(W, b, x, y)
                W[l][i][j] = saved
                dW[l][i][j] = (plus - minus) / (2 * eps)
        for j in range(len(b[l])):
            saved = b[l][j]
            b[l][j] = saved + eps
            plus = loss(W, b, x, y)
            b[l][j] = saved - eps
            minus = loss(W, b, x, y)
            b[l][j] = saved
            db[l][j] = (plus - minus) / (2 * eps)
    return dW, db


def random_network(sizes, rng: np.random.Generator):
    """Nested-list weights and biases for layer sizes [n^[0], ..., n^[L]]."""
    Ws = [rng.normal(size=(sizes[l - 1], sizes[l])) / math.sqrt(sizes[l - 1]) for l in range(1, len(sizes))]
    bs = [0.1 * rng.normal(size=sizes[l]) for l in range(1, len(sizes))]
    return from_arrays(Ws, bs)


def num_params(sizes) -> int:
    """E = sum_l (n^[l-1] + 1) n^[l]."""
    return sum((sizes[l - 1] + 1) * sizes[l] for l in range(1, len(sizes)))

"""Small datasets. All randomness comes from an explicit ``rng``."""

from __future__ import annotations

import numpy as np


def two_moons(N: int, noise: float = 0.1, rng: np.random.Generator | None = None):
    """Two interleaving half circles in the plane, a classic non-linearly separable set.

    Returns X: (N, 2) float64 and labels: (N,) in {0, 1}, about half of each class,
    shuffled. Each point gets Gaussian noise of standard deviation ``noise``.
    """
    if rng is None:
        raise ValueError("two_moons needs an explicit rng = np.random.default_rng(seed).")
    n0 = N // 2
    n1 = N - n0
    t0 = rng.uniform(0.0, np.pi, size=n0)
    t1 = rng.uniform(0.0, np.pi, size=n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((N, 2))
    labels = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    order = rng.permutation(N)
    return X[order], labels[order]

"""Small datasets. All randomness comes from an explicit ``rng``."""

from __future__ import annotations

from typing import NamedTuple

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


# ---------------------------------------------------------------- sampling

def sample_index(N: int, rng: np.random.Generator) -> int:
    """One index n uniform on {0, ..., N-1}, drawn with replacement (the lecture's SGD)."""
    return int(rng.integers(0, N))


def minibatches(N: int, B: int, rng: np.random.Generator, drop_last: bool = False):
    """The mini-batches of ONE epoch: index arrays from a fresh random permutation.

    Every index 0..N-1 appears exactly once per epoch. When B does not divide N the
    last batch is smaller (N mod B samples); ``drop_last=True`` skips it instead,
    so every batch has exactly B samples but those N mod B samples wait for a later
    epoch's permutation. Call once per epoch: each call draws a new permutation.
    """
    if not 1 <= B:
        raise ValueError(f"batch size B must be at least 1, got {B}.")
    order = rng.permutation(N)
    stop = N - N % B if drop_last else N
    for start in range(0, stop, B):
        yield order[start:start + B]


# ---------------------------------------------------------------- datasets

class Split(NamedTuple):
    """A train/test split; X standardised with the TRAINING mean and standard deviation."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray


def split_and_standardise(X, y, rng: np.random.Generator, test_fraction: float = 0.25) -> Split:
    """A seeded random split; features scaled by statistics of the training part only.

    Using the test part's statistics would leak information about it into training.
    Constant features (std 0) are left unscaled.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    N = X.shape[0]
    order = rng.permutation(N)
    n_test = int(round(test_fraction * N))
    test, train = order[:n_test], order[n_test:]
    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Split((X[train] - mean) / std, y[train], (X[test] - mean) / std, y[test], mean, std)


def digits(rng: np.random.Generator, test_fraction: float = 0.25) -> Split:
    """scikit-learn's 8x8 handwritten digits (1797 images, 64 features, 10 classes), split and standardised."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return split_and_standardise(d.data, d.target.astype(np.int64), rng, test_fraction)


def breast_cancer(rng: np.random.Generator, test_fraction: float = 0.25, labels: str = "pm1") -> Split:
    """scikit-learn's Wisconsin breast-cancer data (569 samples, 30 features), split and standardised.

    labels="pm1" gives y in {-1, +1} (for the logistic loss), "01" gives {0, 1}.
    """
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    y = d.target.astype(np.int64)
    if labels == "pm1":
        y = 2 * y - 1
    elif labels != "01":
        raise ValueError("labels must be 'pm1' or '01'")
    return split_and_standardise(d.data, y, rng, test_fraction)


def linear_regression(N: int, d: int, rng: np.random.Generator, noise: float = 0.1):
    """y = X w* + noise with X ~ N(0, I). Returns X: (N, d), y: (N,), w*: (d,)."""
    X = rng.standard_normal((N, d))
    w_star = rng.standard_normal(d)
    return X, X @ w_star + noise * rng.standard_normal(N), w_star


def linearly_separable(N: int, d: int, rng: np.random.Generator, margin: float = 0.0):
    """Points X: (N, d) labelled y = sign(w*^T x) in {-1, +1}, dropping points closer than margin."""
    w_star = rng.standard_normal(d)
    w_star /= np.linalg.norm(w_star)
    X = np.empty((0, d))
    while X.shape[0] < N:
        cand = rng.standard_normal((2 * N, d))
        X = np.concatenate([X, cand[np.abs(cand @ w_star) >= margin]])
    X = X[:N]
    return X, np.where(X @ w_star >= 0, 1, -1), w_star


def minibatch_variance(sigma2: float, N: int, B, replace: bool = False):
    """E||g_B - grad R_N||^2 of a mini-batch mean gradient of B samples.

    sigma2 = (1/N) sum_j ||grad l_j - grad R_N||^2 is the per-sample variance. With
    replacement the B draws are independent: sigma2 / B. Without replacement (a slice of
    a permutation, as in an epoch) they are not, and the finite-population factor
    (N - B) / (N - 1) appears: sigma2 / B * (N - B) / (N - 1), which is 0 at B = N.
    """
    B = np.asarray(B, dtype=np.float64)
    if replace:
        return sigma2 / B
    return sigma2 / B * (N - B) / (N - 1)


def gradient_noise_scale(per_sample: np.ndarray) -> float:
    """B_noise = sigma^2 / ||grad R_N||^2, McCandlish et al.'s (2018) simple noise scale.

    per_sample: (N, E) the N per-sample gradients (flattened); their mean is grad R_N and
    sigma^2 = (1/N) sum_j ||grad l_j - grad R_N||^2 (as in :func:`minibatch_variance`). A batch
    of B samples drawn with replacement has noise sigma^2 / B, which falls below ||grad R_N||^2
    once B exceeds B_noise: the batch size around which larger batches stop paying.
    """
    per_sample = np.asarray(per_sample, dtype=np.float64)
    g = per_sample.mean(axis=0)
    sigma2 = np.mean(np.sum((per_sample - g) ** 2, axis=1))
    return float(sigma2 / (g @ g))

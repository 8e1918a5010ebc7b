"""Algorithmic stability: neighbouring data sets, paired runs that share their sampling,
and the gaps they measure (chapter 6).

Two data sets S and S' are neighbours when they differ in one example. An algorithm is
run on both with the same random choices, and the distance ||w_T - w'_T|| between the
two results is its stability gap d_T: for a G-Lipschitz loss, G times its expectation bounds
the expected generalization gap (Bousquet and Elisseeff, 2002; Hardt, Recht and Singer, 2016).

The runs here are logistic regression with batch size 1, vectorised over many pairs at
once: P pairs share the base data set S, and pair p replaces sample i_p by a fresh one
(an example that is not in S).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .optim import StepSize, step_size


def neighbouring(X: np.ndarray, y: np.ndarray, i: int, x_new: np.ndarray, y_new: float):
    """S' = S with example i replaced by (x_new, y_new); new arrays, the inputs are untouched."""
    X2, y2 = X.copy(), y.copy()
    X2[i], y2[i] = x_new, y_new
    return X2, y2


def logistic_constants(X: np.ndarray) -> tuple[float, float]:
    """(G, beta) of the logistic loss log(1 + exp(-y w^T x)) over the rows x of X:
    it is G-Lipschitz with G = max ||x|| and beta-smooth with beta = max ||x||^2 / 4."""
    r2 = float(np.max(np.sum(X * X, axis=1)))
    return float(np.sqrt(r2)), r2 / 4.0


def sgd_stability_bound(G: float, alpha: float, epochs: float) -> float:
    """2 alpha G K: a bound on ||w_T - w'_T|| for SGD with a constant step alpha <= 2/beta on a convex,
    beta-smooth, G-Lipschitz loss, after K epochs in which each example is used once per epoch."""
    return 2.0 * alpha * G * epochs


def _logistic_grads(W, X, y, gamma):
    """Per-row gradients of log(1 + exp(-y w^T x)) + gamma/2 ||w||^2; W, X: (P, d), y: (P,)."""
    m = y * np.einsum("pd,pd->p", W, X)
    return -(y * np.exp(-np.logaddexp(0.0, m)))[:, None] * X + gamma * W


def mean_logistic_loss(W, X, y, gamma=0.0) -> np.ndarray:
    """R(w) on (X, y) for every row w of W: shape (P,)."""
    return np.mean(np.logaddexp(0.0, -y[None, :] * (W @ X.T)), axis=1) + 0.5 * gamma * np.sum(W * W, axis=1)


@dataclass
class PairedRuns:
    """Per epoch (entry 0 before training): the stability gap and the losses, averaged over the pairs."""

    epoch: np.ndarray
    gap: np.ndarray           # mean over pairs of ||w - w'||
    gap_max: np.ndarray       # the largest over pairs
    train_loss: np.ndarray    # R_S(w), mean over pairs
    test_loss: np.ndarray     # R_test(w), mean over pairs

    @property
    def generalization_gap(self) -> np.ndarray:
        return self.test_loss - self.train_loss


def paired_logistic_runs(X, y, X_pool, y_pool, X_test, y_test, *, pairs: int, alpha: StepSize, mu: float = 0.0,
                         T0: int | None = None, epochs: int, rng: np.random.Generator, gamma: float = 0.0) -> PairedRuns:
    """SGDEM (momentum mu for the first T0 steps, then SGD) on S and on P neighbours S'_p, batch size 1.

    X: (N, d) the base set S; X_pool: replacements (examples not in S), pair p swaps sample i_p for
    X_pool[p % len(X_pool)]. Each pair draws its own permutation per epoch, shared by its two runs.
    T0=None keeps momentum for the whole run (SGDM); mu=0 is SGD. alpha is a constant or a schedule
    t -> alpha_t, as in :mod:`descentlab.optim`. gamma adds (gamma/2)||w||^2 to every loss.
    """
    N, d = X.shape
    steps = epochs * N
    T0 = steps if T0 is None else T0
    I = rng.integers(0, N, size=pairs)
    Z, yz = X_pool[np.arange(pairs) % len(X_pool)], y_pool[np.arange(pairs) % len(y_pool)]
    W, W2, V, V2 = (np.zeros((pairs, d)) for _ in range(4))
    record = {"gap": [], "gap_max": [], "train": [], "test": []}

    def measure():
        dist = np.linalg.norm(W - W2, axis=1)
        record["gap"].append(dist.mean())
        record["gap_max"].append(dist.max())
        record["train"].append(mean_logistic_loss(W, X, y, gamma).mean())
        record["test"].append(mean_logistic_loss(W, X_test, y_test, gamma).mean())

    measure()
    t = 0
    for _ in range(epochs):
        order = rng.permuted(np.tile(np.arange(N), (pairs, 1)), axis=1)
        for k in range(N):
            J = order[:, k]
            Xa, ya = X[J], y[J]
            swap = J == I
            Xb, yb = Xa.copy(), ya.copy()
            Xb[swap], yb[swap] = Z[swap], yz[swap]
            g, g2 = _logistic_grads(W, Xa, ya, gamma), _logistic_grads(W2, Xb, yb, gamma)
            a = step_size(alpha, t)
            if t < T0:
                V, V2 = mu * V - a * g, mu * V2 - a * g2
                W, W2 = W + V, W2 + V2
            else:
                W, W2 = W - a * g, W2 - a * g2
            t += 1
        measure()
    return PairedRuns(np.arange(epochs + 1), *(np.array(record[k]) for k in ("gap", "gap_max", "train", "test")))

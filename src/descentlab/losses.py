"""Losses with their gradients: value and d(loss)/d(input) in one call.

Every loss here is the *mean* over a batch of B samples, R = (1/B) sum_n l_n, so
its gradient carries the factor 1/B; back propagation then sums over the batch.
All are numerically stable for large inputs (no overflow, no log(0)).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def log_softmax(Z: Array) -> Array:
    """Row-wise log softmax, stable: z_k - max(z) - log sum_j exp(z_j - max(z)).

    Z: (B, K) logits. Returns (B, K).
    """
    Z = np.asarray(Z)
    shifted = Z - Z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(Z: Array) -> Array:
    """Row-wise softmax s(z)_k = exp(z_k) / sum_j exp(z_j), stable for large logits. Z: (B, K)."""
    Z = np.asarray(Z)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def one_hot(labels, K: int, dtype=np.float64) -> Array:
    """labels: (B,) integers in {0, ..., K-1}. Returns Y: (B, K) with Y[n, labels[n]] = 1."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("labels must be a 1-D array of integer class indices.")
    if labels.size and (labels.min() < 0 or labels.max() >= K):
        raise ValueError(f"labels must lie in 0..{K - 1}; got {labels.min()}..{labels.max()}.")
    Y = np.zeros((labels.size, K), dtype=dtype)
    Y[np.arange(labels.size), labels] = 1.0
    return Y


def _as_targets(Y, Z: Array) -> Array:
    Y = np.asarray(Y)
    if Y.ndim == 1 and np.issubdtype(Y.dtype, np.integer):
        return one_hot(Y, Z.shape[-1], dtype=Z.dtype)
    if Y.shape != Z.shape:
        raise ValueError(f"targets have shape {Y.shape} but the logits {Z.shape}.")
    return Y


def softmax_cross_entropy(Z: Array, Y) -> tuple[float, Array]:
    """Mean cross-entropy of softmax(Z) against targets Y, and its gradient in Z.

    Z: (B, K) logits z^[L]; Y: (B, K) rows of class probabilities (one-hot), or (B,) integer labels.
    R = -(1/B) sum_n sum_k y_nk log s(z_n)_k. The softmax and the log fuse into
    dR/dZ = (softmax(Z) - Y) / B: the lecture's delta^[L] for this output, per sample times 1/B.
    """
    Z = np.asarray(Z)
    Y = _as_targets(Y, Z)
    B = Z.shape[0]
    value = -float(np.sum(Y * log_softmax(Z))) / B
    return value, (softmax(Z) - Y) / B


def quadratic(Yhat: Array, Y: Array) -> tuple[float, Array]:
    """The lecture's regression loss l = (yhat - y)^2, summed over outputs, mean over the batch.

    Yhat, Y: (B, K) or (B,). R = (1/B) sum_n ||yhat_n - y_n||^2, dR/dYhat = 2 (Yhat - Y) / B.
    """
    Yhat = np.asarray(Yhat)
    Y = np.asarray(Y, dtype=Yhat.dtype)
    if Yhat.shape != Y.shape:
        raise ValueError(f"predictions have shape {Yhat.shape} but the targets {Y.shape}.")
    B = Yhat.shape[0]
    R = Yhat - Y
    return float(np.sum(R * R)) / B, 2.0 * R / B


def logistic(s: Array, y: Array) -> tuple[float, Array]:
    """Logistic loss l = log(1 + exp(-y s)) for labels y in {-1, +1}; mean over the batch.

    s: (B,) scores w^T x (or (B, 1)); y: same shape, entries -1 or +1.
    dR/ds = -y / (1 + exp(y s)) / B. Stable: log1p/logaddexp, never exp of a large number.
    """
    s = np.asarray(s)
    y = np.asarray(y)
    if s.shape != y.shape:
        raise ValueError(f"scores have shape {s.shape} but the labels {y.shape}.")
    if not np.all(np.abs(y) == 1):                 # -1 or +1 (np.isin is ~50 us a call)
        raise ValueError("logistic labels must be -1 or +1 (for 0/1 labels use y = 2 * label - 1).")
    B = s.shape[0]
    margin = y * s
    value = float(np.sum(np.logaddexp(0.0, -margin))) / B
    # 1 / (1 + exp(m)) = sigmoid(-m), computed without overflow
    weight = np.exp(-np.logaddexp(0.0, margin))
    return value, -y * weight / B


def softmax_jacobian(z: Array) -> Array:
    """d softmax(z)_k / d z_j = s_k ([k = j] - s_j) for ONE logit vector z: (K,). Returns (K, K).

    Not diagonal: every output depends on every logit through the normaliser, which is
    why the softmax output layer is handled together with the cross-entropy.
    """
    s = softmax(np.asarray(z)[None, :])[0]
    return np.diag(s) - np.outer(s, s)

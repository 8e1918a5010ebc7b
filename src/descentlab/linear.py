"""Linear models from the lecture's ERM slides: least squares and logistic regression.

Both have one parameter vector w: (d,) (add a column of ones to X for a bias) and
the same interface as descentlab.nn.MLP (params, forward, loss_and_grad), so the
optimizers and the training loop apply unchanged.
"""

from __future__ import annotations

import numpy as np

from . import losses


class LogisticRegression:
    """Scores s = X w; loss log(1 + exp(-y s)) with y in {-1, +1}; R_N its mean."""

    def __init__(self, d: int, dtype=np.float64):
        self.params = {"w": np.zeros(d, dtype=dtype)}

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X: (B, d) -> scores (B,)."""
        return X @ self.params["w"]

    def loss_and_grad(self, X, y, loss=losses.logistic):
        """R on the batch and {"w": dR/dw}; dR/dw = X^T dR/ds."""
        value, ds = loss(self.forward(X), y)
        return value, {"w": X.T @ ds}

    def predict(self, X) -> np.ndarray:
        """sign(w^T x) in {-1, +1} (0 scores count as +1)."""
        return np.where(self.forward(X) >= 0, 1, -1)


def logistic_sgd_step(w: np.ndarray, x: np.ndarray, y: float, alpha: float) -> np.ndarray:
    """The lecture's SGD step for one sample: w + alpha y x / (1 + exp(y w^T x)), y in {-1, +1}."""
    weight = np.exp(-np.logaddexp(0.0, y * (w @ x)))   # 1 / (1 + e^{y w^T x}) without overflow
    return w + alpha * y * weight * x


def perceptron_step(w: np.ndarray, x: np.ndarray, y: float) -> np.ndarray:
    """w + y x if (x, y) is misclassified (y w^T x <= 0), else w unchanged."""
    return w + y * x if y * (w @ x) <= 0 else w


class LeastSquares:
    """Predictions X w; loss (x^T w - y)^2 per sample (the lecture's), R_N its mean."""

    def __init__(self, d: int, dtype=np.float64):
        self.params = {"w": np.zeros(d, dtype=dtype)}

    def forward(self, X):
        return X @ self.params["w"]

    def loss_and_grad(self, X, y, loss=losses.quadratic):
        value, dp = loss(self.forward(X), y)
        return value, {"w": X.T @ dp}

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
        return sign_labels(self.forward(X))


def sign_labels(scores) -> np.ndarray:
    """The labels in {-1, +1} that scores predict: sign(s), 0 counting as +1."""
    return np.where(np.asarray(scores) >= 0, 1, -1)


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


# ---------------------------------------------------------------- separable data

def separating_vector(X: np.ndarray, y: np.ndarray):
    """A w with y_n w^T x_n >= 1 for every n (so sign(X w) = y everywhere), or None.

    X: (N, d), y: (N,) in {-1, +1}. Solves the feasibility linear program with scipy's
    HiGHS solver; None means the set is not linearly separable by a hyperplane through
    the origin (add a column of ones to X for a bias). If a w exists, logistic
    regression has no minimizer: R_N(c w) -> 0 as c -> oo, but R_N > 0 everywhere.
    """
    from scipy.optimize import linprog

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    N, d = X.shape
    res = linprog(np.zeros(d), A_ub=-(y[:, None] * X), b_ub=-np.ones(N), bounds=[(None, None)] * d,
                  method="highs")
    if res.status == 2:          # infeasible: no separating hyperplane through the origin
        return None
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return res.x


def max_margin(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The hard-margin SVM through the origin: w_hat = argmin ||w|| subject to y_n w^T x_n >= 1.

    X: (N, d), y: (N,) in {-1, +1}. The best margin of a unit vector is 1 / ||w_hat||:
    max_{||u|| = 1} min_n y_n u^T x_n = 1 / ||w_hat||. On separable data gradient descent
    on the logistic risk grows like w_hat log t in the long run (Soudry et al., 2018).
    Raises ValueError when the set is not separable.
    """
    from scipy.optimize import minimize

    w0 = separating_vector(X, y)
    if w0 is None:
        raise ValueError("the set is not linearly separable through the origin: no margin exists.")
    A = np.asarray(y, dtype=np.float64)[:, None] * np.asarray(X, dtype=np.float64)
    res = minimize(lambda w: 0.5 * w @ w, w0, jac=lambda w: w, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda w: A @ w - 1.0, "jac": lambda w: A}],
                   options={"maxiter": 1000, "ftol": 1e-10})
    if not res.success or np.min(A @ res.x) < 1.0 - 1e-6:
        raise RuntimeError(f"max_margin did not converge: {res.message}")
    return res.x

"""How fast gradient descent and heavy-ball momentum converge on a quadratic.

On f(w) = 1/2 w^T A w, with A symmetric and its eigenvalues lam in [m, L], m > 0,
both methods act on each eigen-direction of A on its own. Along a direction of
curvature lam:

    gradient descent   w_{t+1} = (1 - alpha lam) w_t
    heavy ball         w_{t+1} = (1 + mu - alpha lam) w_t - mu w_{t-1}

so the error shrinks per step by a factor that depends on lam alone: |1 - alpha lam|
for gradient descent, the spectral radius of the 2 x 2 matrix :func:`heavy_ball_matrix`
for momentum. The slowest direction sets the rate. The condition number
kappa = L / m measures how unequal the curvatures are.
"""

from __future__ import annotations

import math

import numpy as np


def condition_number(A: np.ndarray) -> float:
    """kappa = L / m, the ratio of the largest to the smallest eigenvalue of a symmetric positive definite A."""
    lam = np.linalg.eigvalsh(A)
    if lam[0] <= 0:
        raise ValueError(f"A is not positive definite: its smallest eigenvalue is {lam[0]:.3g}.")
    return float(lam[-1] / lam[0])


def gd_factor(alpha: float, lam) -> np.ndarray:
    """|1 - alpha lam|: the factor by which one gradient step shrinks the error along curvature lam."""
    return np.abs(1.0 - alpha * np.asarray(lam, dtype=float))


def heavy_ball_matrix(alpha: float, mu: float, lam: float) -> np.ndarray:
    """The 2 x 2 map (w_t, w_{t-1}) -> (w_{t+1}, w_t) of heavy-ball momentum along curvature lam."""
    return np.array([[1.0 + mu - alpha * lam, -mu], [1.0, 0.0]])


def heavy_ball_factor(alpha: float, mu: float, lam) -> np.ndarray:
    """Spectral radius of :func:`heavy_ball_matrix`: the asymptotic error factor per momentum step.

    lam: a number or an array of curvatures. The eigenvalues are the roots of
    r^2 - (1 + mu - alpha lam) r + mu = 0; when they are complex their modulus is sqrt(mu).
    """
    lam = np.asarray(lam, dtype=float)
    b = 1.0 + mu - alpha * lam
    disc = b * b - 4.0 * mu
    real = (np.abs(b) + np.sqrt(np.maximum(disc, 0.0))) / 2.0
    return np.where(disc >= 0, real, math.sqrt(mu))


def optimal_gd(m: float, L: float) -> tuple[float, float]:
    """(alpha, rate) of the best constant-step gradient descent: alpha = 2/(L+m), rate = (kappa-1)/(kappa+1)."""
    return 2.0 / (L + m), (L - m) / (L + m)


def optimal_heavy_ball(m: float, L: float) -> tuple[float, float, float]:
    """(alpha, mu, rate) of Polyak's tuning for curvatures in [m, L]:

    alpha = 4 / (sqrt L + sqrt m)^2,  mu = rate^2,  rate = (sqrt kappa - 1) / (sqrt kappa + 1).
    """
    sL, sm = math.sqrt(L), math.sqrt(m)
    rate = (sL - sm) / (sL + sm)
    return 4.0 / (sL + sm) ** 2, rate**2, rate


def steps_to(rate: float, tol: float) -> int:
    """The number of steps t with rate^t <= tol: how long a method with this rate needs to gain a factor 1/tol."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"a rate must lie in (0, 1) to converge, got {rate}")
    return math.ceil(math.log(tol) / math.log(rate))

"""How fast gradient descent and heavy-ball momentum converge on a quadratic.

On f(w) = 1/2 w^T A w, with A symmetric and its eigenvalues lam in [m, beta], m > 0,
both methods act on each eigen-direction of A on its own. Along a direction of
curvature lam:

    gradient descent   w_{t+1} = (1 - alpha lam) w_t
    heavy ball         w_{t+1} = (1 + mu - alpha lam) w_t - mu w_{t-1}

so the error shrinks per step by a factor that depends on lam alone: |1 - alpha lam|
for gradient descent, the spectral radius of the 2 x 2 matrix :func:`heavy_ball_matrix`
for momentum. The slowest direction sets the rate. The condition number
kappa = beta / m measures how unequal the curvatures are.

beta is the smoothness constant (the largest curvature; the gradient is
beta-Lipschitz), not RMSProp's decay; L is kept for the number of layers.

The heavy ball's accelerated rate is a statement about quadratics (and, by
linearisation, about the neighbourhood of a minimum with a continuous Hessian).
Beyond them a global linear rate is known only for smaller, unaccelerated choices
of (alpha, mu) (Ghadimi et al., 2015): :data:`lessard_counterexample` is a strongly
convex, smooth function on which the heavy ball with Polyak's tuning cycles
forever (Lessard, Recht and Packard, 2016). Nesterov's method keeps its
accelerated rate 1 - 1/sqrt(kappa) on every such function (:func:`nesterov_tuning`).
"""

from __future__ import annotations

import math

import numpy as np

from .functions import Function1D


def condition_number(A: np.ndarray) -> float:
    """kappa = beta / m, the ratio of the largest to the smallest eigenvalue of a symmetric positive definite A."""
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


def optimal_gd(m: float, beta: float) -> tuple[float, float]:
    """(alpha, rate) of the best constant-step gradient descent for curvatures in [m, beta]:
    alpha = 2/(beta+m), rate = (kappa-1)/(kappa+1)."""
    return 2.0 / (beta + m), (beta - m) / (beta + m)


def optimal_heavy_ball(m: float, beta: float) -> tuple[float, float, float]:
    """(alpha, mu, rate) of Polyak's tuning for curvatures in [m, beta]:

    alpha = 4 / (sqrt beta + sqrt m)^2,  mu = rate^2,  rate = (sqrt kappa - 1) / (sqrt kappa + 1).
    """
    sb, sm = math.sqrt(beta), math.sqrt(m)
    rate = (sb - sm) / (sb + sm)
    return 4.0 / (sb + sm) ** 2, rate**2, rate


def polyak_edge_iterates(rate: float, t) -> tuple[np.ndarray, np.ndarray]:
    """The heavy ball at Polyak's tuning along the two ends of the spectrum, from rest at w_0 = 1.

    At lam = m and lam = beta the map :func:`heavy_ball_matrix` has the double root rate and -rate
    and is a Jordan block (not diagonalisable), so the error is not rate^t but

        w_t(m)    = (1 + (1 - rate) t) rate^t,
        w_t(beta) = (1 + (1 + rate) t) (-rate)^t,

    the solutions of w_{t+1} = (1 + mu - alpha lam) w_t - mu w_{t-1} with w_{-1} = w_0 = 1
    (v_0 = 0). t: a step count or an array of them. Returns (w_t(m), w_t(beta)).
    """
    t = np.asarray(t, dtype=float)
    return (1.0 + (1.0 - rate) * t) * rate**t, (1.0 + (1.0 + rate) * t) * (-rate) ** t


def steps_to(rate: float, tol: float) -> int:
    """The number of steps t with rate^t <= tol: how long a method with this rate needs to gain a factor 1/tol."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"a rate must lie in (0, 1) to converge, got {rate}")
    return math.ceil(math.log(tol) / math.log(rate))


def sgd_stationary_variance(alpha, h: float, sigma: float):
    """Stationary E[w^2] of SGD with a constant step alpha on f(w) = h/2 w^2 with the noisy
    gradient h w + sigma xi (xi standard normal, fresh each step):

        E[w_{t+1}^2] = (1 - alpha h)^2 E[w_t^2] + alpha^2 sigma^2   ->   alpha sigma^2 / (h (2 - alpha h))

    for 0 < alpha h < 2. The noise floor E[f] = h/2 E[w^2] is about alpha sigma^2 / 4 for small
    alpha h: proportional to the step. alpha may be an array.
    """
    alpha = np.asarray(alpha, dtype=float)
    if np.any(alpha * h <= 0) or np.any(alpha * h >= 2):
        raise ValueError(f"the floor exists only for 0 < alpha h < 2, got alpha h = {alpha * h}")
    return alpha * sigma**2 / (h * (2.0 - alpha * h))


def nesterov_tuning(m: float, beta: float) -> tuple[float, float, float]:
    """(alpha, mu, rate) of Nesterov's method for m-strongly convex, beta-smooth f:

    alpha = 1 / beta,  mu = (sqrt kappa - 1) / (sqrt kappa + 1),  rate = 1 - 1 / sqrt kappa,

    with the global guarantee f(x_t) - f* <= rate^t (f(x_0) - f* + m/2 ||x_0 - x*||^2) for EVERY
    such f, not only quadratics (Nesterov, 2004, Section 2.2.1: the constant-step scheme with gamma_0 = m).
    """
    root = math.sqrt(beta / m)
    return 1.0 / beta, (root - 1.0) / (root + 1.0), 1.0 - 1.0 / root


def nesterov_matrix(alpha: float, mu: float, lam: float) -> np.ndarray:
    """The 2 x 2 map (x_t, x_{t-1}) -> (x_{t+1}, x_t) of Nesterov's method along curvature lam:
    x_{t+1} = (1 - alpha lam) ((1 + mu) x_t - mu x_{t-1})."""
    s = 1.0 - alpha * lam
    return np.array([[(1.0 + mu) * s, -mu * s], [1.0, 0.0]])


def nesterov_factor(alpha: float, mu: float, lam) -> np.ndarray:
    """Spectral radius of :func:`nesterov_matrix` for each curvature in lam: the asymptotic factor per step."""
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    rho = [max(abs(np.linalg.eigvals(nesterov_matrix(alpha, mu, x)))) for x in lam]
    return np.array(rho).reshape(np.shape(lam))


def _lessard_f(x):
    x = np.asarray(x, dtype=float)
    return np.where(x < 1, 12.5 * x**2, np.where(x < 2, 0.5 * x**2 + 24.0 * x - 12.0, 12.5 * x**2 - 24.0 * x + 36.0))


def _lessard_df(x):
    x = np.asarray(x, dtype=float)
    return np.where(x < 1, 25.0 * x, np.where(x < 2, x + 24.0, 25.0 * x - 24.0))


#: Lessard, Recht and Packard's (2016) counter-example: a piecewise quadratic with curvature 25, 1, 25
#: on x < 1, 1 <= x < 2, x >= 2; value and gradient are continuous, so it is strongly convex with
#: m = 1 and smooth with beta = 25; its minimiser is x* = 0. The heavy ball with Polyak's tuning for
#: (m, beta) = (1, 25) cycles on it from starts such as x_0 = 3.3.
lessard_counterexample = Function1D(
    "lessard_counterexample", _lessard_f, _lessard_df,
    r"f(x) = \begin{cases} 25x^2/2 & x < 1 \\ x^2/2 + 24x - 12 & 1 \le x < 2 \\ 25x^2/2 - 24x + 36 & x \ge 2 \end{cases}")

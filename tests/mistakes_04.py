"""Chapter 4's usual mistakes (04-momentum), in the format that tests/test_grading.py describes."""

CHAPTER = "04-momentum"
POINTS = 11
# Tasks 2 and 5 step with the student's momentum_step from task 1.
DEPENDS = {"momentum_step": {"test_run_momentum", "test_sgdm_logistic"}}

WRONG = {
    "momentum_step": {
        "adds the gradient (sign flip)": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = mu * v + alpha * g
                return w + v_new, v_new
        """,
        "moves by the old velocity": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = mu * v - alpha * g
                return w + v, v_new
        """,
        "updates w and v in place": """
            def momentum_step(w, v, g, alpha, mu):
                v *= mu
                v -= alpha * g
                w += v
                return w, v
        """,
        "returns (v, w)": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = mu * v - alpha * g
                return v_new, w + v_new
        """,
        "alpha and mu swapped": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = alpha * v - mu * g
                return w + v_new, v_new
        """,
        "no decay of the velocity (mu left out)": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = v - alpha * g
                return w + v_new, v_new
        """,
    },
    "run_momentum": {
        "the lecture's v_1 = g_1": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w = np.array(w0, dtype=float)
                v = grad_fn(w)
                path = [w]
                for _ in range(T):
                    w = w + v
                    path.append(w)
                    v = mu * v - alpha * grad_fn(w)
                return np.array(path)
        """,
        "leaves out w0": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w, v, path = np.array(w0, dtype=float), np.zeros(len(w0)), []
                for _ in range(T):
                    w, v = momentum_step(w, v, grad_fn(w), alpha, mu)
                    path.append(w)
                return np.array(path)
        """,
        "gradient at the look-ahead point (Nesterov)": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for _ in range(T):
                    w, v = momentum_step(w, v, grad_fn(w + mu * v), alpha, mu)
                    path.append(w)
                return np.array(path)
        """,
        "first step counted twice": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w = np.array(w0, dtype=float)
                v = -alpha * grad_fn(w)
                path = [w]
                for _ in range(T):
                    w, v = momentum_step(w, v, grad_fn(w), alpha, mu)
                    path.append(w)
                return np.array(path)
        """,
        "appends the same array (in-place update)": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w = np.asarray(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for _ in range(T):
                    v = mu * v - alpha * grad_fn(w)
                    w += v
                    path.append(w)
                return np.array(path)
        """,
    },
    "heavy_ball_factor": {
        "largest real part instead of modulus": """
            def heavy_ball_factor(alpha, mu, lam):
                M = np.array([[1.0 + mu - alpha * lam, -mu], [1.0, 0.0]])
                return float(np.max(np.linalg.eigvals(M).real))
        """,
        "+mu in the matrix": """
            def heavy_ball_factor(alpha, mu, lam):
                M = np.array([[1.0 + mu - alpha * lam, mu], [1.0, 0.0]])
                return float(np.max(np.abs(np.linalg.eigvals(M))))
        """,
        "gradient descent's factor": """
            def heavy_ball_factor(alpha, mu, lam):
                return abs(1.0 - alpha * lam)
        """,
        "forgets the mu on the diagonal": """
            def heavy_ball_factor(alpha, mu, lam):
                M = np.array([[1.0 - alpha * lam, -mu], [1.0, 0.0]])
                return float(np.max(np.abs(np.linalg.eigvals(M))))
        """,
        "the quadratic formula, real roots only": """
            def heavy_ball_factor(alpha, mu, lam):
                b = 1.0 + mu - alpha * lam
                return float((abs(b) + np.sqrt(b * b - 4.0 * mu)) / 2.0)
        """,
        "both moduli, not the largest": """
            def heavy_ball_factor(alpha, mu, lam):
                M = np.array([[1.0 + mu - alpha * lam, -mu], [1.0, 0.0]])
                return np.abs(np.linalg.eigvals(M))
        """,
    },
    "polyak_tuning": {
        "gradient descent's step": """
            def polyak_tuning(m, L):
                rho = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
                return 2.0 / (L + m), rho ** 2
        """,
        "mu = rho, not rho squared": """
            def polyak_tuning(m, L):
                rho = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
                return 4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2, rho
        """,
        "the usual mu = 0.9": """
            def polyak_tuning(m, L):
                return 4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2, 0.9
        """,
        "returns (mu, alpha)": """
            def polyak_tuning(m, L):
                rho = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
                return rho ** 2, 4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2
        """,
        "no square roots in rho": """
            def polyak_tuning(m, L):
                return 4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2, ((L - m) / (L + m)) ** 2
        """,
        "the safe step 1/L": """
            def polyak_tuning(m, L):
                rho = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
                return 1.0 / L, rho ** 2
        """,
    },
    "sgdm_logistic": {
        "resets the velocity every epoch": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w = np.zeros(X.shape[1])
                for epoch in range(epochs):
                    v = np.zeros_like(w)
                    for batch in minibatches(X.shape[0], B, rng):
                        w, v = momentum_step(w, v, logistic_grad(w, X[batch], y[batch]), alpha, mu)
                return w
        """,
        "ignores mu (plain SGD)": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w = np.zeros(X.shape[1])
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w = w - alpha * logistic_grad(w, X[batch], y[batch])
                return w
        """,
        "one permutation for all epochs": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w, v = np.zeros(X.shape[1]), np.zeros(X.shape[1])
                batches = minibatches(X.shape[0], B, rng)
                for epoch in range(epochs):
                    for batch in batches:
                        w, v = momentum_step(w, v, logistic_grad(w, X[batch], y[batch]), alpha, mu)
                return w
        """,
        "its own generator": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                rng = np.random.default_rng(0)
                w, v = np.zeros(X.shape[1]), np.zeros(X.shape[1])
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w, v = momentum_step(w, v, logistic_grad(w, X[batch], y[batch]), alpha, mu)
                return w
        """,
        "the full data's gradient": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w, v = np.zeros(X.shape[1]), np.zeros(X.shape[1])
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w, v = momentum_step(w, v, logistic_grad(w, X, y), alpha, mu)
                return w
        """,
        "one epoch only": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w, v = np.zeros(X.shape[1]), np.zeros(X.shape[1])
                for batch in minibatches(X.shape[0], B, rng):
                    w, v = momentum_step(w, v, logistic_grad(w, X[batch], y[batch]), alpha, mu)
                return w
        """,
    },
}

TASK_OF = {cell: f"test_{cell}" for cell in WRONG}

SAYS = {
    "momentum_step": {
        "adds the gradient (sign flip)": "step against the gradient",
        "moves by the old velocity": "the NEW velocity",
        "updates w and v in place": "return new arrays",
        "returns (v, w)": "(w_new, v_new), in that order",
        "alpha and mu swapped": "mu multiplies v and alpha multiplies g",
        "no decay of the velocity (mu left out)": "multiply the old velocity by mu",
    },
    "run_momentum": {
        "the lecture's v_1 = g_1": "v = 0, not v = grad(w0)",
        "leaves out w0": "row 0 must be w0",
        "gradient at the look-ahead point (Nesterov)": "the current w, no look-ahead",
        "first step counted twice": "counted twice",
        "appends the same array (in-place update)": "append new arrays",
    },
    "heavy_ball_factor": {
        "largest real part instead of modulus": "not the real part",
        "+mu in the matrix": "-mu, not +mu",
        "gradient descent's factor": "gradient descent's factor",
        "forgets the mu on the diagonal": "1 + mu - alpha lam",
        "the quadratic formula, real roots only": "the roots are complex",
        "both moduli, not the largest": "return one number",
    },
    "polyak_tuning": {
        "gradient descent's step": "gradient descent's step",
        "mu = rho, not rho squared": "rho squared, not rho",
        "the usual mu = 0.9": "not a fixed 0.9",
        "returns (mu, alpha)": "(alpha, mu), in that order",
        "no square roots in rho": "square roots",
        "the safe step 1/L": "not 1 / beta",
    },
    "sgdm_logistic": {
        "resets the velocity every epoch": "keep v from one epoch to the next",
        "ignores mu (plain SGD)": "plain SGD ignores mu",
        "one permutation for all epochs": "once per epoch",
        "its own generator": "use the rng passed in",
        "the full data's gradient": "X[batch], y[batch]",
        "one epoch only": "run all the epochs",
    },
}

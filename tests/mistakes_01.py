"""Chapter 1's usual mistakes (01-gradients), in the format that tests/test_grading.py describes."""

CHAPTER = "01-gradients"
POINTS = 12
DEPENDS: dict[str, set[str]] = {}

TASK_OF = {
    "central_difference": "test_central_difference",
    "numerical_gradient": "test_numerical_gradient",
    "directional_derivative": "test_directional_derivative",
    "steepest_ascent": "test_steepest_ascent",
    "least_squares": "test_least_squares",
}


WRONG = {
    "central_difference": {
        "forward difference": """
            def central_difference(phi, s, eps=1e-6):
                return (phi(s + eps) - phi(s)) / eps
        """,
        "divides by eps instead of 2 eps": """
            def central_difference(phi, s, eps=1e-6):
                return (phi(s + eps) - phi(s - eps)) / eps
        """,
        "ignores the eps argument": """
            def central_difference(phi, s, eps=1e-6):
                h = 1e-2
                return (phi(s + h) - phi(s - h)) / (2 * h)
        """,
        "divides by 2 and multiplies by eps": """
            def central_difference(phi, s, eps=1e-6):
                return (phi(s + eps) - phi(s - eps)) / 2 * eps
        """,
    },
    "numerical_gradient": {
        "perturbs every coordinate at once": """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                slope = (f(x + eps) - f(x - eps)) / (2 * eps)
                return np.full_like(x, slope)
        """,
        "leaves the input modified": """
            def numerical_gradient(f, x, eps=1e-6):
                g = np.zeros(x.shape)
                for i in np.ndindex(x.shape):
                    x[i] += eps
                    f_plus = f(x)
                    x[i] -= 2 * eps
                    f_minus = f(x)
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
        "keeps integer inputs as integers": """
            def numerical_gradient(f, x, eps=1e-6):
                x = x.copy()
                g = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    saved = x[i]
                    x[i] = saved + eps
                    f_plus = f(x)
                    x[i] = saved - eps
                    f_minus = f(x)
                    x[i] = saved
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
        "loops over the first axis only": """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                g = np.zeros_like(x)
                for i in range(len(x)):
                    saved = x[i].copy()
                    x[i] = saved + eps
                    f_plus = f(x)
                    x[i] = saved - eps
                    f_minus = f(x)
                    x[i] = saved
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
        "ignores the eps argument": """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                g = np.zeros_like(x)
                h = 1e-6
                for i in np.ndindex(x.shape):
                    saved = x[i]
                    x[i] = saved + h
                    f_plus = f(x)
                    x[i] = saved - h
                    f_minus = f(x)
                    x[i] = saved
                    g[i] = (f_plus - f_minus) / (2 * h)
                return g
        """,
    },
    "directional_derivative": {
        "normalises v": """
            def directional_derivative(f, x, v, eps=1e-6):
                v = np.asarray(v, dtype=float)
                v = v / np.linalg.norm(v)
                return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)
        """,
        "forward difference": """
            def directional_derivative(f, x, v, eps=1e-6):
                return (f(x + eps * v) - f(x)) / eps
        """,
        "steps along all ones instead of v": """
            def directional_derivative(f, x, v, eps=1e-6):
                return (f(x + eps) - f(x - eps)) / (2 * eps)
        """,
    },
    "steepest_ascent": {
        "descent instead of ascent": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                if norm == 0:
                    return np.zeros_like(g), 0.0
                return -g / norm, norm
        """,
        "not normalised": """
            def steepest_ascent(g):
                return g, np.linalg.norm(g)
        """,
        "divides by zero at a stationary point": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                return g / norm, norm
        """,
        "rate is the squared norm": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                if norm == 0:
                    return np.zeros_like(g), 0.0
                return g / norm, norm ** 2
        """,
        "returns (rate, direction)": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                if norm == 0:
                    return 0.0, np.zeros_like(g)
                return norm, g / norm
        """,
    },
    "least_squares": {
        "sum instead of mean": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X.T @ (X @ w - y)
        """,
        "missing transpose": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X @ (X @ w - y) / len(y)
        """,
        "sign flipped": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X.T @ (y - X @ w) / len(y)
        """,
        "loss without the 1/2": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / len(y)

            def least_squares_grad(w, X, y):
                return X.T @ (X @ w - y) / len(y)
        """,
        "N taken as the number of columns": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * X.shape[1])

            def least_squares_grad(w, X, y):
                return X.T @ (X @ w - y) / X.shape[1]
        """,
    },
}

# What the first line of the task's failure says under Validate, for each wrong answer.
SAYS = {
    "central_difference": {
        "forward difference": "forward difference: use phi(s - eps) too",
        "divides by eps instead of 2 eps": "divide by 2 * eps",
        "ignores the eps argument": "use the eps argument",
        "divides by 2 and multiplies by eps": "write / (2 * eps)",
    },
    "numerical_gradient": {
        "perturbs every coordinate at once": "ONE entry at a time",
        "leaves the input modified": "work on a float copy",
        "keeps integer inputs as integers": "convert x to floats",
        "loops over the first axis only": "np.ndindex(x.shape)",
        "ignores the eps argument": "use the eps argument",
    },
    "directional_derivative": {
        "normalises v": "do not normalise it",
        "forward difference": "use f(x - eps v) too",
        "steps along all ones instead of v": "x + eps * v",
    },
    "steepest_ascent": {
        "descent instead of ascent": "ASCENT goes along +g",
        "not normalised": "unit length",
        "divides by zero at a stationary point": "return zeros and 0.0",
        "rate is the squared norm": "not ||g||^2",
        "returns (rate, direction)": "(direction, rate) in this order",
    },
    "least_squares": {
        "sum instead of mean": "divide by N",
        "missing transpose": "missing .T",
        "sign flipped": "the sign is flipped",
        "loss without the 1/2": "factor 1/(2N)",
        "N taken as the number of columns": "ROWS of X",
    },
}

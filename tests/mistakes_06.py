"""Chapter 6's usual mistakes (06-sgdem), in the format that tests/test_grading.py describes."""

CHAPTER = "06-sgdem"
POINTS = 9
DEPENDS: dict[str, set[str]] = {}

WRONG = {
    "neighbouring": {
        "changes the data set passed in": """
            def neighbouring(X, y, i, x_new, y_new):
                X[i], y[i] = x_new, y_new
                return X, y
        """,
        "appends instead of replacing": """
            def neighbouring(X, y, i, x_new, y_new):
                return np.vstack([X, x_new]), np.append(y, y_new)
        """,
        "replaces the features only": """
            def neighbouring(X, y, i, x_new, y_new):
                X2 = X.copy()
                X2[i] = x_new
                return X2, y.copy()
        """,
        "copies X but not y": """
            def neighbouring(X, y, i, x_new, y_new):
                X2, y2 = X.copy(), y
                X2[i], y2[i] = x_new, y_new
                return X2, y2
        """,
    },
    "sgdem_run": {
        "keeps the velocity after T0": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    g = grad_fn(w)
                    if t < T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w + mu * v - alpha * g
                        v = mu * v
                    path.append(w)
                return np.array(path)
        """,
        "momentum one step too long": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    g = grad_fn(w)
                    if t <= T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w - alpha * g
                    path.append(w)
                return np.array(path)
        """,
        "momentum late instead of early": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    g = grad_fn(w)
                    if t >= T - T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w - alpha * g
                    path.append(w)
                return np.array(path)
        """,
        "momentum one step too short": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(1, T + 1):
                    g = grad_fn(w)
                    if t < T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w - alpha * g
                    path.append(w)
                return np.array(path)
        """,
        "momentum throughout": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    v = mu * v - alpha * grad_fn(w)
                    w = w + v
                    path.append(w)
                return np.array(path)
        """,
        "resets the velocity at T0 and keeps momentum": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    if t == T0:
                        v = np.zeros_like(w)
                    v = mu * v - alpha * grad_fn(w)
                    w = w + v
                    path.append(w)
                return np.array(path)
        """,
        "leaves out w0": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = []
                for t in range(T):
                    g = grad_fn(w)
                    if t < T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w - alpha * g
                    path.append(w)
                return np.array(path)
        """,
        "updates w in place": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    g = grad_fn(w)
                    if t < T0:
                        v = mu * v - alpha * g
                        w += v
                    else:
                        w -= alpha * g
                    path.append(w)
                return np.array(path)
        """,
    },
    "paired_gap": {
        "a permutation per run": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                def run(X, y):
                    w, v, t = np.zeros(X.shape[1]), np.zeros(X.shape[1]), 0
                    for epoch in range(epochs):
                        for j in rng.permutation(X.shape[0]):
                            g = logistic_grad(w, X[j:j + 1], y[j:j + 1])
                            if t < T0:
                                v = mu * v - alpha * g
                                w = w + v
                            else:
                                w = w - alpha * g
                            t += 1
                    return w
                return float(np.linalg.norm(run(X, y) - run(X2, y2)))
        """,
        "restarts the step count every epoch": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                N, d = X.shape
                w, v, w2, v2 = np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d)
                for epoch in range(epochs):
                    for t, j in enumerate(rng.permutation(N)):
                        g = logistic_grad(w, X[j:j + 1], y[j:j + 1])
                        g2 = logistic_grad(w2, X2[j:j + 1], y2[j:j + 1])
                        if t < T0:
                            v, v2 = mu * v - alpha * g, mu * v2 - alpha * g2
                            w, w2 = w + v, w2 + v2
                        else:
                            w, w2 = w - alpha * g, w2 - alpha * g2
                return float(np.linalg.norm(w - w2))
        """,
        "plain SGD throughout": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                N, d = X.shape
                w, w2 = np.zeros(d), np.zeros(d)
                for epoch in range(epochs):
                    for j in rng.permutation(N):
                        w = w - alpha * logistic_grad(w, X[j:j + 1], y[j:j + 1])
                        w2 = w2 - alpha * logistic_grad(w2, X2[j:j + 1], y2[j:j + 1])
                return float(np.linalg.norm(w - w2))
        """,
        "momentum one step too long": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                N, d = X.shape
                w, v, w2, v2 = np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d)
                t = 0
                for epoch in range(epochs):
                    for j in rng.permutation(N):
                        g = logistic_grad(w, X[j:j + 1], y[j:j + 1])
                        g2 = logistic_grad(w2, X2[j:j + 1], y2[j:j + 1])
                        if t <= T0:
                            v, v2 = mu * v - alpha * g, mu * v2 - alpha * g2
                            w, w2 = w + v, w2 + v2
                        else:
                            w, w2 = w - alpha * g, w2 - alpha * g2
                        t += 1
                return float(np.linalg.norm(w - w2))
        """,
        "momentum throughout": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                N, d = X.shape
                w, v, w2, v2 = np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d)
                for epoch in range(epochs):
                    for j in rng.permutation(N):
                        g = logistic_grad(w, X[j:j + 1], y[j:j + 1])
                        g2 = logistic_grad(w2, X2[j:j + 1], y2[j:j + 1])
                        v, v2 = mu * v - alpha * g, mu * v2 - alpha * g2
                        w, w2 = w + v, w2 + v2
                return float(np.linalg.norm(w - w2))
        """,
        "the second run uses S": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                N, d = X.shape
                w, v, w2, v2 = np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d)
                t = 0
                for epoch in range(epochs):
                    for j in rng.permutation(N):
                        g = logistic_grad(w, X[j:j + 1], y[j:j + 1])
                        g2 = logistic_grad(w2, X[j:j + 1], y[j:j + 1])
                        if t < T0:
                            v, v2 = mu * v - alpha * g, mu * v2 - alpha * g2
                            w, w2 = w + v, w2 + v2
                        else:
                            w, w2 = w - alpha * g, w2 - alpha * g2
                        t += 1
                return float(np.linalg.norm(w - w2))
        """,
    },
    "sgd_stability_bound": {
        "mean row norm": """
            def sgd_stability_bound(X, alpha, epochs):
                r = np.mean(np.linalg.norm(X, axis=1))
                if alpha > 8.0 / np.max(np.sum(X * X, axis=1)):
                    raise ValueError("step too large")
                return 2.0 * alpha * r * epochs
        """,
        "never raises": """
            def sgd_stability_bound(X, alpha, epochs):
                return 2.0 * alpha * np.max(np.linalg.norm(X, axis=1)) * epochs
        """,
        "squared norm for L": """
            def sgd_stability_bound(X, alpha, epochs):
                r2 = np.max(np.sum(X * X, axis=1))
                if alpha > 8.0 / r2:
                    raise ValueError("step too large")
                return 2.0 * alpha * r2 * epochs
        """,
        "beta without the 1/4": """
            def sgd_stability_bound(X, alpha, epochs):
                r2 = np.max(np.sum(X * X, axis=1))
                if alpha > 2.0 / r2:
                    raise ValueError("step too large")
                return 2.0 * alpha * np.sqrt(r2) * epochs
        """,
        "raises at alpha = 2/beta already": """
            def sgd_stability_bound(X, alpha, epochs):
                r2 = np.max(np.sum(X * X, axis=1))
                if alpha >= 8.0 / r2:
                    raise ValueError("step too large")
                return 2.0 * alpha * np.sqrt(r2) * epochs
        """,
        "no factor 2": """
            def sgd_stability_bound(X, alpha, epochs):
                r2 = np.max(np.sum(X * X, axis=1))
                if alpha > 8.0 / r2:
                    raise ValueError("step too large")
                return alpha * np.sqrt(r2) * epochs
        """,
        "counts steps instead of epochs": """
            def sgd_stability_bound(X, alpha, epochs):
                r2 = np.max(np.sum(X * X, axis=1))
                if alpha > 8.0 / r2:
                    raise ValueError("step too large")
                return 2.0 * alpha * np.sqrt(r2) * epochs * X.shape[0]
        """,
        "column norms": """
            def sgd_stability_bound(X, alpha, epochs):
                r = np.max(np.linalg.norm(X, axis=0))
                if alpha > 8.0 / r**2:
                    raise ValueError("step too large")
                return 2.0 * alpha * r * epochs
        """,
    },
}

TASK_OF = {cell: f"test_{cell}" for cell in WRONG}

SAYS = {
    "neighbouring": {
        "changes the data set passed in": "copy them first",
        "appends instead of replacing": "do not append",
        "replaces the features only": "replace the label too",
        "copies X but not y": "copy them first",
    },
    "sgdem_run": {
        "keeps the velocity after T0": "drop the velocity",
        "momentum one step too long": "not t <= T0",
        "momentum late instead of early": "momentum comes first",
        "momentum one step too short": "momentum for T0 steps",
        "momentum throughout": "switch to plain SGD at t = T0",
        "resets the velocity at T0 and keeps momentum": "not just reset v",
        "leaves out w0": "include w_0",
        "updates w in place": "not w += v",
    },
    "paired_gap": {
        "a permutation per run": "ONE permutation per epoch",
        "restarts the step count every epoch": "count t over the whole run",
        "plain SGD throughout": "this is plain SGD",
        "momentum one step too long": "not t <= T0",
        "momentum throughout": "switch to plain SGD at t = T0",
        "the second run uses S": "on the neighbour (X2, y2)",
    },
    "sgd_stability_bound": {
        "mean row norm": "LARGEST row norm",
        "never raises": "raise ValueError",
        "squared norm for L": "not its square",
        "beta without the 1/4": "beta = max |x_n|^2 / 4",
        "raises at alpha = 2/beta already": "only if alpha > 2/beta",
        "no factor 2": "factor 2 is missing",
        "counts steps instead of epochs": "K counts epochs",
        "column norms": "axis=1",
    },
}

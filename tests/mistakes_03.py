"""Chapter 3's usual mistakes (03-sgd), in the format that tests/test_grading.py describes."""

CHAPTER = "03-sgd"
POINTS = 11
# Task 5 trains with the student's minibatches from task 1.
DEPENDS = {"minibatches": {"test_train_digits"}}

WRONG = {
    "minibatches": {
        "no shuffling": """
            def minibatches(N, B, rng):
                order = np.arange(N)
                return [order[start:start + B] for start in range(0, N, B)]
        """,
        "the same permutation every epoch": """
            def minibatches(N, B, rng):
                order = np.random.default_rng(0).permutation(N)
                return [order[start:start + B] for start in range(0, N, B)]
        """,
        "drops the last partial batch": """
            def minibatches(N, B, rng):
                order = rng.permutation(N)
                return [order[start:start + B] for start in range(0, N - B + 1, B)]
        """,
        "reshapes into rows of B": """
            def minibatches(N, B, rng):
                return list(rng.permutation(N).reshape(-1, B))
        """,
        "draws with replacement": """
            def minibatches(N, B, rng):
                order = rng.integers(0, N, size=N)
                return [order[start:start + B] for start in range(0, N, B)]
        """,
        "an empty batch when B divides N": """
            def minibatches(N, B, rng):
                order = rng.permutation(N)
                return [order[i * B:(i + 1) * B] for i in range(N // B + 1)]
        """,
    },
    "logistic_grad": {
        "labels treated as 0/1": """
            def logistic_grad(w, X, y):
                p = 1.0 / (1.0 + np.exp(-(X @ w)))
                return X.T @ (p - y) / len(y)
        """,
        "sum instead of mean": """
            def logistic_grad(w, X, y):
                weight = np.exp(-np.logaddexp(0.0, y * (X @ w)))
                return -(X.T @ (y * weight))
        """,
        "overflows for large margins": """
            def logistic_grad(w, X, y):
                return -(X.T @ (y / (1.0 + np.exp(y * (X @ w))))) / len(y)
        """,
        "the sign flipped": """
            def logistic_grad(w, X, y):
                weight = np.exp(-np.logaddexp(0.0, y * (X @ w)))
                return X.T @ (y * weight) / len(y)
        """,
        "exp(-m) instead of exp(m)": """
            def logistic_grad(w, X, y):
                weight = np.exp(-np.logaddexp(0.0, -y * (X @ w)))
                return -(X.T @ (y * weight)) / len(y)
        """,
        "a missing .T": """
            def logistic_grad(w, X, y):
                weight = np.exp(-np.logaddexp(0.0, y * (X @ w)))
                return -(X @ (y * weight)) / len(y)
        """,
    },
    "sgd_step": {
        "divides by N instead of B": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                return w - alpha * sum(grad_fn(w, X[i], y[i]) for i in batch) / len(X)
        """,
        "steps up the gradient": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                return w + alpha * sum(grad_fn(w, X[i], y[i]) for i in batch) / len(batch)
        """,
        "modifies w in place": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                w -= alpha * sum(grad_fn(w, X[i], y[i]) for i in batch) / len(batch)
                return w
        """,
        "the sum, not the mean": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                return w - alpha * sum(grad_fn(w, X[i], y[i]) for i in batch)
        """,
        "the full gradient, not the batch's": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                return w - alpha * sum(grad_fn(w, X[i], y[i]) for i in range(len(X))) / len(X)
        """,
    },
    "average_stochastic_gradient": {
        "one index used k times": """
            def average_stochastic_gradient(w, X, y, k, rng, grad_fn):
                j = rng.integers(0, X.shape[0])
                return grad_fn(w, X[j], y[j])
        """,
        "the first k samples instead of random ones": """
            def average_stochastic_gradient(w, X, y, k, rng, grad_fn):
                idx = np.arange(k) % X.shape[0]
                return sum(grad_fn(w, X[j], y[j]) for j in idx) / k
        """,
        "divides by N instead of k": """
            def average_stochastic_gradient(w, X, y, k, rng, grad_fn):
                idx = rng.integers(0, X.shape[0], size=k)
                return sum(grad_fn(w, X[j], y[j]) for j in idx) / X.shape[0]
        """,
        "without replacement (rng.choice)": """
            def average_stochastic_gradient(w, X, y, k, rng, grad_fn):
                idx = rng.choice(X.shape[0], size=k, replace=False)
                return sum(grad_fn(w, X[j], y[j]) for j in idx) / k
        """,
    },
    "train_digits": {
        "never updates the parameters": """
            def train_digits(X, y, rng):
                params = init_mlp([64, 64, 10], rng)
                for batch in minibatches(X.shape[0], 32, rng):
                    _, grads = mlp_loss_and_grad(params, X[batch], y[batch])
                return params
        """,
        "a step size that diverges": """
            def train_digits(X, y, rng):
                params = init_mlp([64, 64, 10], rng)
                for epoch in range(10):
                    for batch in minibatches(X.shape[0], 32, rng):
                        _, grads = mlp_loss_and_grad(params, X[batch], y[batch])
                        for name in params:
                            params[name] = params[name] - 50.0 * grads[name]
                return params
        """,
        "a single batch of training": """
            def train_digits(X, y, rng):
                params = init_mlp([64, 64, 10], rng)
                batch = minibatches(X.shape[0], 32, rng)[0]
                _, grads = mlp_loss_and_grad(params, X[batch], y[batch])
                for name in params:
                    params[name] = params[name] - 0.1 * grads[name]
                return params
        """,
    },
}

TASK_OF = {cell: f"test_{cell}" for cell in WRONG}

SAYS = {
    "minibatches": {
        "no shuffling": "shuffle with rng.permutation",
        "the same permutation every epoch": "use the rng passed in",
        "drops the last partial batch": "keep the last, smaller batch",
        "reshapes into rows of B": "slice the permutation",
        "draws with replacement": "use each once per epoch",
        "an empty batch when B divides N": "empty batch: leave it out",
    },
    "logistic_grad": {
        "labels treated as 0/1": "-1 or +1: not the 0/1 form",
        "sum instead of mean": "the mean, not the sum",
        "overflows for large margins": "use np.logaddexp",
        "the sign flipped": "the sign is flipped",
        "exp(-m) instead of exp(m)": "1 + exp(+m)",
        "a missing .T": "a missing .T",
    },
    "sgd_step": {
        "divides by N instead of B": "not by N = len(X)",
        "steps up the gradient": "step against the gradient",
        "modifies w in place": "return a new array",
        "the sum, not the mean": "divide the sum by B",
        "the full gradient, not the batch's": "only the samples in batch",
    },
    "average_stochastic_gradient": {
        "one index used k times": "draw k indices",
        "the first k samples instead of random ones": "draw the indices at random",
        "divides by N instead of k": "divide by k",
        "without replacement (rng.choice)": "draw with replacement",
    },
    "train_digits": {
        "never updates the parameters": "never changed the parameters",
        "a step size that diverges": "smaller alpha",
        "a single batch of training": "more epochs",
    },
}

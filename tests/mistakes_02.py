"""Chapter 2's usual mistakes (02-backprop), in the format that tests/test_grading.py describes."""

CHAPTER = "02-backprop"
POINTS = 14
# Task 5 calls the student's dense_backward from task 4, by design: a wrong layer
# backward may also cost the network backward, and nothing else.
DEPENDS = {"dense_backward": {"test_mlp_backward"}}

WRONG = {
    "activation_derivatives": {
        "sigmoid' returns sigmoid": """
            def sigmoid_prime(z):
                return sigmoid(z)

            def tanh_prime(z):
                return 1.0 - np.tanh(z) ** 2

            def relu_prime(z):
                return (np.asarray(z) > 0).astype(float)
        """,
        "tanh' evaluated as 1 - z^2": """
            def sigmoid_prime(z):
                s = sigmoid(z)
                return s * (1.0 - s)

            def tanh_prime(z):
                return 1.0 - z ** 2

            def relu_prime(z):
                return (np.asarray(z) > 0).astype(float)
        """,
        "relu'(0) = 1": """
            def sigmoid_prime(z):
                s = sigmoid(z)
                return s * (1.0 - s)

            def tanh_prime(z):
                return 1.0 - np.tanh(z) ** 2

            def relu_prime(z):
                return (np.asarray(z) >= 0).astype(float)
        """,
        "naive sigmoid overflows": """
            def sigmoid_prime(z):
                s = 1.0 / (1.0 + np.exp(-z))
                return s * (1.0 - s)

            def tanh_prime(z):
                return 1.0 - np.tanh(z) ** 2

            def relu_prime(z):
                return (np.asarray(z) > 0).astype(float)
        """,
    },
    "softmax": {
        "no max subtraction": """
            def softmax(Z):
                E = np.exp(Z)
                return E / E.sum(axis=1, keepdims=True)
        """,
        "normalises columns": """
            def softmax(Z):
                E = np.exp(Z - Z.max(axis=0, keepdims=True))
                return E / E.sum(axis=0, keepdims=True)
        """,
        "subtracts the global maximum": """
            def softmax(Z):
                E = np.exp(Z - Z.max())
                return E / E.sum(axis=1, keepdims=True)
        """,
        "divides by the sum of the whole array": """
            def softmax(Z):
                E = np.exp(Z - Z.max(axis=1, keepdims=True))
                return E / E.sum()
        """,
        "no keepdims": """
            def softmax(Z):
                E = np.exp(Z - Z.max(axis=1))
                return E / E.sum(axis=1)
        """,
    },
    "softmax_cross_entropy": {
        "sum instead of mean": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                shifted = Z - Z.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                Y = np.eye(Z.shape[1])[labels]
                return float(-np.sum(log_p[np.arange(B), labels])), np.exp(log_p) - Y
        """,
        "gradient without 1/B": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                shifted = Z - Z.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                Y = np.eye(Z.shape[1])[labels]
                return float(-log_p[np.arange(B), labels].mean()), np.exp(log_p) - Y
        """,
        "log of the softmax underflows": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                E = np.exp(Z - Z.max(axis=1, keepdims=True))
                P = E / E.sum(axis=1, keepdims=True)
                Y = np.eye(Z.shape[1])[labels]
                return float(-np.mean(np.log(P[np.arange(B), labels]))), (P - Y) / B
        """,
        "sign flipped gradient": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                shifted = Z - Z.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                Y = np.eye(Z.shape[1])[labels]
                return float(-log_p[np.arange(B), labels].mean()), (Y - np.exp(log_p)) / B
        """,
        "picks the label columns in every row": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                shifted = Z - Z.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                Y = np.eye(Z.shape[1])[labels]
                return float(-log_p[:, labels].mean()), (np.exp(log_p) - Y) / B
        """,
    },
    "dense_backward": {
        "missing transpose": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W, A_prev.T @ dZ, dZ.sum(axis=0)
        """,
        "mean over the batch for db": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W.T, A_prev.T @ dZ, dZ.mean(axis=0)
        """,
        "dW transposed": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W.T, dZ.T @ A_prev, dZ.sum(axis=0)
        """,
        "dW without the transpose": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W.T, A_prev @ dZ, dZ.sum(axis=0)
        """,
        "db summed over the wrong axis": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W.T, A_prev.T @ dZ, dZ.sum(axis=1)
        """,
        "db keeps the summed axis": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W.T, A_prev.T @ dZ, dZ.sum(axis=0, keepdims=True)
        """,
    },
    "mlp_backward": {
        "g' at A instead of Z": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                grads, delta = {}, delta_L
                for l in range(len(Ws), 0, -1):
                    dA_prev, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, As[l - 1], Ws[l - 1])
                    if l > 1:
                        delta = dA_prev * g_prime(As[l - 1])
                return grads
        """,
        "forgets g'": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                grads, delta = {}, delta_L
                for l in range(len(Ws), 0, -1):
                    dA_prev, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, As[l - 1], Ws[l - 1])
                    delta = dA_prev
                return grads
        """,
        "g' of the wrong layer": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                grads, delta = {}, delta_L
                for l in range(len(Ws), 0, -1):
                    dA_prev, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, As[l - 1], Ws[l - 1])
                    if l > 1:
                        delta = dA_prev * g_prime(zs[l])
                return grads
        """,
        "layers numbered from 0": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                grads, delta = {}, delta_L
                for l in range(len(Ws) - 1, -1, -1):
                    dA_prev, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, As[l], Ws[l])
                    if l > 0:
                        delta = dA_prev * g_prime(zs[l])
                return grads
        """,
        "handles two layers only": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                dA1, dW2, db2 = dense_backward(delta_L, As[1], Ws[1])
                delta1 = dA1 * g_prime(zs[1])
                _, dW1, db1 = dense_backward(delta1, As[0], Ws[0])
                return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        """,
    },
    "gradient_check": {
        "forward difference": """
            def gradient_check(R, params, grads, eps=1e-6):
                errors = {}
                for name, theta in params.items():
                    numeric = np.zeros_like(theta, dtype=float)
                    base = R(params)
                    for i in np.ndindex(theta.shape):
                        saved = theta[i]
                        theta[i] = saved + eps
                        numeric[i] = (R(params) - base) / eps
                        theta[i] = saved
                    a = np.asarray(grads[name], dtype=float)
                    floor = np.maximum(np.maximum(np.abs(a), np.abs(numeric)), 1e-2)
                    errors[name] = float(np.max(np.abs(a - numeric) / floor))
                return errors
        """,
        "does not restore the parameters": """
            def gradient_check(R, params, grads, eps=1e-6):
                errors = {}
                for name, theta in params.items():
                    numeric = np.zeros_like(theta, dtype=float)
                    for i in np.ndindex(theta.shape):
                        theta[i] += eps
                        plus = R(params)
                        theta[i] -= 2 * eps
                        minus = R(params)
                        numeric[i] = (plus - minus) / (2 * eps)
                    a = np.asarray(grads[name], dtype=float)
                    floor = np.maximum(np.maximum(np.abs(a), np.abs(numeric)), 1e-2)
                    errors[name] = float(np.max(np.abs(a - numeric) / floor))
                return errors
        """,
        "absolute instead of relative error": """
            def gradient_check(R, params, grads, eps=1e-6):
                errors = {}
                for name, theta in params.items():
                    numeric = np.zeros_like(theta, dtype=float)
                    for i in np.ndindex(theta.shape):
                        saved = theta[i]
                        theta[i] = saved + eps
                        plus = R(params)
                        theta[i] = saved - eps
                        minus = R(params)
                        theta[i] = saved
                        numeric[i] = (plus - minus) / (2 * eps)
                    errors[name] = float(np.max(np.abs(np.asarray(grads[name]) - numeric)))
                return errors
        """,
        "perturbs a whole row at once": """
            def gradient_check(R, params, grads, eps=1e-6):
                errors = {}
                for name, theta in params.items():
                    numeric = np.zeros_like(theta, dtype=float)
                    for i in range(theta.shape[0]):
                        saved = theta[i].copy()
                        theta[i] = saved + eps
                        plus = R(params)
                        theta[i] = saved - eps
                        minus = R(params)
                        theta[i] = saved
                        numeric[i] = (plus - minus) / (2 * eps)
                    a = np.asarray(grads[name], dtype=float)
                    floor = np.maximum(np.maximum(np.abs(a), np.abs(numeric)), 1e-2)
                    errors[name] = float(np.max(np.abs(a - numeric) / floor))
                return errors
        """,
    },
}

TASK_OF = {cell: f"test_{cell}" for cell in WRONG}

# What the first line of the task's failure says under Validate, for each wrong answer.
SAYS = {
    "activation_derivatives": {
        "sigmoid' returns sigmoid": "return sigma(z) (1 - sigma(z))",
        "tanh' evaluated as 1 - z^2": "square tanh(z), not z",
        "relu'(0) = 1": "use z > 0, not z >= 0",
        "naive sigmoid overflows": "use the helper sigmoid(z)",
    },
    "softmax": {
        "no max subtraction": "subtract each row's max",
        "normalises columns": "axis=1 (each row), not axis=0",
        "subtracts the global maximum": "each row's OWN max",
        "divides by the sum of the whole array": "each row by its own sum",
        "no keepdims": "keepdims=True",
    },
    "softmax_cross_entropy": {
        "sum instead of mean": "MEAN over the batch, not the sum",
        "gradient without 1/B": "divide by the batch size B",
        "log of the softmax underflows": "stable log-softmax",
        "sign flipped gradient": "the sign is flipped",
        "picks the label columns in every row": "one entry per row",
    },
    "dense_backward": {
        "missing transpose": "a missing .T",
        "mean over the batch for db": "not the mean",
        "dW transposed": "it is transposed",
        "dW without the transpose": "missing .T on A_prev",
        "db summed over the wrong axis": "over the wrong axis",
        "db keeps the summed axis": "drop keepdims=True",
    },
    "mlp_backward": {
        "g' at A instead of Z": "takes Z^[l] (zs[l]), not A^[l]",
        "forgets g'": "multiply by g_prime(Z^[l])",
        "g' of the wrong layer": "of the same layer",
        "layers numbered from 0": "number the layers from 1",
        "handles two layers only": "loop over all 3 layers",
    },
    "gradient_check": {
        "forward difference": "use central differences",
        "does not restore the parameters": "restore each entry",
        "absolute instead of relative error": "use the relative error",
        "perturbs a whole row at once": "perturb one entry at a time",
    },
}

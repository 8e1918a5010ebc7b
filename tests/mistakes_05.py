"""Chapter 5's usual mistakes (05-adaptive), in the format that tests/test_grading.py describes."""

CHAPTER = "05-adaptive"
POINTS = 10
# Task 4 trains with the student's adam_step from task 3.
DEPENDS = {"adam_step": {"test_adam_logistic"}}

WRONG = {
    "adagrad_step": {
        "eps outside the root": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                c_new = c + g * g
                return w - alpha * g / (np.sqrt(c_new) + eps), c_new
        """,
        "no running sum": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                c_new = g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "divides by the old sum": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                return w - alpha * g / np.sqrt(c + eps), c + g * g
        """,
        "updates c in place": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                c += g * g
                return w - alpha * g / np.sqrt(c + eps), c
        """,
    },
    "rmsprop_step": {
        "beta and 1 - beta swapped": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = (1 - beta) * c + beta * g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "no (1 - beta) factor": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = beta * c + g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "AdaGrad's sum": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = c + g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "no square root": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = beta * c + (1 - beta) * g * g
                return w - alpha * g / (c_new + eps), c_new
        """,
    },
    "adam_step": {
        "no bias correction": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                return w - alpha * v_new / (np.sqrt(c_new) + eps), v_new, c_new
        """,
        "eps inside the root": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                v_hat, c_hat = v_new / (1 - beta1**t), c_new / (1 - beta2**t)
                return w - alpha * v_hat / np.sqrt(c_hat + eps), v_new, c_new
        """,
        "returns the corrected moments": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_hat = (beta1 * v + (1 - beta1) * g) / (1 - beta1**t)
                c_hat = (beta2 * c + (1 - beta2) * g * g) / (1 - beta2**t)
                return w - alpha * v_hat / (np.sqrt(c_hat) + eps), v_hat, c_hat
        """,
        "corrects only the second moment": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                return w - alpha * v_new / (np.sqrt(c_new / (1 - beta2**t)) + eps), v_new, c_new
        """,
        "corrects only the first moment": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                return w - alpha * (v_new / (1 - beta1**t)) / (np.sqrt(c_new) + eps), v_new, c_new
        """,
        "t counted from 0 in the correction": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                v_hat, c_hat = v_new / (1 - beta1**(t + 1)), c_new / (1 - beta2**(t + 1))
                return w - alpha * v_hat / (np.sqrt(c_hat) + eps), v_new, c_new
        """,
        "the lecture's ADAM": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                return w - alpha * v_new / np.sqrt(c_new + eps), v_new, c_new
        """,
        "updates v and c in place": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v *= beta1
                v += (1 - beta1) * g
                c *= beta2
                c += (1 - beta2) * g * g
                v_hat, c_hat = v / (1 - beta1**t), c / (1 - beta2**t)
                return w - alpha * v_hat / (np.sqrt(c_hat) + eps), v, c
        """,
    },
    "adam_logistic": {
        "restarts the step count every epoch": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w = np.zeros(X.shape[1])
                v, c = np.zeros_like(w), np.zeros_like(w)
                for epoch in range(epochs):
                    for t, batch in enumerate(minibatches(X.shape[0], B, rng), start=1):
                        w, v, c = adam_step(w, v, c, logistic_grad(w, X[batch], y[batch]), t, alpha=alpha)
                return w
        """,
        "resets the moments every epoch": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w, t = np.zeros(X.shape[1]), 0
                for epoch in range(epochs):
                    v, c = np.zeros_like(w), np.zeros_like(w)
                    for batch in minibatches(X.shape[0], B, rng):
                        t += 1
                        w, v, c = adam_step(w, v, c, logistic_grad(w, X[batch], y[batch]), t, alpha=alpha)
                return w
        """,
        "plain SGD": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w = np.zeros(X.shape[1])
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w = w - alpha * logistic_grad(w, X[batch], y[batch])
                return w
        """,
        "counts steps from 0": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w = np.zeros(X.shape[1])
                v, c = np.zeros_like(w), np.zeros_like(w)
                t = 0
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w, v, c = adam_step(w, v, c, logistic_grad(w, X[batch], y[batch]), t, alpha=alpha)
                        t += 1
                return w
        """,
        "does not pass alpha to adam_step": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w, t = np.zeros(X.shape[1]), 0
                v, c = np.zeros_like(w), np.zeros_like(w)
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        t += 1
                        w, v, c = adam_step(w, v, c, logistic_grad(w, X[batch], y[batch]), t)
                return w
        """,
    },
}

TASK_OF = {cell: f"test_{cell}" for cell in WRONG}

SAYS = {
    "adagrad_step": {
        "eps outside the root": "eps inside the root",
        "no running sum": "keep the running sum",
        "divides by the old sum": "UPDATED sum c_new",
        "updates c in place": "in place",
    },
    "rmsprop_step": {
        "beta and 1 - beta swapped": "beta weights the OLD c",
        "no (1 - beta) factor": "by (1 - beta)",
        "AdaGrad's sum": "AdaGrad's sum",
        "no square root": "take the square root",
    },
    "adam_step": {
        "no bias correction": "bias correction missing",
        "eps inside the root": "eps goes outside the root",
        "returns the corrected moments": "not the corrected v_hat",
        "corrects only the second moment": "only c corrected",
        "corrects only the first moment": "only v corrected",
        "t counted from 0 in the correction": "t is counted from 1",
        "the lecture's ADAM": "add the bias correction",
        "updates v and c in place": "in place",
    },
    "adam_logistic": {
        "restarts the step count every epoch": "count t over the whole run",
        "resets the moments every epoch": "keep v and c",
        "plain SGD": "plain SGD",
        "counts steps from 0": "count the steps from t = 1",
        "does not pass alpha to adam_step": "pass alpha",
    },
}

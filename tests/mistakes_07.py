"""Chapter 7's usual mistakes (07-schedules), in the format that tests/test_grading.py describes."""

CHAPTER = "07-schedules"
POINTS = 10
# No task calls another one.
DEPENDS: dict[str, set[str]] = {}

WRONG = {
    "warmup_cosine": {
        "warm-up off by one": """
            def warmup_cosine(t, alpha0, T_w, T):
                if t < T_w:
                    return alpha0 * t / T_w
                if t > T:
                    return 0.0
                return alpha0 * (1 + np.cos(np.pi * (t - T_w) / (T - T_w))) / 2
        """,
        "cosine over T instead of T - T_w": """
            def warmup_cosine(t, alpha0, T_w, T):
                if t < T_w:
                    return alpha0 * (t + 1) / T_w
                if t > T:
                    return 0.0
                return alpha0 * (1 + np.cos(np.pi * (t - T_w) / T)) / 2
        """,
        "cosine not shifted by T_w": """
            def warmup_cosine(t, alpha0, T_w, T):
                if t < T_w:
                    return alpha0 * (t + 1) / T_w
                if t > T:
                    return 0.0
                return alpha0 * (1 + np.cos(np.pi * t / (T - T_w))) / 2
        """,
        "a jump at the end of the warm-up": """
            def warmup_cosine(t, alpha0, T_w, T):
                if t < T_w:
                    return alpha0 * (t + 1) / T_w
                if t > T:
                    return 0.0
                return alpha0 * (1 + np.cos(np.pi * t / T)) / 2
        """,
        "the cosine goes on after T": """
            def warmup_cosine(t, alpha0, T_w, T):
                if t < T_w:
                    return alpha0 * (t + 1) / T_w
                return alpha0 * (1 + np.cos(np.pi * (t - T_w) / (T - T_w))) / 2
        """,
    },
    "nesterov_step": {
        "the heavy ball (gradient at x)": """
            def nesterov_step(x, v, grad_f, alpha, mu):
                v_new = mu * v - alpha * grad_f(x)
                return x + v_new, v_new
        """,
        "gradient at x + v": """
            def nesterov_step(x, v, grad_f, alpha, mu):
                v_new = mu * v - alpha * grad_f(x + v)
                return x + v_new, v_new
        """,
        "gradient at x - mu v": """
            def nesterov_step(x, v, grad_f, alpha, mu):
                v_new = mu * v - alpha * grad_f(x - mu * v)
                return x + v_new, v_new
        """,
        "mu applied after the gradient": """
            def nesterov_step(x, v, grad_f, alpha, mu):
                v_new = mu * (v - alpha * grad_f(x + mu * v))
                return x + v_new, v_new
        """,
        "adds the gradient": """
            def nesterov_step(x, v, grad_f, alpha, mu):
                v_new = mu * v + alpha * grad_f(x + mu * v)
                return x + v_new, v_new
        """,
        "x minus v_new": """
            def nesterov_step(x, v, grad_f, alpha, mu):
                v_new = mu * v - alpha * grad_f(x + mu * v)
                return x - v_new, v_new
        """,
    },
    "adamw_step": {
        "l2 under Adam (gamma w added to g)": """
            def adamw_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                           gamma=0.01):
                g = g + gamma * w
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                v_hat, c_hat = v_new / (1 - beta1**t), c_new / (1 - beta2**t)
                return w - alpha * v_hat / (np.sqrt(c_hat) + eps), v_new, c_new
        """,
        "decay without alpha": """
            def adamw_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                           gamma=0.01):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                v_hat, c_hat = v_new / (1 - beta1**t), c_new / (1 - beta2**t)
                w_new = (1 - gamma) * w - alpha * v_hat / (np.sqrt(c_hat) + eps)
                return w_new, v_new, c_new
        """,
        "decays the new w": """
            def adamw_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                           gamma=0.01):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                v_hat, c_hat = v_new / (1 - beta1**t), c_new / (1 - beta2**t)
                w_new = w - alpha * v_hat / (np.sqrt(c_hat) + eps)
                return (1 - alpha * gamma) * w_new, v_new, c_new
        """,
        "no bias correction": """
            def adamw_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                           gamma=0.01):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                w_new = (1 - alpha * gamma) * w - alpha * v_new / (np.sqrt(c_new) + eps)
                return w_new, v_new, c_new
        """,
    },
    "power_iteration": {
        "no normalisation": """
            def power_iteration(hvp, v0, iters):
                v = v0
                for _ in range(iters):
                    v = hvp(v)
                return float(v @ hvp(v)), v
        """,
        "lam = ||H v||": """
            def power_iteration(hvp, v0, iters):
                v = v0 / np.linalg.norm(v0)
                for _ in range(iters):
                    Hv = hvp(v)
                    v = Hv / np.linalg.norm(Hv)
                return float(np.linalg.norm(hvp(v))), v
        """,
        "returns H v instead of v": """
            def power_iteration(hvp, v0, iters):
                v = v0 / np.linalg.norm(v0)
                for _ in range(iters):
                    Hv = hvp(v)
                    v = Hv / np.linalg.norm(Hv)
                Hv = hvp(v)
                return float(v @ Hv), Hv
        """,
        "normalises only at the end": """
            def power_iteration(hvp, v0, iters):
                v = v0
                for _ in range(iters):
                    v = hvp(v)
                v = v / np.linalg.norm(v)
                return float(v @ hvp(v)), v
        """,
    },
    "hvp_central": {
        "forward difference": """
            def hvp_central(grad_f, w, v, h):
                return (grad_f(w + h * v) - grad_f(w)) / h
        """,
        "missing the 2": """
            def hvp_central(grad_f, w, v, h):
                return (grad_f(w + h * v) - grad_f(w - h * v)) / h
        """,
        "the two gradients swapped": """
            def hvp_central(grad_f, w, v, h):
                return (grad_f(w - h * v) - grad_f(w + h * v)) / (2 * h)
        """,
        "backward difference": """
            def hvp_central(grad_f, w, v, h):
                return (grad_f(w) - grad_f(w - h * v)) / h
        """,
    },
}

TASK_OF = {cell: f"test_{cell}" for cell in WRONG}

SAYS = {
    "warmup_cosine": {
        "warm-up off by one": "(t + 1) / T_w",
        "cosine over T instead of T - T_w": "spans T - T_w steps",
        "cosine not shifted by T_w": "shift the cosine",
        "a jump at the end of the warm-up": "no jump",
        "the cosine goes on after T": "0 after T",
    },
    "nesterov_step": {
        "the heavy ball (gradient at x)": "heavy ball",
        "gradient at x + v": "look ahead by mu * v",
        "gradient at x - mu v": "look AHEAD",
        "mu applied after the gradient": "mu multiplies v only",
        "adds the gradient": "subtract alpha * g",
        "x minus v_new": "x_new = x + v_new",
    },
    "adamw_step": {
        "l2 under Adam (gamma w added to g)": "not g + gamma * w",
        "decay without alpha": "(1 - alpha * gamma)",
        "decays the new w": "decay the OLD w",
        "no bias correction": "bias correction missing",
    },
    "power_iteration": {
        "no normalisation": "normalise v in every iteration",
        "lam = ||H v||": "not ||H v||",
        "returns H v instead of v": "return v, not H v",
        "normalises only at the end": "overflowed",
    },
    "hvp_central": {
        "forward difference": "central difference",
        "missing the 2": "divide by 2 h",
        "the two gradients swapped": "the sign is flipped",
        "backward difference": "central difference",
    },
}

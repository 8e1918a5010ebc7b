"""Chapter 8's usual mistakes (08-pytorch), in the format that tests/test_grading.py describes.

A solution cell of this chapter holds the student's code and, below it, given functions that
the tests call (the grader exchanges numbers only, never tensors or modules). Each wrong
answer replaces the whole cell, so it is built here from the student's part and the cell's
given part, which is the source notebook's text, unchanged.
"""

CHAPTER = "08-pytorch"
POINTS = 8
# No task calls another one.
DEPENDS: dict[str, set[str]] = {}

SGDEM_HEAD = '''class SGDEM(torch.optim.Optimizer):
    """SGD with early momentum: heavy-ball momentum for each parameter's first T0
    updates, plain SGD after them."""

    def __init__(self, params, lr=0.01, momentum=0.9, T0=0):
        super().__init__(params, dict(lr=lr, momentum=momentum, T0=T0))
'''

SGDEM_GIVEN = '''

# ---- given: the tests call these three (they send and get back numbers only) ----
def run_sgdem(w0, grads, lrs, momentum, T0):
    """w_0, ..., w_T of your SGDEM from w0, fed the gradient grads[t] and the step
    size lrs[t] at update t (as a scheduler sets it): an array (T + 1, d)."""
    w = torch.nn.Parameter(torch.tensor(w0, dtype=DTYPE))
    opt = SGDEM([w], lr=lrs[0], momentum=momentum, T0=T0)
    path = [w.detach().clone()]
    for g, lr in zip(grads, lrs):
        opt.param_groups[0]["lr"] = lr
        w.grad = torch.tensor(g, dtype=DTYPE)
        opt.step()
        path.append(w.detach().clone())
    return torch.stack(path).numpy()


def run_groups(a0, b0, grads_a, grads_b, b_options):
    """Parameters a and b in two param groups: a's takes the defaults lr=0.1,
    momentum=0.5, T0=2; b's sets its own b_options (a dict). The final (a, b)."""
    a = torch.nn.Parameter(torch.tensor(a0, dtype=DTYPE))
    b = torch.nn.Parameter(torch.tensor(b0, dtype=DTYPE))
    groups = [{"params": [a]}, {"params": [b], **b_options}]
    opt = SGDEM(groups, lr=0.1, momentum=0.5, T0=2)
    for ga, gb in zip(grads_a, grads_b):
        a.grad, b.grad = torch.tensor(ga, dtype=DTYPE), torch.tensor(gb, dtype=DTYPE)
        opt.step()
    return a.detach().numpy().copy(), b.detach().numpy().copy()


def run_unused(a0, b0, grads_a, grads_b, first_b, lr, momentum, T0):
    """Parameters a and b in one param group; b.grad is None at the updates before
    update first_b (b is not used there). The final (a, b) and len(state of b)."""
    a = torch.nn.Parameter(torch.tensor(a0, dtype=DTYPE))
    b = torch.nn.Parameter(torch.tensor(b0, dtype=DTYPE))
    opt = SGDEM([a, b], lr=lr, momentum=momentum, T0=T0)
    for t, (ga, gb) in enumerate(zip(grads_a, grads_b)):
        a.grad = torch.tensor(ga, dtype=DTYPE)
        b.grad = None if t < first_b else torch.tensor(gb, dtype=DTYPE)
        opt.step()
    return a.detach().numpy().copy(), b.detach().numpy().copy(), len(opt.state[b])'''

TRAIN_DEF = '''def train(model, opt, X, y, batch_size, epochs, seed):
    """Minibatch training of model with opt on (X, y): the loss of every step."""
'''

TRAIN_GIVEN = '''

# ---- given: the test calls this one ----
def train_small_net(X, y, batch_size, epochs, seed, lr, n_hidden=4, n_classes=3):
    """Train a SmallNet (its fixed start) with torch.optim.SGD and your train:
    returns (the losses as an array, the final weights as a dict of arrays)."""
    X, y = torch.tensor(X, dtype=DTYPE), torch.tensor(y, dtype=torch.int64)
    model = SmallNet(X.shape[1], n_hidden, n_classes)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = train(model, opt, X, y, batch_size, epochs, seed)
    weights = {k: p.detach().numpy().copy() for k, p in model.named_parameters()}
    if losses is None:
        return None, weights
    return np.array([float(loss) for loss in losses]), weights'''


def _indent(text: str, spaces: int = 4) -> str:
    import textwrap
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces)


def sgdem(step: str) -> str:
    """A whole SGDEM cell whose step method is `step` (written at any indentation)."""
    return SGDEM_HEAD + "\n" + _indent(step) + "\n" + SGDEM_GIVEN


def train(body: str) -> str:
    """A whole train cell whose function body is `body`."""
    return TRAIN_DEF + _indent(body) + "\n" + TRAIN_GIVEN


ALLREDUCE = '''
    def allreduce_mean(grads):
        return np.mean(np.stack([np.asarray(g, dtype=float) for g in grads]), axis=0)
'''

PROCESS = '''
    def process_grads(W, X, y, P):
        N = len(y)
        if N % P:
            raise ValueError(f"{N} examples do not split into {P} equal slices")
        X, y, s = torch.tensor(X, dtype=DTYPE), torch.tensor(y), N // P
        grads = []
        for r in range(P):
            W_r = torch.tensor(W, dtype=DTYPE, requires_grad=True)
            loss = F.cross_entropy(X[r * s:(r + 1) * s] @ W_r, y[r * s:(r + 1) * s])
            loss.backward()
            grads.append(W_r.grad.numpy())
        return grads
'''

COMBINE = '''
    def data_parallel_grad(W, X, y, P):
        return allreduce_mean(process_grads(W, X, y, P))
'''


def data_parallel(allreduce: str = ALLREDUCE, process: str = PROCESS,
                  combine: str = COMBINE) -> str:
    """A whole task-3 cell: the three functions, each right unless given."""
    return "\n\n\n".join(_indent(part, 0) for part in (allreduce, process, combine))


WRONG = {
    "sgdem": {
        "no torch.no_grad()": sgdem('''
            def step(self):
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        if w.grad is None:
                            continue
                        state = self.state[w]
                        if not state:
                            state["step"] = 0
                            state["velocity"] = torch.zeros_like(w)
                        if state["step"] < T0:
                            v = state["velocity"]
                            v.mul_(mu).sub_(lr * w.grad)
                            w.add_(v)
                        else:
                            w.sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "the old velocity still added after T0": sgdem('''
            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        if w.grad is None:
                            continue
                        state = self.state[w]
                        if not state:
                            state["step"] = 0
                            state["velocity"] = torch.zeros_like(w)
                        v = state["velocity"]
                        if state["step"] < T0:
                            v.mul_(mu).sub_(lr * w.grad)
                            w.add_(v)
                        else:
                            v.mul_(mu)
                            w.add_(v).sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "the velocity reset at every step": sgdem('''
            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        if w.grad is None:
                            continue
                        state = self.state[w]
                        state.setdefault("step", 0)
                        state["velocity"] = torch.zeros_like(w)
                        if state["step"] < T0:
                            v = state["velocity"]
                            v.mul_(mu).sub_(lr * w.grad)
                            w.add_(v)
                        else:
                            w.sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "the switch one step late (t <= T0)": sgdem('''
            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        if w.grad is None:
                            continue
                        state = self.state[w]
                        if not state:
                            state["step"] = 0
                            state["velocity"] = torch.zeros_like(w)
                        if state["step"] <= T0:
                            v = state["velocity"]
                            v.mul_(mu).sub_(lr * w.grad)
                            w.add_(v)
                        else:
                            w.sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "lr outside the velocity (torch SGD's form)": sgdem('''
            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        if w.grad is None:
                            continue
                        state = self.state[w]
                        if not state:
                            state["step"] = 0
                            state["velocity"] = torch.zeros_like(w)
                        if state["step"] < T0:
                            b = state["velocity"]
                            b.mul_(mu).add_(w.grad)
                            w.sub_(lr * b)
                        else:
                            w.sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "the defaults instead of the group's options": sgdem('''
            @torch.no_grad()
            def step(self):
                lr, mu, T0 = self.defaults["lr"], self.defaults["momentum"], self.defaults["T0"]
                for group in self.param_groups:
                    for w in group["params"]:
                        if w.grad is None:
                            continue
                        state = self.state[w]
                        if not state:
                            state["step"] = 0
                            state["velocity"] = torch.zeros_like(w)
                        if state["step"] < T0:
                            v = state["velocity"]
                            v.mul_(mu).sub_(lr * w.grad)
                            w.add_(v)
                        else:
                            w.sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "no skip of a w.grad that is None": sgdem('''
            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        state = self.state[w]
                        if not state:
                            state["step"] = 0
                            state["velocity"] = torch.zeros_like(w)
                        if state["step"] < T0:
                            v = state["velocity"]
                            v.mul_(mu).sub_(lr * w.grad)
                            w.add_(v)
                        else:
                            w.sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "state made for a parameter without a gradient": sgdem('''
            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        state = self.state[w]
                        if not state:
                            state["step"] = 0
                            state["velocity"] = torch.zeros_like(w)
                        if w.grad is None:
                            continue
                        if state["step"] < T0:
                            v = state["velocity"]
                            v.mul_(mu).sub_(lr * w.grad)
                            w.add_(v)
                        else:
                            w.sub_(lr * w.grad)
                        state["step"] += 1
        '''),
        "one velocity shared by every parameter": sgdem('''
            @torch.no_grad()
            def step(self):
                if not hasattr(self, "t"):
                    self.t, self.v = 0, 0.0
                for group in self.param_groups:
                    lr, mu, T0 = group["lr"], group["momentum"], group["T0"]
                    for w in group["params"]:
                        if w.grad is None:
                            continue
                        if self.t < T0:
                            self.v = mu * self.v - lr * w.grad
                            w.add_(self.v)
                        else:
                            w.sub_(lr * w.grad)
                self.t += 1
        '''),
    },
    "train": {
        "zero_grad forgotten (the gradients add up)": train('''
            rng = np.random.default_rng(seed)
            N, losses = len(y), []
            for epoch in range(epochs):
                order = rng.permutation(N)
                for start in range(0, N, batch_size):
                    idx = torch.as_tensor(order[start:start + batch_size])
                    loss = F.cross_entropy(model(X[idx]), y[idx])
                    loss.backward()
                    opt.step()
                    losses.append(loss.item())
            return losses
        '''),
        "zero_grad after backward (no step moves)": train('''
            rng = np.random.default_rng(seed)
            N, losses = len(y), []
            for epoch in range(epochs):
                order = rng.permutation(N)
                for start in range(0, N, batch_size):
                    idx = torch.as_tensor(order[start:start + batch_size])
                    loss = F.cross_entropy(model(X[idx]), y[idx])
                    loss.backward()
                    opt.zero_grad()
                    opt.step()
                    losses.append(loss.item())
            return losses
        '''),
        "the same order every epoch": train('''
            N, losses = len(y), []
            for epoch in range(epochs):
                order = np.random.default_rng(seed).permutation(N)
                for start in range(0, N, batch_size):
                    idx = torch.as_tensor(order[start:start + batch_size])
                    opt.zero_grad()
                    loss = F.cross_entropy(model(X[idx]), y[idx])
                    loss.backward()
                    opt.step()
                    losses.append(loss.item())
            return losses
        '''),
        "no shuffling": train('''
            N, losses = len(y), []
            for epoch in range(epochs):
                order = np.arange(N)
                for start in range(0, N, batch_size):
                    idx = torch.as_tensor(order[start:start + batch_size])
                    opt.zero_grad()
                    loss = F.cross_entropy(model(X[idx]), y[idx])
                    loss.backward()
                    opt.step()
                    losses.append(loss.item())
            return losses
        '''),
        "the last, smaller batch dropped": train('''
            rng = np.random.default_rng(seed)
            N, losses = len(y), []
            for epoch in range(epochs):
                order = rng.permutation(N)
                for start in range(0, N - batch_size + 1, batch_size):
                    idx = torch.as_tensor(order[start:start + batch_size])
                    opt.zero_grad()
                    loss = F.cross_entropy(model(X[idx]), y[idx])
                    loss.backward()
                    opt.step()
                    losses.append(loss.item())
            return losses
        '''),
        "sum instead of mean": train('''
            rng = np.random.default_rng(seed)
            N, losses = len(y), []
            for epoch in range(epochs):
                order = rng.permutation(N)
                for start in range(0, N, batch_size):
                    idx = torch.as_tensor(order[start:start + batch_size])
                    opt.zero_grad()
                    loss = F.cross_entropy(model(X[idx]), y[idx], reduction="sum")
                    loss.backward()
                    opt.step()
                    losses.append(loss.item())
            return losses
        '''),
    },
    "data_parallel": {
        "the sum of the gradients, not their mean": data_parallel(allreduce='''
            def allreduce_mean(grads):
                return np.sum(np.stack([np.asarray(g, dtype=float) for g in grads]), axis=0)
        '''),
        "only rank 0's gradient": data_parallel(combine='''
            def data_parallel_grad(W, X, y, P):
                return process_grads(W, X, y, P)[0]
        '''),
        "slices of unequal size (no ValueError)": data_parallel(process='''
            def process_grads(W, X, y, P):
                grads = []
                for rows in np.array_split(np.arange(len(y)), P):
                    W_r = torch.tensor(W, dtype=DTYPE, requires_grad=True)
                    X_r, y_r = torch.tensor(X[rows], dtype=DTYPE), torch.tensor(y[rows])
                    F.cross_entropy(X_r @ W_r, y_r).backward()
                    grads.append(W_r.grad.numpy())
                return grads
        '''),
        "the summed loss on each slice": data_parallel(process='''
            def process_grads(W, X, y, P):
                N = len(y)
                if N % P:
                    raise ValueError(f"{N} examples do not split into {P} equal slices")
                X, y, s = torch.tensor(X, dtype=DTYPE), torch.tensor(y), N // P
                grads = []
                for r in range(P):
                    W_r = torch.tensor(W, dtype=DTYPE, requires_grad=True)
                    loss = F.cross_entropy(X[r * s:(r + 1) * s] @ W_r, y[r * s:(r + 1) * s],
                                           reduction="sum")
                    loss.backward()
                    grads.append(W_r.grad.numpy())
                return grads
        '''),
        "every process takes the whole batch (no slices)": data_parallel(process='''
            def process_grads(W, X, y, P):
                if len(y) % P:
                    raise ValueError(f"{len(y)} examples do not split into {P} slices")
                grads = []
                for r in range(P):
                    W_r = torch.tensor(W, dtype=DTYPE, requires_grad=True)
                    F.cross_entropy(torch.tensor(X) @ W_r, torch.tensor(y)).backward()
                    grads.append(W_r.grad.numpy())
                return grads
        '''),
        "tensors returned (W_r.grad without .numpy())": data_parallel(allreduce='''
            def allreduce_mean(grads):
                return sum(grads) / len(grads)
        ''', process='''
            def process_grads(W, X, y, P):
                N = len(y)
                if N % P:
                    raise ValueError(f"{N} examples do not split into {P} equal slices")
                X, y, s = torch.tensor(X, dtype=DTYPE), torch.tensor(y), N // P
                grads = []
                for r in range(P):
                    W_r = torch.tensor(W, dtype=DTYPE, requires_grad=True)
                    loss = F.cross_entropy(X[r * s:(r + 1) * s] @ W_r, y[r * s:(r + 1) * s])
                    loss.backward()
                    grads.append(W_r.grad)
                return grads
        '''),
        "summed in place into grads[0]": data_parallel(allreduce='''
            def allreduce_mean(grads):
                total = np.asarray(grads[0], dtype=float)
                for g in grads[1:]:
                    total += g
                return total / len(grads)
        '''),
    },
    "scaled_lr": {
        "P forgotten (the per-process batch)": '''
            def scaled_lr(lr, B0, B, P):
                return lr * B / B0
        ''',
        "B / B0 forgotten (scaled by P only)": '''
            def scaled_lr(lr, B0, B, P):
                return lr * P
        ''',
        "square-root scaling": '''
            def scaled_lr(lr, B0, B, P):
                return lr * (P * B / B0) ** 0.5
        ''',
        "the ratio upside down": '''
            def scaled_lr(lr, B0, B, P):
                return lr * B0 / (P * B)
        ''',
    },
}

TASK_OF = {cell: f"test_{cell}" for cell in WRONG}

SAYS = {
    "sgdem": {
        "no torch.no_grad()": "torch.no_grad",
        "the old velocity still added after T0": "drop the velocity",
        "the velocity reset at every step": "between steps",
        "the switch one step late (t <= T0)": "only while t < T0",
        "lr outside the velocity (torch SGD's form)": "put lr inside the velocity",
        "the defaults instead of the group's options": "param group",
        "no skip of a w.grad that is None": "skip every parameter whose w.grad is None",
        "state made for a parameter without a gradient": "make no state",
        "one velocity shared by every parameter": "per parameter",
    },
    "train": {
        "zero_grad forgotten (the gradients add up)": "zero_grad",
        "zero_grad after backward (no step moves)": "before loss.backward()",
        "the same order every epoch": "new permutation",
        "no shuffling": "shuffle",
        "the last, smaller batch dropped": "last, smaller batch",
        "sum instead of mean": "mean over the batch",
    },
    "data_parallel": {
        "the sum of the gradients, not their mean": "divide by P",
        "only rank 0's gradient": "average all P gradients",
        "slices of unequal size (no ValueError)": "ValueError",
        "the summed loss on each slice": "mean loss",
        "every process takes the whole batch (no slices)": "only its slice",
        "tensors returned (W_r.grad without .numpy())": "NumPy arrays",
        "summed in place into grads[0]": "new array",
    },
    "scaled_lr": {
        "P forgotten (the per-process batch)": "global batch",
        "B / B0 forgotten (scaled by P only)": "B / B0",
        "square-root scaling": "linearly",
        "the ratio upside down": "grow with",
    },
}

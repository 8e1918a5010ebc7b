"""The book's optimizers for PyTorch, and data-parallel training with them (the ``torch`` extra).

    pip install "descentlab[torch] @ git+https://github.com/descentlab/backprop-optimization"
    from descentlab import torch as dtorch

Only this module needs PyTorch; ``import descentlab`` never imports it.

- :class:`SGDEM`, :class:`HeavyBall` and :class:`LectureAdam` are ``torch.optim.Optimizer``
  subclasses: param groups, ``state_dict``/``load_state_dict`` and the schedulers of
  ``torch.optim.lr_scheduler`` work as for any torch optimizer. Each is the update of its
  NumPy twin in :mod:`descentlab.optim` (the same formulas, line for line; tested to 1e-12 in
  float64). torch.optim has no SGDEM and no lecture-form ADAM, and its SGD(momentum) keeps
  the learning rate outside the velocity, so with a schedule it is not the lecture's heavy ball.
- :class:`MLP` is the book's network (``z = a W + b``, W of shape (n_in, n_out)) as a
  ``torch.nn.Module``; :func:`from_numpy` copies a :class:`descentlab.nn.MLP`'s weights into it.
- :func:`data_parallel` trains with DistributedDataParallel on the gloo backend in
  ``world_size`` processes on this machine; :func:`single_process` is the same run in one process
  with the global batch, the reference it must equal.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SGDEM", "HeavyBall", "LectureAdam", "MLP", "from_numpy", "to_numpy", "schedule_lr",
           "data_parallel", "single_process", "scaled_lr"]


def _closure_loss(closure):
    """torch's closure convention: re-evaluate the loss (with gradients) before the step."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class SGDEM(torch.optim.Optimizer):
    """SGD with early momentum, :class:`descentlab.optim.SGDEM` for torch:

        t < T0:   v_{t+1} = mu v_t - lr g_t,   w_{t+1} = w_t + v_{t+1}   (v_0 = 0)
        t >= T0:  w_{t+1} = w_t - lr g_t                                (the velocity is no longer used)

    t = 0, 1, ... counts the updates made so far (per parameter, in ``state["step"]``); lr is read
    from the param group at every step, so a scheduler changes it. T0=None never switches: the
    heavy ball. T0 = 0 (the default, as in descentlab.optim.SGDEM) is plain SGD.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, T0: int | None = 0):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        if T0 is not None and T0 < 0:
            raise ValueError(f"T0 counts steps and cannot be negative, got {T0}")
        super().__init__(params, dict(lr=lr, momentum=momentum, T0=T0))

    @torch.no_grad()
    def step(self, closure=None):
        loss = _closure_loss(closure)
        for options in self.param_groups:            # each param group with its own settings
            lr, mu, T0 = options["lr"], options["momentum"], options["T0"]
            for w in options["params"]:
                if w.grad is None:
                    continue
                state = self.state[w]
                if not state:
                    state["step"] = 0
                    state["velocity"] = torch.zeros_like(w)
                if T0 is None or state["step"] < T0:
                    v = state["velocity"]
                    v.mul_(mu).sub_(lr * w.grad)            # v = mu v - lr g
                    w.add_(v)                               # w = w + v
                else:
                    w.sub_(lr * w.grad)                     # w = w - lr g
                state["step"] += 1
        return loss


class HeavyBall(SGDEM):
    """The lecture's heavy ball, v_t = mu v_{t-1} - lr g_t, w_{t+1} = w_t + v_t (SGDEM that never switches).

    torch.optim.SGD(momentum=mu) steps w -= lr b_t with b_t = mu b_{t-1} + g_t: the same points for
    a constant lr, different ones once a scheduler changes lr (here lr scales only the new gradient).
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(params, lr=lr, momentum=momentum, T0=None)


class LectureAdam(torch.optim.Optimizer):
    """The lecture's "ADAM", :class:`descentlab.optim.LectureAdam` for torch:

        c_t = beta c_{t-1} + (1 - beta) g_t * g_t
        v_t = mu v_{t-1} - lr g_t / sqrt(c_t + eps)        (c_0 = v_0 = 0, eps inside the root)
        w_{t+1} = w_t + v_t
    """

    def __init__(self, params, lr: float = 0.001, beta: float = 0.999, momentum: float = 0.9, eps: float = 1e-6):
        super().__init__(params, dict(lr=lr, beta=beta, momentum=momentum, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = _closure_loss(closure)
        for options in self.param_groups:
            lr, beta, mu, eps = options["lr"], options["beta"], options["momentum"], options["eps"]
            for w in options["params"]:
                if w.grad is None:
                    continue
                g, state = w.grad, self.state[w]
                if not state:
                    state["step"] = 0
                    state["c"] = torch.zeros_like(w)
                    state["velocity"] = torch.zeros_like(w)
                c, v = state["c"], state["velocity"]
                c.mul_(beta).add_((1 - beta) * g * g)
                v.mul_(mu).sub_(lr * g / torch.sqrt(c + eps))
                w.add_(v)
                state["step"] += 1
        return loss


def schedule_lr(optimizer: torch.optim.Optimizer, schedule) -> torch.optim.lr_scheduler.LambdaLR:
    """A torch scheduler that sets lr = schedule(t) before update t = 0, 1, ... (a descentlab schedule).

    Every param group gets this same lr (their own lr values are replaced); for groups with
    different steps, use torch's LambdaLR with one factor function per group.

    Call ``scheduler.step()`` after each ``optimizer.step()``, as for any torch scheduler. To resume
    from a checkpoint, make the optimizer and this scheduler first, then load both states (the
    optimizer's holds the current lr; a scheduler made after loading would reset it to schedule(0))."""
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] = 1.0
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda t: float(schedule(t)))


class MLP(nn.Module):
    """The book's MLP in torch: z^[l] = a^[l-1] W^[l] + b^[l], W^[l]: (n^[l-1], n^[l]), a linear last layer.

    Parameters are named W1, b1, ..., WL, bL as in descentlab.nn.MLP. float64 by default, so that
    it can be compared with descentlab to 1e-12.
    """

    ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}

    def __init__(self, sizes, activation: str = "relu", dtype=torch.float64):
        super().__init__()
        self.sizes, self.g = list(sizes), self.ACTIVATIONS[activation]
        for l in range(1, len(sizes)):
            self.register_parameter(f"W{l}", nn.Parameter(torch.zeros(sizes[l - 1], sizes[l], dtype=dtype)))
            self.register_parameter(f"b{l}", nn.Parameter(torch.zeros(sizes[l], dtype=dtype)))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X: (B, n^[0]) -> Z^[L]: (B, n^[L])."""
        L, a = len(self.sizes) - 1, X
        for l in range(1, L + 1):
            z = a @ getattr(self, f"W{l}") + getattr(self, f"b{l}")
            a = z if l == L else self.g(z)
        return a


def from_numpy(model, activation: str | None = None, dtype=torch.float64) -> MLP:
    """A torch :class:`MLP` holding a copy of a descentlab.nn.MLP's weights (same names and shapes)."""
    net = MLP(model.sizes, activation or model.g.name, dtype)
    with torch.no_grad():
        for k, p in net.named_parameters():
            p.copy_(torch.as_tensor(model.params[k]))
    return net


def to_numpy(module: nn.Module) -> dict:
    """The module's parameters as a dict name -> NumPy array (copies)."""
    return {k: p.detach().cpu().numpy().copy() for k, p in module.named_parameters()}


# ---- data parallelism ------------------------------------------------------------------------

def _optimizer(name: str, params, **hyper):
    return {"SGDEM": SGDEM, "HeavyBall": HeavyBall, "LectureAdam": LectureAdam,
            "SGD": torch.optim.SGD}[name](params, **hyper)


def _train(net, opt, X, y, batches, rank: int, world_size: int):
    """The loop each process runs: its slice of every global batch, backward, step."""
    losses = []
    for idx in batches:
        mine = idx[rank * len(idx) // world_size:(rank + 1) * len(idx) // world_size]
        opt.zero_grad()
        loss = F.cross_entropy(net(X[mine]), y[mine])
        loss.backward()                     # under DDP: the gradients are all-reduced (averaged) here
        opt.step()
        losses.append(loss.item())
    return losses


def _worker(rank: int, world_size: int, init_file: str, spec: dict, out: str):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        net = MLP(spec["sizes"], spec["activation"])
        with torch.no_grad():
            for k, p in net.named_parameters():
                p.copy_(torch.as_tensor(spec["params"][k]))
        ddp = DistributedDataParallel(net)
        opt = _optimizer(spec["optimizer"], ddp.parameters(), **spec["hyper"])
        X, y = torch.as_tensor(spec["X"]), torch.as_tensor(spec["y"])
        losses = _train(ddp, opt, X, y, spec["batches"], rank, world_size)
        velocities = {k: opt.state[p]["velocity"].numpy().copy() for k, p in net.named_parameters()
                      if "velocity" in opt.state.get(p, {})}
        torch.save({"params": to_numpy(net), "losses": losses, "velocities": velocities}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def _spec(model, X, y, batches, optimizer, hyper):
    return {"sizes": model.sizes, "activation": model.g.name, "params": {k: np.array(v) for k, v in model.params.items()},
            "X": np.asarray(X, dtype=np.float64), "y": np.asarray(y, dtype=np.int64),
            "batches": [np.asarray(b) for b in batches], "optimizer": optimizer, "hyper": dict(hyper)}


def data_parallel(model, X, y, batches, world_size: int = 2, optimizer: str = "SGDEM", **hyper) -> dict:
    """Train a copy of descentlab MLP ``model`` with DistributedDataParallel on ``world_size`` processes.

    batches: a list of index arrays, one GLOBAL batch per step (length world_size * B); process r
    takes the r-th slice of B. DDP divides each process's gradient by world_size and the gloo
    backend's all-reduce sums them: every process gets the mean and makes the same update. optimizer: "SGDEM", "HeavyBall",
    "LectureAdam" or "SGD" with its hyper-parameters (lr, momentum, T0, ...). Returns
    {"params": the final weights (rank 0's), "losses": rank 0's loss on its slice per step,
    "ranks": one {"params", "losses", "velocities"} per rank}. Uses spawned processes, so it
    works from a notebook (in a script, call it under ``if __name__ == "__main__":``); each
    process imports torch, so a call takes a few seconds however short the run.
    """
    if any(len(b) % world_size for b in batches):
        raise ValueError(f"every global batch must split evenly over {world_size} processes")
    spec = _spec(model, X, y, batches, optimizer, hyper)
    saved = os.environ.get("GLOO_SOCKET_IFNAME")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")      # this machine's loopback, for the children
    try:
        return _spawn(world_size, spec)
    finally:
        if saved is None:
            os.environ.pop("GLOO_SOCKET_IFNAME", None)


def _spawn(world_size: int, spec: dict) -> dict:
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        out, init = str(Path(tmp) / "result.pt"), str(Path(tmp) / "rendezvous")
        mp.start_processes(_worker, args=(world_size, init, spec, out), nprocs=world_size,
                           join=True, start_method="spawn")
        ranks = [torch.load(f"{out}.{r}", weights_only=False) for r in range(world_size)]
        return {"params": ranks[0]["params"], "losses": ranks[0]["losses"], "ranks": ranks}


def single_process(model, X, y, batches, optimizer: str = "SGDEM", **hyper) -> dict:
    """The reference for :func:`data_parallel`: one process, each global batch whole."""
    spec = _spec(model, X, y, batches, optimizer, hyper)
    net = from_numpy(model)
    opt = _optimizer(optimizer, net.parameters(), **hyper)
    losses = _train(net, opt, torch.as_tensor(spec["X"]), torch.as_tensor(spec["y"]), spec["batches"], 0, 1)
    return {"params": to_numpy(net), "losses": losses}


def scaled_lr(lr: float, B0: int, B_per_process: int, world_size: int) -> float:
    """The linear scaling rule for data parallelism: the global batch is world_size * B_per_process,
    so lr = lr * world_size * B_per_process / B0 (descentlab.schedules.linear_scaling)."""
    from .schedules import linear_scaling
    return linear_scaling(lr, B0, world_size * B_per_process)


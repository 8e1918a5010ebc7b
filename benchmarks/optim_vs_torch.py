"""Time one optimizer update of descentlab against torch.optim on the same parameters.

    .venv/bin/python benchmarks/optim_vs_torch.py            # the full table
    .venv/bin/python benchmarks/optim_vs_torch.py --quick    # one size, fewer repeats

An update is what happens after back propagation: the new parameters from the old
ones, the gradients and the optimizer state. descentlab's optimizers are pure (they
return new arrays); torch's work in place (foreach kernels where available). The
parameters are those of an MLP [784, width, width, 10], float32, single-threaded.
For each optimizer and size it prints the median time per update, the ratio
descentlab / PyTorch (below 1: descentlab is faster), and descentlab's memory
traffic as a share of this machine's measured copy bandwidth, the limit of an
update, which reads and writes each array a few times and computes little.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from descentlab import optim  # noqa: E402

# (name, descentlab optimizer, torch constructor, arrays read + written per parameter by descentlab)
METHODS = [
    ("SGD", lambda: optim.SGD(0.01), lambda t, p: t.optim.SGD(p, lr=0.01), 3),
    ("Momentum", lambda: optim.Momentum(0.01, 0.9), lambda t, p: t.optim.SGD(p, lr=0.01, momentum=0.9), 5),
    ("RMSProp", lambda: optim.RMSProp(0.001, 0.9, 1e-6), lambda t, p: t.optim.RMSprop(p, lr=0.001, alpha=0.9), 5),
    ("Adam", lambda: optim.Adam(0.001), lambda t, p: t.optim.Adam(p, lr=0.001), 7),
]


def copy_bandwidth(n: int = 1 << 24) -> float:
    """Measured GB/s of a large float32 copy (read + write)."""
    a, b = np.ones(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    best = min(_timed(lambda: np.copyto(b, a)) for _ in range(5))
    return 2 * a.nbytes / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def shapes(width: int):
    sizes = [784, width, width, 10]
    out = {}
    for l in range(1, len(sizes)):
        out[f"W{l}"], out[f"b{l}"] = (sizes[l - 1], sizes[l]), (sizes[l],)
    return out


def bench(width: int, repeats: int, torch) -> list[tuple]:
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(s, dtype=np.float32) for k, s in shapes(width).items()}
    grads = {k: rng.standard_normal(s, dtype=np.float32) * 0.01 for k, s in shapes(width).items()}
    n = sum(p.size for p in params.values())
    rows = []
    for name, ours, theirs, traffic in METHODS:
        opt = ours()
        state = opt.init(params)
        p = dict(params)
        t_ours = []
        for _ in range(repeats):
            start = time.perf_counter()
            p, state = opt.update(p, grads, state)
            t_ours.append(time.perf_counter() - start)
        tp = [torch.tensor(v) for v in params.values()]
        for t, g in zip(tp, grads.values()):
            t.grad = torch.tensor(g)
        topt = theirs(torch, tp)
        t_torch = []
        with torch.no_grad():
            for _ in range(repeats):
                start = time.perf_counter()
                topt.step()
                t_torch.append(time.perf_counter() - start)
        a, b = statistics.median(t_ours[1:]), statistics.median(t_torch[1:])
        rows.append((name, width, n, a * 1e3, b * 1e3, a / b, traffic * 4 * n / a / 1e9))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one size, fewer repeats")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    widths, repeats = ((256,), 11) if args.quick else ((256, 1024), 31)
    bw = copy_bandwidth()
    print(f"single-threaded copy bandwidth: {bw:.1f} GB/s")
    print(f"{'optimizer':<9} {'width':>6} {'parameters':>11} {'descentlab ms':>14} {'PyTorch ms':>11} {'ratio':>6} {'GB/s':>6}")
    for width in widths:
        for name, w, n, a, b, ratio, gbs in bench(width, repeats, torch):
            print(f"{name:<9} {w:>6} {n:>11,} {a:>14.3f} {b:>11.3f} {ratio:>6.2f} {gbs:>6.1f}")


if __name__ == "__main__":
    main()

"""Time one training step of descentlab's MLP against the same network in PyTorch.

    .venv/bin/python benchmarks/mlp_vs_torch.py            # the full table
    .venv/bin/python benchmarks/mlp_vs_torch.py --quick    # two sizes, fewer repeats

A step is forward + softmax cross-entropy + backward + an SGD update, on the CPU,
single-threaded (one BLAS thread for NumPy, torch.set_num_threads(1)), float32,
same initial weights and the same batch in both. The network is
[width] -> width -> width -> 10 with ReLU. For each size it prints the median
time per step of each library, the ratio descentlab / PyTorch (below 1: descentlab
is faster), and the fraction of this machine's measured single-threaded float32
matrix-multiply throughput that descentlab reaches: the physical limit of this
workload, which is almost all matrix products.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from descentlab import losses, nn  # noqa: E402

DTYPE = np.float32
LR = 0.01


def step_flops(sizes, B) -> float:
    """Multiply-adds x 2 of one step: forward A W, backward A^T Delta and Delta W^T (not for layer 1)."""
    fwd = sum(2.0 * B * sizes[l - 1] * sizes[l] for l in range(1, len(sizes)))
    bwd_w = fwd
    bwd_a = sum(2.0 * B * sizes[l - 1] * sizes[l] for l in range(2, len(sizes)))
    return fwd + bwd_w + bwd_a


def matmul_peak(n: int = 1024, repeats: int = 5) -> float:
    """Measured float32 GFLOP/s of one large square matrix product (the machine's ceiling here)."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((n, n), dtype=DTYPE), rng.standard_normal((n, n), dtype=DTYPE)
    A @ B
    best = min(_timed(lambda: A @ B) for _ in range(repeats))
    return 2.0 * n**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def descentlab_step(model, X, labels):
    _, grads = model.loss_and_grad(X, labels, losses.softmax_cross_entropy)
    for k, p in model.params.items():
        p -= LR * grads[k]


def make_torch(model, torch):
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in model.params.items()}
    L = model.L

    def step(X, y):
        h = X
        for l in range(1, L + 1):
            h = torch.addmm(params[f"b{l}"], h, params[f"W{l}"])
            if l < L:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, y)
        loss.backward()
        with torch.no_grad():
            for p in params.values():
                p -= LR * p.grad
                p.grad = None
        return loss

    return step


def bench(fn, steps: int, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two sizes and fewer repeats")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    grid = [(64, 256), (512, 1024)] if args.quick else [(b, w) for b in (64, 512) for w in (64, 256, 1024)]
    repeats = 3 if args.quick else 5
    with threadpool_limits(limits=1):
        blas = next((i for i in threadpool_info() if i["user_api"] == "blas" and "torch" not in i["filepath"]),
                    threadpool_info()[0])
        peak = matmul_peak()
        print(f"NumPy {np.__version__} ({blas['internal_api']} {blas['version']}, {blas.get('architecture', '?')}), "
              f"PyTorch {torch.__version__}; one thread each; float32")
        print(f"measured matmul peak (1024^3, one thread): {peak:.1f} GFLOP/s\n")
        header = (f"{'batch':>6} {'width':>6} {'params':>9} {'descentlab ms':>14} {'PyTorch ms':>11} "
                  f"{'ratio':>6} {'dl GFLOP/s':>11} {'of peak':>8}")
        print(header)
        print("-" * len(header))
        rows = []
        for B, width in grid:
            sizes = [width, width, width, 10]
            rng = np.random.default_rng(0)
            model = nn.MLP(sizes, "relu", rng, dtype=DTYPE)
            X = rng.standard_normal((B, width), dtype=DTYPE)
            labels = rng.integers(0, 10, size=B)
            t_step = make_torch(model, torch)
            Xt, yt = torch.from_numpy(X), torch.from_numpy(labels)
            # the two implementations compute the same loss on the same weights
            same = abs(model.loss(X, labels) - t_step(Xt, yt).item())
            assert same < 1e-4, f"descentlab and PyTorch disagree by {same}"
            steps = max(3, int(2e8 / step_flops(sizes, B)))
            t_dl = bench(lambda: descentlab_step(model, X, labels), steps, repeats)
            t_pt = bench(lambda: t_step(Xt, yt), steps, repeats)
            gflops = step_flops(sizes, B) / t_dl / 1e9
            rows.append((B, width, t_dl / t_pt))
            print(f"{B:>6} {width:>6} {model.num_params:>9,} {1e3 * t_dl:>14.3f} {1e3 * t_pt:>11.3f} "
                  f"{t_dl / t_pt:>6.2f} {gflops:>11.1f} {gflops / peak:>8.0%}")
    slower = [(b, w, r) for b, w, r in rows if r > 1.05]
    print()
    if slower:
        print("descentlab is slower than PyTorch (ratio > 1.05) at: "
              + ", ".join(f"batch {b} width {w} ({r:.2f}x)" for b, w, r in slower))
    else:
        print("descentlab is within 5% of PyTorch or faster at every size.")


if __name__ == "__main__":
    main()

"""The training loop: epochs of mini-batch steps, with a history of losses and accuracies.

    history = train(model, SGD(alpha=0.1), X, y, epochs=20, batch_size=32, rng=rng,
                    X_test=X_test, y_test=y_test)

Per epoch, a fresh permutation splits the N training samples into batches of B
(descentlab.data.minibatches); each batch gives one optimizer step. After every
epoch the full training and test sets are evaluated, so the history holds
R_N(theta) itself, not a running average of batch losses.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import data, losses, optim


@dataclass
class History:
    """One entry per epoch (entry 0 is before training). Accuracies are None for regression."""

    epoch: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)


def evaluate(model, X, y, loss=losses.softmax_cross_entropy) -> tuple[float, float | None]:
    """(R on the whole set, accuracy or None). Classification when y holds integer labels."""
    out = model.forward(X)
    value = loss(out, y)[0]
    y = np.asarray(y)
    acc = float(np.mean(np.argmax(out, axis=1) == y)) if np.issubdtype(y.dtype, np.integer) and y.ndim == 1 else None
    return value, acc


class Progress:
    """A one-line text progress bar on stderr, redrawn in place."""

    def __init__(self, total: int, enabled: bool, width: int = 30):
        self.total, self.enabled, self.width = total, enabled, width
        self.start = time.perf_counter()

    def show(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        filled = int(self.width * done / max(self.total, 1))
        elapsed = time.perf_counter() - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        sys.stderr.write(f"\repoch {done}/{self.total} [{'#' * filled}{'.' * (self.width - filled)}] "
                         f"{note} {elapsed:5.1f}s elapsed, ~{eta:4.0f}s left ")
        if done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def train(model, opt, X, y, *, epochs: int, batch_size: int, rng: np.random.Generator,
          loss=losses.softmax_cross_entropy, X_test=None, y_test=None,
          progress: bool | None = None, drop_last: bool = False) -> History:
    """Mini-batch training of ``model`` (an object with ``params``, ``loss_and_grad`` and ``forward``).

    opt: an optimizer from descentlab.optim; the model's arrays are updated in place
    with its pure update. progress: show a progress bar (default: only when stderr
    is a terminal, so never in tests or in the built book).
    """
    if progress is None:
        progress = sys.stderr.isatty()
    N = X.shape[0]
    state = opt.init(model.params)
    history = History()
    bar = Progress(epochs, progress)
    start = time.perf_counter()

    def record(epoch: int) -> None:
        history.epoch.append(epoch)
        history.steps.append(state.t)
        history.seconds.append(time.perf_counter() - start)
        r, a = evaluate(model, X, y, loss)
        history.train_loss.append(r)
        history.train_acc.append(a)
        if X_test is not None:
            r, a = evaluate(model, X_test, y_test, loss)
        else:
            r, a = None, None
        history.test_loss.append(r)
        history.test_acc.append(a)

    record(0)
    for epoch in range(1, epochs + 1):
        for batch in data.minibatches(N, batch_size, rng, drop_last):
            _, grads = model.loss_and_grad(X[batch], y[batch], loss)
            new, state = opt.update(model.params, grads, state)
            optim.apply(model.params, new)
        record(epoch)
        bar.show(epoch, f"loss {history.train_loss[-1]:.4f}")
    return history

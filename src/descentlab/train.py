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
from typing import NamedTuple

import numpy as np

from . import data, linear, losses, optim


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
    """(R on the whole set, accuracy or None). Classification when y holds integer labels.

    Scores of shape (N, K) predict the argmax class; scores of shape (N,) with labels in
    {-1, +1} (logistic regression) predict sign(s), 0 counting as +1.
    """
    out = model.forward(X)
    value = loss(out, y)[0]
    y = np.asarray(y)
    acc = None
    if np.issubdtype(y.dtype, np.integer) and y.ndim == 1:
        if out.ndim == 2:
            acc = float(np.mean(np.argmax(out, axis=1) == y))
        elif out.ndim == 1 and np.all(np.isin(y, (-1, 1))):
            acc = float(np.mean(linear.sign_labels(out) == y))
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


def _steps(model, opt, X, y, batch_size, rng, loss, drop_last):
    """Mini-batch training without end, one item per event: (epoch, batch, state).

    First (0, None, state) before any step; then, for epoch = 1, 2, ..., an item
    (epoch, batch, state) after each step (batch: the indices used, state: the optimizer
    state after the update, the model's arrays already updated in place), and
    (epoch, None, state) once the epoch's batches are done. Each epoch draws its
    permutation from rng when its first batch is needed, so a caller that stops
    taking items leaves rng where the last step left it.
    """
    N = X.shape[0]
    state = opt.init(model.params)
    yield 0, None, state
    epoch = 0
    while True:
        epoch += 1
        for batch in data.minibatches(N, batch_size, rng, drop_last):
            _, grads = model.loss_and_grad(X[batch], y[batch], loss)
            new, state = opt.update(model.params, grads, state)
            optim.apply(model.params, new)
            yield epoch, batch, state
        yield epoch, None, state


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
    history = History()
    bar = Progress(epochs, progress)
    start = time.perf_counter()

    def record(epoch: int, t: int) -> None:
        history.epoch.append(epoch)
        history.steps.append(t)
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

    for epoch, batch, state in _steps(model, opt, X, y, batch_size, rng, loss, drop_last):
        if batch is not None:            # a step inside an epoch: nothing to record
            continue
        record(epoch, state.t)
        if epoch > 0:
            bar.show(epoch, f"loss {history.train_loss[-1]:.4f}")
        if epoch >= epochs:
            break
    return history


# ---------------------------------------------------------------- the risk after every step

class StepTrace(NamedTuple):
    """R_N after every step of a run (entry 0 is before training).

    examples: (T+1,) per-sample gradients used so far (B per step, N mod B for the last
    batch of an epoch); train_loss: (T+1,) R_N on the whole training set;
    steps_per_epoch: the number of batches in one epoch; steps (a property): (T+1,) 0, 1, ..., T.
    """

    examples: np.ndarray
    train_loss: np.ndarray
    steps_per_epoch: int

    @property
    def steps(self) -> np.ndarray:
        """(T+1,) the step numbers 0, 1, ..., T of the entries."""
        return np.arange(len(self.train_loss))

    def first_below(self, target: float, every: int = 1):
        """The first step t, among multiples of ``every``, with R_N(theta_t) <= target; None if none.

        every=1 checks every step; every=steps_per_epoch checks only at the ends of epochs,
        which rounds the answer up to a whole epoch.
        """
        hit = (self.train_loss <= target) & (self.steps % every == 0)
        return int(np.argmax(hit)) if hit.any() else None


def trace_steps(model, opt, X, y, *, steps: int, batch_size: int, rng: np.random.Generator,
                loss=losses.softmax_cross_entropy, drop_last: bool = False) -> StepTrace:
    """Mini-batch training for a fixed number of STEPS, with R_N evaluated after every step.

    The same epochs as :func:`train` (a fresh permutation each, batches of ``batch_size``),
    but the record does not depend on B: each step, of any batch size, gets one entry, so
    runs with different B can be compared at the same step or the same number of examples.
    The extra full pass per step makes it costly; it is for experiments on small sets.
    """
    N = X.shape[0]
    examples = np.zeros(steps + 1, dtype=np.int64)
    risk = np.empty(steps + 1)
    risk[0] = loss(model.forward(X), y)[0]
    run = _steps(model, opt, X, y, batch_size, rng, loss, drop_last)
    t = 0
    while t < steps:
        _, batch, _ = next(run)
        if batch is None:                # the start, or the end of an epoch
            continue
        t += 1
        examples[t] = examples[t - 1] + len(batch)
        risk[t] = loss(model.forward(X), y)[0]
    per_epoch = N // batch_size if drop_last else -(-N // batch_size)
    return StepTrace(examples, risk, per_epoch)

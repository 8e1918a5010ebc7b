"""Fully connected networks with back propagation, in the book's notation.

Convention (stated on the notation page): w_{i,j}^[l] connects node i of layer l-1
to node j of layer l, so W^[l] has shape (n^[l-1], n^[l]) and, for one sample
(column vectors),

    z^[l] = W^[l]^T a^[l-1] + b^[l],     a^[l] = g(z^[l]),
    delta^[l] = dl/dz^[l] = W^[l+1] delta^[l+1] * g'(z^[l]),
    dl/dW^[l] = a^[l-1] delta^[l]^T,     dl/db^[l] = delta^[l].

A mini-batch stacks samples as rows: A^[l-1]: (B, n^[l-1]), Z^[l] = A^[l-1] W^[l] + b^[l],
Delta^[l] = (Delta^[l+1] W^[l+1]^T) * g'(Z^[l]) with one delta per row, and the
batch gradient sums the per-sample ones: dR/dW^[l] = A^[l-1]^T Delta^[l]. (The
1/B of a mean loss is already inside Delta^[L], see descentlab.losses.)

The lecture's forward slide writes a^[l] = g(W a^[l-1] + b) with W of shape
(n^[l], n^[l-1]): that is W^[l]^T here; see :func:`lecture_weights`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import losses as _losses

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An entrywise activation g with its derivative g' (both functions of z)."""

    name: str
    g: Callable[[Array], Array]
    dg: Callable[[Array], Array]

    def __call__(self, z):
        return self.g(z)


def _sigmoid(z):
    # exp(-logaddexp(0, -z)) = 1 / (1 + e^{-z}) without overflow for large |z|
    return np.exp(-np.logaddexp(0.0, -z))


def _dsigmoid(z):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _dtanh(z):
    t = np.tanh(z)
    return 1.0 - t * t


#: ReLU, with g'(0) = 0 (the one-sided value PyTorch also uses).
relu = Activation("relu", lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype))
sigmoid = Activation("sigmoid", _sigmoid, _dsigmoid)
tanh = Activation("tanh", np.tanh, _dtanh)
identity = Activation("identity", lambda z: z, lambda z: np.ones_like(z))

ACTIVATIONS = {a.name: a for a in (relu, sigmoid, tanh, identity)}


def get_activation(activation) -> Activation:
    if isinstance(activation, Activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except KeyError:
        raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}") from None



class Dense:
    """One fully connected layer z = W^T a + b (batch form Z = A W + b).

    W: (n_in, n_out), b: (n_out,). ``forward`` caches its input; ``backward``
    takes dR/dZ and returns dR/dA, storing dR/dW and dR/db in ``grads``.
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, scale: float | None = None,
                 dtype=np.float64):
        scale = np.sqrt(2.0 / n_in) if scale is None else scale
        self.params = {"W": (scale * rng.standard_normal((n_in, n_out))).astype(dtype),
                       "b": np.zeros(n_out, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.A = None

    def forward(self, A: Array) -> Array:
        """A: (B, n_in) -> Z: (B, n_out)."""
        self.A = A
        return A @ self.params["W"] + self.params["b"]

    def backward(self, dZ: Array, input_grad: bool = True) -> Array | None:
        """dZ: (B, n_out) = dR/dZ. Returns dR/dA: (B, n_in) (None if input_grad is False)."""
        np.matmul(self.A.T, dZ, out=self.grads["W"])      # sum_n a_n^[l-1] delta_n^T
        np.sum(dZ, axis=0, out=self.grads["b"])
        return dZ @ self.params["W"].T if input_grad else None


class MLP:
    """A multilayer perceptron with layer sizes [n^[0], n^[1], ..., n^[L]].

    Hidden layers use ``activation``; the output layer is linear (its z^[L] are the
    logits or predictions, which a loss from descentlab.losses turns into R and dR/dz^[L]).
    Parameters and gradients are dicts keyed "W1", "b1", ..., "WL", "bL" (the lecture's
    1-based layer numbers); the arrays are updated in place, so an optimizer can loop over names.
    """

    def __init__(self, sizes, activation="relu", rng: np.random.Generator | None = None, dtype=np.float64):
        if rng is None:
            raise ValueError("MLP needs an explicit rng = np.random.default_rng(seed).")
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least an input and an output width, got {sizes}.")
        self.sizes = sizes
        self.g = get_activation(activation)
        self.layers = []
        for l in range(1, len(sizes)):
            # He scaling for ReLU, Xavier-like otherwise
            scale = np.sqrt((2.0 if self.g is relu else 1.0) / sizes[l - 1])
            self.layers.append(Dense(sizes[l - 1], sizes[l], rng, scale, dtype))
        self.params = {f"{k}{l}": layer.params[k] for l, layer in enumerate(self.layers, 1) for k in ("W", "b")}
        self.grads = {f"{k}{l}": layer.grads[k] for l, layer in enumerate(self.layers, 1) for k in ("W", "b")}
        self.z: list = []
        self.a: list = []
        self.delta: list = []

    @property
    def L(self) -> int:
        return len(self.layers)

    @property
    def num_params(self) -> int:
        """E = sum_l (n^[l-1] + 1) n^[l]: the lecture's count of edges (weights and biases)."""
        return sum((self.sizes[l - 1] + 1) * self.sizes[l] for l in range(1, len(self.sizes)))

    def forward(self, X: Array) -> Array:
        """X: (B, n^[0]) -> Z^[L]: (B, n^[L]); caches a^[0..L] and z^[1..L] (index 0 of z unused)."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (B, {self.sizes[0]}), got {X.shape}.")
        self.a, self.z = [X], [None]
        for l, layer in enumerate(self.layers, 1):
            z = layer.forward(self.a[l - 1])
            self.z.append(z)
            self.a.append(z if l == self.L else self.g(z))
        return self.z[self.L]

    def backward(self, delta_L: Array) -> dict:
        """Back propagation from delta^[L] = dR/dZ^[L]: (B, n^[L]); returns the gradient dict.

        delta^[l] = W^[l+1] delta^[l+1] * g'(z^[l]) for l = L-1, ..., 1 (batch rows), and
        dR/dW^[l] = A^[l-1]^T Delta^[l], dR/db^[l] = sum of the rows of Delta^[l].
        """
        if not self.a:
            raise RuntimeError("call forward before backward.")
        self.delta = [None] * (self.L + 1)
        self.delta[self.L] = delta_L
        for l in range(self.L, 0, -1):
            upstream = self.layers[l - 1].backward(self.delta[l], input_grad=l > 1)  # W^[l] delta^[l]
            if l > 1:
                self.delta[l - 1] = upstream * self.g.dg(self.z[l - 1])             # ... * g'(z^[l-1])
        return self.grads

    def loss_and_grad(self, X: Array, Y, loss=_losses.softmax_cross_entropy) -> tuple[float, dict]:
        """Forward, loss, backward: R(theta) on the batch and dR/dtheta by name."""
        value, delta_L = loss(self.forward(X), Y)
        return value, self.backward(delta_L)

    def loss(self, X: Array, Y, loss=_losses.softmax_cross_entropy) -> float:
        return loss(self.forward(X), Y)[0]

    def predict(self, X: Array) -> Array:
        """Class indices argmax_k z_k^[L]."""
        return np.argmax(self.forward(X), axis=1)


def lecture_weights(W: Array) -> Array:
    """The lecture's forward-slide matrix for the same layer: shape (n^[l], n^[l-1]).

    a^[l] = g(W_lecture a^[l-1] + b) equals g(W^T a^[l-1] + b) with W_lecture = W^T.
    """
    return np.asarray(W).T

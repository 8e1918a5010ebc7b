"""Chapter 7: Hessian-vector products by finite differences and the top eigenvalue by power iteration."""

import numpy as np
import pytest

from descentlab import hessian, losses, nn


def quadratic(A):
    return lambda w: A @ w


@pytest.fixture
def spd():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    lam = np.array([5.0, 2.0, 1.0, 0.5, -0.3, 0.1])
    return Q @ np.diag(lam) @ Q.T, lam


def test_hvp_of_a_quadratic_is_exact_up_to_rounding(spd):
    A, _ = spd
    rng = np.random.default_rng(0)
    w, v = rng.normal(size=6), rng.normal(size=6)
    np.testing.assert_allclose(hessian.hvp(quadratic(A), w, v), A @ v, rtol=1e-8)
    np.testing.assert_allclose(hessian.hvp(quadratic(A), w, 1e6 * v), A @ (1e6 * v), rtol=1e-8)
    assert not hessian.hvp(quadratic(A), w, np.zeros(6)).any()
    np.testing.assert_allclose(hessian.dense_hessian(quadratic(A), w), A, atol=1e-8)


def small_net(seed=0, activation="tanh"):
    rng = np.random.default_rng(seed)
    model = nn.MLP([3, 4, 2], activation=activation, rng=rng)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 2, size=7)
    return model, X, y


def torch_hessian(model, X, y):
    """The dense Hessian of the same tanh network's mean cross-entropy, by torch.autograd (float64)."""
    torch = pytest.importorskip("torch")
    shapes = [(k, model.params[k].shape) for k in model.params]
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def R(w):
        i, p = 0, {}
        for k, s in shapes:
            n = int(np.prod(s))
            p[k], i = w[i:i + n].reshape(s), i + n
        a = torch.tanh(Xt @ p["W1"] + p["b1"])
        return torch.nn.functional.cross_entropy(a @ p["W2"] + p["b2"], yt)

    w = torch.tensor(hessian.flatten(model.params))
    return torch.autograd.functional.hessian(R, w).numpy()


def test_network_hessian_equals_torch_autograd():
    model, X, y = small_net()
    value_fn, grad_fn = hessian.flat_loss_grad(model, X, y, losses.softmax_cross_entropy)
    w = hessian.flatten(model.params)
    assert value_fn(w) == pytest.approx(model.loss(X, y))
    H = hessian.dense_hessian(grad_fn, w)
    exact = torch_hessian(model, X, y)
    assert np.linalg.norm(H - exact) / np.linalg.norm(exact) < 1e-7
    np.testing.assert_array_equal(hessian.flatten(model.params), w), "the model is left as it was"


def test_top_eigenvalue_of_a_network_matches_the_dense_hessian():
    for seed in range(3):
        model, X, y = small_net(seed)
        _, grad_fn = hessian.flat_loss_grad(model, X, y)
        w = hessian.flatten(model.params)
        lam = np.linalg.eigvalsh(hessian.dense_hessian(grad_fn, w))
        top = hessian.top_eigenvalue(grad_fn, w, np.random.default_rng(seed), iters=500, tol=1e-10)
        assert top.lam == pytest.approx(lam[-1], rel=1e-6), seed
        H = hessian.dense_hessian(grad_fn, w)
        assert np.linalg.norm(H @ top.v - top.lam * top.v) < 1e-3 * abs(top.lam)
        assert len(top.history) <= top.products <= 1000


def test_power_iteration_finds_the_top_even_when_a_negative_eigenvalue_dominates():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    A = Q @ np.diag([-4.0, 2.5, 1.0, 0.5, 0.1]) @ Q.T
    dominant = hessian.power_iteration(lambda v: A @ v, rng.normal(size=5), iters=2000, tol=1e-13)
    assert dominant.lam == pytest.approx(-4.0, rel=1e-8), "plain power iteration: the largest magnitude"
    top = hessian.top_eigenvalue(quadratic(A), np.zeros(5), rng, iters=2000, tol=1e-13)
    assert top.lam == pytest.approx(2.5, rel=1e-6) and top.products > dominant.products / 2


def test_power_iteration_converges_at_the_eigenvalue_ratio(spd):
    A, lam = spd
    est = hessian.power_iteration(lambda v: A @ v, np.ones(6), iters=40, tol=0.0)
    err = np.abs(est.history - 5.0)
    k = np.flatnonzero(err > 1e-12)[2:]                       # before rounding takes over
    assert len(k) >= 6
    slope = np.polyfit(k, np.log(err[k]), 1)[0]
    assert np.exp(slope) == pytest.approx((2.0 / 5.0) ** 2, rel=0.05)   # Rayleigh error ~ (lam2/lam1)^(2k)


def test_flatten_round_trip_and_errors():
    params = {"W": np.arange(6.0).reshape(2, 3), "b": np.array([7.0])}
    w = hessian.flatten(params)
    np.testing.assert_array_equal(w, [0, 1, 2, 3, 4, 5, 7])
    back = hessian.unflatten(w, params)
    assert back["W"].shape == (2, 3) and back["b"][0] == 7.0
    with pytest.raises(ValueError, match="w has 8 entries, the parameters 7"):
        hessian.unflatten(np.zeros(8), params)


def test_a_warm_start_needs_fewer_products():
    model, X, y = small_net(4)
    _, grad_fn = hessian.flat_loss_grad(model, X, y)
    w = hessian.flatten(model.params)
    cold = hessian.top_eigenvalue(grad_fn, w, np.random.default_rng(0), iters=500, tol=1e-8)
    warm = hessian.top_eigenvalue(grad_fn, w + 1e-3, np.random.default_rng(0), iters=500, tol=1e-8, v0=cold.v)
    assert warm.products < cold.products / 3 and warm.lam == pytest.approx(cold.lam, rel=1e-2)

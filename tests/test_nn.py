"""descentlab.nn and descentlab.losses: float64 gradient checks, shapes, stability, and PyTorch."""

import numpy as np
import pytest

from descentlab import grad, losses, nn

SEEDS = [0, 1, 2]
TOL = 1e-7


def upstream_check(fn, X, seed):
    """Check d<U, fn(X)>/dX for a random upstream gradient U: the vector-Jacobian product."""
    rng = np.random.default_rng(seed)
    U = rng.normal(size=np.shape(fn(X)))
    return lambda x: float(np.sum(U * fn(x))), U


# ---------------------------------------------------------------- activations

@pytest.mark.parametrize("name", sorted(nn.ACTIVATIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_derivatives(name, seed):
    act = nn.ACTIVATIONS[name]
    z = np.random.default_rng(seed).normal(size=(4, 5)) * 2
    z[np.abs(z) < 1e-3] = 0.5  # keep away from ReLU's kink
    f, U = upstream_check(act.g, z, seed + 10)
    report = grad.gradient_check(f, z, U * act.dg(z), tol=TOL)
    assert report.passed, str(report)


def test_activation_values_and_conventions():
    z = np.array([-800.0, -1.0, 0.0, 1.0, 800.0])
    np.testing.assert_allclose(nn.relu(z), [0, 0, 0, 1, 800])
    np.testing.assert_array_equal(nn.relu.dg(z), [0, 0, 0, 1, 1])  # g'(0) = 0
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow for huge |z|
        s = nn.sigmoid(z)
    np.testing.assert_allclose(s, [0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1)), 1], atol=1e-300)
    np.testing.assert_allclose(nn.tanh.dg(np.array([0.0])), [1.0])
    assert nn.get_activation("tanh") is nn.tanh
    with pytest.raises(ValueError, match="unknown activation"):
        nn.get_activation("swish")


# ---------------------------------------------------------------- losses

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("B,K", [(1, 3), (5, 4), (8, 10)])
def test_softmax_cross_entropy_gradient(seed, B, K):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(B, K)) * 3
    labels = rng.integers(0, K, size=B)
    value, dZ = losses.softmax_cross_entropy(Z, labels)
    report = grad.gradient_check(lambda z: losses.softmax_cross_entropy(z, labels)[0], Z, dZ, tol=TOL)
    assert report.passed, str(report)
    # the fused form: (softmax - Y) / B, and one-hot targets give the same result
    Y = losses.one_hot(labels, K)
    np.testing.assert_allclose(dZ, (losses.softmax(Z) - Y) / B, rtol=1e-14)
    assert losses.softmax_cross_entropy(Z, Y)[0] == pytest.approx(value, rel=1e-14)
    expected = -np.mean(np.log(np.exp(Z[np.arange(B), labels]) / np.exp(Z).sum(axis=1)))
    assert value == pytest.approx(expected, rel=1e-12)


def test_softmax_is_stable_for_huge_logits():
    Z = np.array([[1000.0, 0.0, -1000.0], [-5000.0, -5000.0, -4990.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        P = losses.softmax(Z)
        value, dZ = losses.softmax_cross_entropy(Z, np.array([2, 0]))
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert np.all(np.isfinite(dZ))
    # -log s(z)_2 for the first row is 2000 (+ log(1 + e^-1000 + e^-2000));
    # for the second row -log s(z)_0 = logsumexp(z) - z_0 = 10 + log(1 + 2 e^-10)
    assert value == pytest.approx((2000.0 + 10 + np.log1p(2 * np.exp(-10))) / 2, rel=1e-12)
    np.testing.assert_allclose(losses.log_softmax(Z)[0], [0.0, -1000.0, -2000.0], rtol=1e-12)


def test_one_hot_validation():
    np.testing.assert_array_equal(losses.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError):
        losses.one_hot(np.array([3]), 3)
    with pytest.raises(ValueError):
        losses.one_hot(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="shape"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize("seed", SEEDS)
def test_quadratic_loss_gradient(seed):
    rng = np.random.default_rng(seed)
    Yhat, Y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    value, d = losses.quadratic(Yhat, Y)
    assert value == pytest.approx(np.sum((Yhat - Y) ** 2) / 6)
    np.testing.assert_allclose(d, 2 * (Yhat - Y) / 6)  # the lecture's 2 (yhat - y), averaged
    assert grad.gradient_check(lambda p: losses.quadratic(p, Y)[0], Yhat, d, tol=TOL).passed
    with pytest.raises(ValueError):
        losses.quadratic(Yhat, Y[:3])


@pytest.mark.parametrize("seed", SEEDS)
def test_logistic_loss_gradient_and_stability(seed):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=7) * 3
    y = rng.choice([-1.0, 1.0], size=7)
    value, d = losses.logistic(s, y)
    assert value == pytest.approx(np.mean(np.log1p(np.exp(-y * s))), rel=1e-12)
    np.testing.assert_allclose(d, -y / (1 + np.exp(y * s)) / 7, rtol=1e-12)  # the lecture's formula
    assert grad.gradient_check(lambda p: losses.logistic(p, y)[0], s, d, tol=TOL).passed
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        big, dbig = losses.logistic(np.array([1000.0, -1000.0]), np.array([1.0, 1.0]))
    assert big == pytest.approx(500.0) and np.all(np.isfinite(dbig))
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        losses.logistic(s, (y > 0).astype(float))


# ---------------------------------------------------------------- layers and networks

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(1, 3, 2), (5, 4, 6), (7, 1, 1)])
def test_dense_layer_backward(seed, shape):
    B, n_in, n_out = shape
    rng = np.random.default_rng(seed)
    layer = nn.Dense(n_in, n_out, rng)
    layer.params["b"][:] = rng.normal(size=n_out)
    A = rng.normal(size=(B, n_in))
    U = rng.normal(size=(B, n_out))
    layer.forward(A)
    dA = layer.backward(U)

    def f(p):
        return float(np.sum(U * (p["A"] @ p["W"] + p["b"])))

    report = grad.gradient_check(f, {"A": A, "W": layer.params["W"], "b": layer.params["b"]},
                                 {"A": dA, "W": layer.grads["W"], "b": layer.grads["b"]}, tol=TOL)
    assert report.passed, str(report)


def mlp_check(sizes, activation, seed, B=4, loss="ce"):
    rng = np.random.default_rng(seed)
    model = nn.MLP(sizes, activation, rng)
    for k in model.params:  # nonzero biases, so every parameter is exercised
        if k.startswith("b"):
            model.params[k][:] = 0.1 * rng.normal(size=model.params[k].shape)
    X = rng.normal(size=(B, sizes[0]))
    if loss == "ce":
        Y, fn = rng.integers(0, sizes[-1], size=B), losses.softmax_cross_entropy
    else:
        Y, fn = rng.normal(size=(B, sizes[-1])), losses.quadratic
    _, grads = model.loss_and_grad(X, Y, fn)
    grads = {k: v.copy() for k, v in grads.items()}

    def R(params):
        saved = {k: model.params[k].copy() for k in params}
        for k, v in params.items():
            model.params[k][...] = v
        value = model.loss(X, Y, fn)
        for k, v in saved.items():
            model.params[k][...] = v
        return value

    return model, grad.gradient_check(R, dict(model.params), grads, tol=TOL)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "identity"])
@pytest.mark.parametrize("sizes", [[3, 2], [4, 5, 3], [2, 6, 5, 4]], ids=lambda s: "x".join(map(str, s)))
def test_mlp_backprop_passes_gradient_check(sizes, activation, seed):
    model, report = mlp_check(sizes, activation, seed)
    assert report.passed, str(report)
    assert [p.name for p in report.params] == [f"{k}{l}" for l in range(1, len(sizes)) for k in "Wb"]


def test_mlp_with_quadratic_loss_and_single_sample():
    _, report = mlp_check([3, 4, 2], "tanh", 5, B=1, loss="quadratic")
    assert report.passed, str(report)


def test_single_sample_column_form_matches_batch_rows():
    """The per-sample recursion delta^[l] = W^[l+1] delta^[l+1] * g'(z^[l]) with column vectors."""
    rng = np.random.default_rng(9)
    model = nn.MLP([3, 5, 4, 2], "tanh", rng)
    X, labels = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    _, grads = model.loss_and_grad(X, labels)
    W = {l: model.params[f"W{l}"] for l in (1, 2, 3)}
    b = {l: model.params[f"b{l}"] for l in (1, 2, 3)}
    total = {l: np.zeros_like(W[l]) for l in W}
    for n in range(6):
        a = {0: X[n][:, None]}
        z = {}
        for l in (1, 2, 3):
            z[l] = W[l].T @ a[l - 1] + b[l][:, None]          # z^[l] = W^[l]^T a^[l-1] + b^[l]
            a[l] = np.tanh(z[l]) if l < 3 else z[l]
        y = np.eye(2)[labels[n]][:, None]
        delta = {3: losses.softmax(z[3].T).T - y}           # delta^[L] = yhat - y
        for l in (2, 1):
            delta[l] = (W[l + 1] @ delta[l + 1]) * (1 - np.tanh(z[l]) ** 2)
        for l in (1, 2, 3):
            total[l] += a[l - 1] @ delta[l].T                 # dl/dW^[l] = a^[l-1] delta^[l]^T
            np.testing.assert_allclose(model.delta[l][n] * 6, delta[l][:, 0], rtol=1e-12)
    for l in (1, 2, 3):
        np.testing.assert_allclose(grads[f"W{l}"], total[l] / 6, rtol=1e-12)


def test_lecture_weight_convention_is_the_transpose():
    rng = np.random.default_rng(2)
    model = nn.MLP([3, 4], "identity", rng)
    x = rng.normal(size=3)
    W_lecture = nn.lecture_weights(model.params["W1"])
    assert W_lecture.shape == (4, 3)
    np.testing.assert_allclose(model.forward(x[None, :])[0], W_lecture @ x + model.params["b1"])


def test_mlp_bookkeeping_and_errors():
    model = nn.MLP([784, 128, 10], "relu", np.random.default_rng(0))
    assert model.num_params == (784 + 1) * 128 + (128 + 1) * 10
    assert sum(v.size for v in model.params.values()) == model.num_params
    assert set(model.params) == set(model.grads) == {"W1", "b1", "W2", "b2"}
    assert model.params["W1"] is model.layers[0].params["W"]
    with pytest.raises(ValueError, match="rng"):
        nn.MLP([2, 2])
    with pytest.raises(ValueError, match="shape"):
        model.forward(np.zeros((2, 5)))
    with pytest.raises(RuntimeError):
        nn.MLP([2, 2], rng=np.random.default_rng(0)).backward(np.zeros((1, 2)))
    assert nn.MLP([2, 3], rng=np.random.default_rng(0), dtype=np.float32).forward(
        np.zeros((1, 2), np.float32)).dtype == np.float32


def test_same_seed_same_network():
    a = nn.MLP([3, 4, 2], "tanh", np.random.default_rng(7))
    b = nn.MLP([3, 4, 2], "tanh", np.random.default_rng(7))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


# ---------------------------------------------------------------- against PyTorch

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("sizes", [[5, 3], [5, 8, 3], [4, 16, 8, 6, 3]], ids=lambda s: "x".join(map(str, s)))
def test_gradients_equal_torch_autograd(sizes, activation, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    model = nn.MLP(sizes, activation, rng)
    for k in model.params:
        if k.startswith("b"):
            model.params[k][:] = 0.1 * rng.normal(size=model.params[k].shape)
    X = rng.normal(size=(7, sizes[0]))
    labels = rng.integers(0, sizes[-1], size=7)
    value, grads = model.loss_and_grad(X, labels)

    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in model.params.items()}
    h = torch.tensor(X, dtype=torch.float64)
    for l in range(1, model.L + 1):
        h = h @ tp[f"W{l}"] + tp[f"b{l}"]
        if l < model.L:
            h = act(h)
    t_loss = torch.nn.functional.cross_entropy(h, torch.tensor(labels))
    t_loss.backward()
    assert value == pytest.approx(t_loss.item(), rel=1e-12)
    for k in model.params:
        np.testing.assert_allclose(grads[k], tp[k].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_scalar_network_equals_the_matrix_form_and_finite_differences():
    """descentlab.scalar_net (the lecture's scalar equations) computes the same gradient as nn.MLP."""
    from descentlab import scalar_net

    rng = np.random.default_rng(12)
    sizes = [3, 4, 2]
    model = nn.MLP(sizes, "tanh", rng)
    for k in model.params:
        model.params[k][...] = rng.normal(size=model.params[k].shape)
    W, b = scalar_net.from_arrays([model.params["W1"], model.params["W2"]], [model.params["b1"], model.params["b2"]])
    x, y = rng.normal(size=3), rng.normal(size=2)
    _, grads = model.loss_and_grad(x[None, :], y[None, :], losses.quadratic)  # B = 1: sum over outputs
    dW, db = scalar_net.backward(W, b, x.tolist(), y.tolist())
    np.testing.assert_allclose(np.array(dW[0]), grads["W1"], rtol=1e-12)
    np.testing.assert_allclose(np.array(db[1]), grads["b2"], rtol=1e-12)
    fW, fb = scalar_net.finite_difference_gradient(W, b, x.tolist(), y.tolist())
    np.testing.assert_allclose(np.array(fW[1]), grads["W2"], rtol=1e-7)
    np.testing.assert_allclose(np.array(fb[0]), grads["b1"], rtol=1e-7)
    assert scalar_net.num_params(sizes) == model.num_params
    assert scalar_net.loss(W, b, x.tolist(), y.tolist()) == pytest.approx(model.loss(x[None, :], y[None, :], losses.quadratic))


def test_softmax_jacobian_and_the_fused_cross_entropy_gradient():
    rng = np.random.default_rng(13)
    z = rng.normal(size=4) * 2
    J = losses.softmax_jacobian(z)
    numeric = np.stack([grad.numerical_gradient(lambda v: losses.softmax(v[None, :])[0, k], z) for k in range(4)])
    np.testing.assert_allclose(J, numeric, rtol=1e-7, atol=1e-10)
    assert np.count_nonzero(J - np.diag(np.diag(J))) > 0  # not diagonal
    y = np.eye(4)[1]
    s = losses.softmax(z[None, :])[0]
    # chain rule through the Jacobian: sum_k (-y_k / s_k) ds_k/dz_j = s_j - y_j
    np.testing.assert_allclose(J.T @ (-y / s), s - y, rtol=1e-12, atol=1e-15)

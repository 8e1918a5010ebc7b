"""descentlab.grad and descentlab.functions: every formula of chapter 1 against exact answers."""

import matplotlib as mpl
import numpy as np
import pytest

from descentlab import functions as F
from descentlab import grad, plots

RNG_SEEDS = [0, 1, 2]


# ---------------------------------------------------------------- float64 discipline

@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_input_is_refused_with_an_explanation(dtype):
    x = np.ones(3, dtype=dtype)
    with pytest.raises(TypeError, match="float64") as info:
        grad.numerical_gradient(lambda z: float(np.sum(z**2)), x)
    assert str(np.dtype(dtype)) in str(info.value) and "astype(np.float64)" in str(info.value)
    with pytest.raises(TypeError, match="float64"):
        grad.directional_derivative(lambda z: float(np.sum(z)), np.zeros(2), np.ones(2, dtype=dtype))
    with pytest.raises(TypeError, match="float64"):
        grad.gradient_check(lambda z: float(np.sum(z)), x, np.ones(3))


def test_integers_are_converted_and_complex_refused():
    g = grad.numerical_gradient(lambda z: 0.5 * float(z @ z), np.array([1, 2, 3]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [1.0, 2.0, 3.0], rtol=1e-9)
    with pytest.raises(TypeError, match="complex"):
        grad.as_float64(np.ones(2, dtype=complex))
    with pytest.raises(TypeError):
        grad.as_float64(np.array(["a"]))


# ---------------------------------------------------------------- difference quotients

def test_forward_and_central_differences_of_exp():
    for s in (-1.0, 0.0, 0.7):
        assert grad.forward_difference(np.exp, s, 1e-8) == pytest.approx(np.exp(s), rel=1e-6)
        assert grad.central_difference(np.exp, s, 1e-5) == pytest.approx(np.exp(s), rel=1e-9)
    # The exact values of the quotients on a cubic: phi(s) = s^3 at 1 with eps = 0.01.
    assert grad.forward_difference(lambda s: s**3, 1.0, 0.01) == pytest.approx(3.0301, abs=1e-12)
    assert grad.central_difference(lambda s: s**3, 1.0, 0.01) == pytest.approx(3.0001, abs=1e-12)


@pytest.mark.parametrize("scheme,order", [("forward", 1.0), ("central", 2.0)])
def test_measured_error_order(scheme, order):
    """In the truncation-dominated range the log-log slope of the error is the method's order."""
    eps = np.logspace(-3.5, -1, 12)
    errors = [abs(grad.difference(np.sin, 0.4, e, scheme) - np.cos(0.4)) for e in eps]
    assert grad.loglog_slope(eps, errors) == pytest.approx(order, abs=0.05)


def test_unknown_scheme_is_an_error():
    with pytest.raises(ValueError, match="scheme"):
        grad.difference(np.sin, 0.0, 1e-6, "backward")
    with pytest.raises(ValueError, match="scheme"):
        grad.numerical_gradient(np.sum, np.ones(2), scheme="five-point")


def test_error_model_and_best_step():
    u = grad.UNIT_ROUNDOFF
    assert u == 2.0**-53
    f0, d2, d3 = 2.0, 3.0, 5.0
    for scheme in grad.SCHEMES:
        best = grad.best_step(scheme, f0, d2, d3)
        grid = np.logspace(-12, -1, 20001)
        bound = grad.difference_error_bound(grid, scheme, f0, d2, d3)
        assert best == pytest.approx(grid[np.argmin(bound)], rel=2e-3)
    assert grad.best_step("forward", f0, d2) == pytest.approx(2 * np.sqrt(u * f0 / d2))
    assert grad.best_step("central", f0, d2, d3) == pytest.approx((3 * u * f0 / d3) ** (1 / 3))
    # The formulas of the bound themselves, at one point.
    assert grad.difference_error_bound(1e-4, "forward", f0, d2, d3) == pytest.approx(1e-4 / 2 * d2 + 2 * u * f0 / 1e-4)
    assert grad.difference_error_bound(1e-4, "central", f0, d2, d3) == pytest.approx(1e-8 / 6 * d3 + u * f0 / 1e-4)


def test_measured_errors_follow_the_model():
    """At the model's best step the real error is within a small factor of the model's minimum."""
    phi, s0 = np.exp, 0.3
    f = np.exp(s0)
    for scheme in grad.SCHEMES:
        best = grad.best_step(scheme, f, f, f)
        measured = np.median([abs(grad.difference(phi, s0 + k * 1e-3, best, scheme) - np.exp(s0 + k * 1e-3))
                              for k in range(25)])
        predicted = grad.difference_error_bound(best, scheme, f, f, f)
        assert measured < 3 * predicted
    # and far from the best step, on the truncation side, the model is tight
    e = 1e-2
    measured = abs(grad.central_difference(phi, s0, e) - f)
    assert measured == pytest.approx(grad.difference_error_bound(e, "central", f, f, f), rel=0.01)


def test_loglog_slope():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert grad.loglog_slope(x, 3 * x**2.5) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        grad.loglog_slope(x, -x)


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("seed", RNG_SEEDS)
@pytest.mark.parametrize("fn", [F.ripple, F.rosenbrock], ids=lambda f: f.name)
def test_numerical_gradient_of_test_functions(fn, seed):
    x = np.random.default_rng(seed).normal(size=2)
    for scheme, tol in (("central", 1e-7), ("forward", 1e-4)):
        np.testing.assert_allclose(grad.numerical_gradient(fn, x, scheme=scheme), fn.grad(x), rtol=tol, atol=tol)


def test_numerical_gradient_of_several_arrays_of_any_shape():
    rng = np.random.default_rng(3)
    W, b, X = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 3))

    def loss(W, b):  # 1/2 sum of (X W + b)^2
        return 0.5 * float(np.sum((X @ W + b) ** 2))

    Z = X @ W + b
    gW, gb = grad.numerical_gradient(loss, W, b)
    assert gW.shape == W.shape and gb.shape == b.shape
    np.testing.assert_allclose(gW, X.T @ Z, rtol=1e-7)
    np.testing.assert_allclose(gb, Z.sum(axis=0), rtol=1e-7)
    T = rng.normal(size=(2, 2, 2))
    np.testing.assert_allclose(grad.numerical_gradient(lambda t: float(np.sum(np.sin(t))), T), np.cos(T), rtol=1e-8)


def test_numerical_gradient_leaves_inputs_alone_and_counts_evaluations():
    x = np.array([0.5, -1.5, 2.0, 0.25])
    before = x.copy()
    calls = []

    def f(z):
        calls.append(1)
        return float(np.sum(z**3))

    for scheme, expected in (("forward", x.size + 1), ("central", 2 * x.size)):
        calls.clear()
        grad.numerical_gradient(f, x, scheme=scheme)
        assert len(calls) == expected
    assert np.array_equal(x, before)
    with pytest.raises(ValueError):
        grad.numerical_gradient(f)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_directional_derivative_is_inner_product_with_gradient(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=2)
    g = F.ripple.grad(x)
    for _ in range(5):
        v = rng.normal(size=2) * rng.uniform(0.1, 3)
        limit = grad.directional_derivative(F.ripple, x, v)
        inner = grad.directional_derivative_from_gradient(g, v)
        assert inner == pytest.approx(float(v @ g), rel=1e-15)
        assert limit == pytest.approx(inner, rel=1e-7, abs=1e-9)
        # v is not normalised: doubling v doubles the slope.
        assert grad.directional_derivative(F.ripple, x, 2 * v) == pytest.approx(2 * limit, rel=1e-7)


def test_partial_derivatives_are_directional_derivatives_along_unit_vectors():
    x = np.array([[0.3, -0.2], [1.1, 0.4]])
    f = lambda z: float(np.sum(z**2 * np.arange(1, 5).reshape(2, 2)))  # noqa: E731
    exact = 2 * x * np.arange(1, 5).reshape(2, 2)
    for i in np.ndindex(x.shape):
        assert grad.partial_derivative(f, x, i) == pytest.approx(exact[i], rel=1e-8)


def test_directional_derivative_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        grad.directional_derivative(np.sum, np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="shape"):
        grad.directional_derivative_from_gradient(np.zeros(3), np.ones(2))


def test_not_differentiable_counterexample():
    """Every directional derivative exists at 0, but they are not v^T grad f(0) = 0."""
    origin = np.zeros(2)
    np.testing.assert_array_equal(F.not_differentiable.grad(origin), [0.0, 0.0])
    np.testing.assert_allclose(grad.numerical_gradient(F.not_differentiable, origin), [0.0, 0.0], atol=1e-12)
    for v in ([1.0, 1.0], [2.0, -1.0], [-0.5, 3.0]):
        v = np.array(v)
        exact = F.not_differentiable_directional(v)
        assert grad.directional_derivative(F.not_differentiable, origin, v) == pytest.approx(exact, rel=1e-9)
        assert abs(exact - v @ F.not_differentiable.grad(origin)) > 0.05
    # Away from the origin it is smooth and its gradient is right.
    x = np.array([0.4, -0.9])
    assert grad.gradient_check(F.not_differentiable, x, F.not_differentiable.grad(x)).passed


def test_steepest_ascent():
    rng = np.random.default_rng(4)
    g = rng.normal(size=5)
    d, rate = grad.steepest_ascent(g)
    assert np.linalg.norm(d) == pytest.approx(1.0)
    assert rate == pytest.approx(np.linalg.norm(g))
    assert d @ g == pytest.approx(rate)
    for _ in range(100):  # no unit direction climbs faster
        u = rng.normal(size=5)
        assert (u / np.linalg.norm(u)) @ g <= rate + 1e-12
    d0, r0 = grad.steepest_ascent(np.zeros(3))
    assert r0 == 0.0 and np.array_equal(d0, np.zeros(3))


# ---------------------------------------------------------------- gradient check

def test_gradient_check_passes_correct_and_names_the_wrong_entry():
    rng = np.random.default_rng(5)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    X = rng.normal(size=(6, 3))

    def loss(p):
        return float(np.sum(np.tanh(X @ p["W"] + p["b"])))

    T = 1 - np.tanh(X @ params["W"] + params["b"]) ** 2
    grads = {"W": X.T @ T, "b": T.sum(axis=0)}
    saved = {k: v.copy() for k, v in params.items()}
    report = grad.gradient_check(loss, params, grads)
    assert report.passed and bool(report)
    assert report.max_rel_error < 1e-7
    assert all(np.array_equal(params[k], saved[k]) for k in params)

    wrong = {"W": grads["W"].copy(), "b": grads["b"]}
    wrong["W"][2, 1] *= 1.001
    report = grad.gradient_check(loss, params, wrong)
    assert not report.passed
    assert report["b"].passed and not report["W"].passed
    assert report["W"].worst_index == (2, 1)
    assert report["W"].max_rel_error == pytest.approx(1e-3, rel=0.01)
    text = str(report)
    assert "FAIL" in text and "(2, 1)" in text and "W" in text and "FAILED: W" in text
    with pytest.raises(KeyError):
        report["c"]


def test_gradient_check_single_array_and_errors():
    x = np.array([0.3, -0.7])
    report = grad.gradient_check(F.rosenbrock, x, F.rosenbrock.grad(x))
    assert report.passed and report.params[0].name == "x"
    assert "all parameters pass" in str(report)
    assert not grad.gradient_check(F.rosenbrock, x, np.array([np.nan, 0.0])).passed
    with pytest.raises(ValueError, match="shape"):
        grad.gradient_check(F.rosenbrock, x, np.zeros(3))
    with pytest.raises(KeyError, match="same names"):
        grad.gradient_check(lambda p: 0.0, {"a": np.zeros(1)}, {"b": np.zeros(1)})


def test_relative_error_floor():
    # tiny entries are compared on the absolute scale of the floor
    assert grad.relative_error([1e-9], [2e-9], floor=1e-2)[0] == pytest.approx(1e-7)
    assert grad.relative_error([2.0], [1.0])[0] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        grad.relative_error(np.zeros(2), np.zeros(3))


# ---------------------------------------------------------------- test functions and style

@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_test_function_gradients_pass_a_float64_check(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(3, 3))
    q = F.quadratic(A + A.T + 6 * np.eye(3), b=rng.normal(size=3), c=1.5)
    for fn, n in ((F.ripple, 2), (F.rosenbrock, 2), (q, 3)):
        x = rng.normal(size=n)
        report = grad.gradient_check(fn, x, fn.grad(x))
        assert report.passed, str(report)
    with pytest.raises(ValueError, match="symmetric"):
        F.quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]))


def test_test_functions_are_vectorised_for_contour_plots():
    X = np.random.default_rng(0).normal(size=(4, 5, 2))
    for fn in (F.ripple, F.rosenbrock, F.not_differentiable):
        assert fn.f(X).shape == (4, 5)
        assert fn.grad(X).shape == (4, 5, 2)
        assert fn.f(X)[1, 2] == pytest.approx(fn(X[1, 2]))


def test_plot_style_uses_the_colour_blind_safe_palette():
    plots.use_style()
    cycle = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle == plots.COLORS
    assert len(set(plots.COLORS)) == len(plots.COLORS)
    assert plots.PALETTE["blue"] == "#0072B2"

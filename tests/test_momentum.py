"""Chapter 4: heavy-ball momentum and its convergence rate on quadratics."""

import math

import numpy as np
import pytest

from descentlab import data, functions, grad, nn, optim, rates, train


run = optim.trajectory


# ---------------------------------------------------------------- the update

def test_trajectory_lists_every_iterate():
    path = optim.trajectory(optim.SGD(0.5), lambda w: 2 * w, [1.0, -2.0], 3)   # w <- w - 0.5 * 2w = 0
    np.testing.assert_array_equal(path, [[1.0, -2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    path = optim.trajectory(optim.Momentum(0.1, 0.5), lambda w: np.ones(1), [0.0], 2)
    np.testing.assert_allclose(path[:, 0], [0.0, -0.1, -0.25], rtol=1e-15)
    assert optim.trajectory(optim.SGD(0.1), lambda w: w, 3.0, 0).shape == (1,)


def test_first_step_is_an_sgd_step_and_the_update_is_pure():
    params, grads = {"w": np.array([1.0, -2.0])}, {"w": np.array([0.5, -1.0])}
    opt = optim.Momentum(alpha=0.1, mu=0.9)
    state = opt.init(params)
    assert state.t == 0 and np.array_equal(state.v["w"], [0.0, 0.0])
    new, s1 = opt.update(params, grads, state)
    np.testing.assert_allclose(new["w"], [0.95, -1.9], rtol=1e-15)      # v_1 = -alpha g_1, not g_1
    np.testing.assert_allclose(s1.v["w"], [-0.05, 0.1], rtol=1e-15)
    assert np.array_equal(params["w"], [1.0, -2.0]) and np.array_equal(state.v["w"], [0.0, 0.0])
    new2, s2 = opt.update(new, grads, s1)
    np.testing.assert_allclose(s2.v["w"], 0.9 * s1.v["w"] - 0.1 * grads["w"], rtol=1e-15)
    np.testing.assert_allclose(new2["w"], new["w"] + s2.v["w"], rtol=1e-15)
    assert s2.t == 2


def test_velocity_is_the_exponentially_weighted_sum_of_past_steps():
    rng = np.random.default_rng(0)
    alpha, mu, T = 0.05, 0.8, 12
    gs = rng.normal(size=(T, 3))
    opt = optim.Momentum(alpha, mu)
    params = {"w": np.zeros(3)}
    state = opt.init(params)
    for t in range(T):
        params, state = opt.update(params, {"w": gs[t]}, state)
        expected = -alpha * sum(mu ** (t - s) * gs[s] for s in range(t + 1))
        np.testing.assert_allclose(state.v["w"], expected, rtol=1e-12, atol=1e-15)


def test_a_constant_gradient_reaches_the_terminal_speed():
    g = np.array([1.0, -2.0])
    for mu in (0.5, 0.9):
        path = run(optim.Momentum(0.1, mu), lambda w: g, [0.0, 0.0], 400)
        np.testing.assert_allclose(path[-1] - path[-2], -0.1 * g / (1 - mu), rtol=1e-12)


def test_mu_zero_is_sgd_and_polyak_two_step_form_agrees():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    f = functions.quadratic(A)
    sgd = run(optim.SGD(0.1), f.grad, [1.0, 1.0], 30)
    np.testing.assert_array_equal(run(optim.Momentum(0.1, 0.0), f.grad, [1.0, 1.0], 30), sgd)
    hb = run(optim.Momentum(0.1, 0.7), f.grad, [1.0, 1.0], 30)
    w_prev, w = hb[0], hb[0]
    for t in range(30):      # w_{t+1} = w_t - alpha grad f(w_t) + mu (w_t - w_{t-1}), w_{-1} = w_0
        w_prev, w = w, w - 0.1 * f.grad(w) + 0.7 * (w - w_prev)
        np.testing.assert_allclose(w, hb[t + 1], rtol=1e-12, atol=1e-15)


def test_momentum_equals_torch_sgd_with_momentum():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    A = rng.normal(size=(5, 5))
    A = A @ A.T + np.eye(5)
    f = functions.quadratic(A)
    ours = run(optim.Momentum(0.02, 0.9), f.grad, np.ones(5), 50)
    w = torch.tensor(np.ones(5), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.02, momentum=0.9)
    At = torch.tensor(A)
    for t in range(50):
        opt.zero_grad()
        (0.5 * w @ At @ w).backward()
        opt.step()
        np.testing.assert_allclose(w.detach().numpy(), ours[t + 1], rtol=1e-12, atol=1e-14)


def test_a_schedule_scales_only_the_new_gradient():
    opt = optim.Momentum(alpha=lambda t: 1.0 / (t + 1), mu=0.5)
    path = run(opt, lambda w: np.ones(1), [0.0], 3)
    # v1 = -1, v2 = 0.5 v1 - 1/2 = -1, v3 = 0.5 v2 - 1/3
    np.testing.assert_allclose(np.diff(path[:, 0]), [-1.0, -1.0, -0.5 - 1 / 3], rtol=1e-15)


def test_invalid_momentum_is_refused():
    for mu in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="mu"):
            optim.Momentum(0.1, mu)
    with pytest.raises(KeyError):
        opt = optim.Momentum(0.1, 0.5)
        opt.update({"w": np.zeros(1)}, {"v": np.zeros(1)}, opt.init({"w": np.zeros(1)}))


def test_momentum_trains_a_network_reproducibly():
    split = data.digits(np.random.default_rng(0))
    accs = []
    for _ in range(2):
        model = nn.MLP([64, 32, 10], rng=np.random.default_rng(1))
        h = train.train(model, optim.Momentum(0.05, 0.9), split.X_train, split.y_train, epochs=3,
                        batch_size=32, rng=np.random.default_rng(2), X_test=split.X_test, y_test=split.y_test)
        accs.append(h.test_acc[-1])
    assert accs[0] == accs[1] and accs[0] > 0.9


# ---------------------------------------------------------------- rates on quadratics

def test_heavy_ball_factor_is_the_measured_contraction():
    for alpha, mu, lam in ((0.1, 0.5, 1.0), (0.1, 0.9, 5.0), (0.3, 0.2, 2.0), (0.01, 0.95, 0.5)):
        path = run(optim.Momentum(alpha, mu), lambda w: lam * w, [1.0], 400)
        measured = (abs(path[400, 0]) + abs(path[399, 0])) / (abs(path[300, 0]) + abs(path[299, 0]))
        assert measured ** (1 / 100) == pytest.approx(rates.heavy_ball_factor(alpha, mu, lam), rel=2e-2)
        eig = np.max(np.abs(np.linalg.eigvals(rates.heavy_ball_matrix(alpha, mu, lam))))
        assert rates.heavy_ball_factor(alpha, mu, lam) == pytest.approx(eig, rel=1e-10)


def test_optimal_tunings_reach_their_rates_over_the_whole_spectrum():
    m, beta = 1.0, 100.0
    lam = np.linspace(m, beta, 2001)
    alpha, rate = rates.optimal_gd(m, beta)
    assert rate == pytest.approx(99 / 101, rel=1e-14)
    assert np.max(rates.gd_factor(alpha, lam)) == pytest.approx(rate, rel=1e-12)
    for a in (0.9 * alpha, 1.1 * alpha):          # any other step is slower somewhere
        assert np.max(rates.gd_factor(a, lam)) > rate
    alpha, mu, rate = rates.optimal_heavy_ball(m, beta)
    assert rate == pytest.approx(9 / 11, rel=1e-14) and mu == pytest.approx(rate**2, rel=1e-14)
    assert np.max(rates.heavy_ball_factor(alpha, mu, lam)) == pytest.approx(rate, rel=1e-6)
    # inside the spectrum the roots are complex: every direction shrinks at exactly sqrt(mu)
    np.testing.assert_allclose(rates.heavy_ball_factor(alpha, mu, lam[1:-1]), math.sqrt(mu), rtol=1e-12)


def test_measured_convergence_on_an_ill_conditioned_quadratic():
    A = np.diag([1.0, 100.0])
    f = functions.quadratic(A)
    assert rates.condition_number(A) == pytest.approx(100.0)
    a_gd, r_gd = rates.optimal_gd(1.0, 100.0)
    a_hb, mu, r_hb = rates.optimal_heavy_ball(1.0, 100.0)
    gd = np.linalg.norm(run(optim.GradientDescent(a_gd), f.grad, [1.0, 1.0], 300), axis=1)
    hb = np.linalg.norm(run(optim.Momentum(a_hb, mu), f.grad, [1.0, 1.0], 300), axis=1)
    assert (gd[300] / gd[200]) ** (1 / 100) == pytest.approx(r_gd, rel=1e-3)
    # at the ends of the spectrum the 2x2 map is a Jordan block: error ~ t rate^t
    assert (hb[300] / hb[200]) ** (1 / 100) == pytest.approx(r_hb * (300 / 200) ** (1 / 100), rel=2e-2)
    assert rates.steps_to(r_hb, 1e-8) < rates.steps_to(r_gd, 1e-8) / 8


def test_smoothness_is_called_beta_and_positional_use_still_works():
    assert rates.optimal_gd(m=1.0, beta=100.0) == rates.optimal_gd(1.0, 100.0) == (2 / 101, 99 / 101)
    assert rates.optimal_heavy_ball(m=1.0, beta=25.0) == rates.optimal_heavy_ball(1.0, 25.0)
    assert rates.optimal_heavy_ball(1.0, 25.0) == pytest.approx((1 / 9, 4 / 9, 2 / 3), rel=1e-14)


def test_polyak_edge_iterates_are_the_jordan_block_solutions():
    for kappa in (4.0, 100.0, 1e4):
        alpha, mu, rate = rates.optimal_heavy_ball(1.0, kappa)
        # the ends of the spectrum: a double root +-rate, and the map is not diagonalisable
        for lam, root in ((1.0, rate), (kappa, -rate)):
            M = rates.heavy_ball_matrix(alpha, mu, lam)
            np.testing.assert_allclose(np.linalg.eigvals(M), [root, root], rtol=1e-6, atol=1e-6)
            assert np.linalg.matrix_rank(M - root * np.eye(2), tol=1e-9) == 1
        T = 300
        path = run(optim.Momentum(alpha, mu), lambda w: np.array([1.0, kappa]) * w, [1.0, 1.0], T)
        w_m, w_beta = rates.polyak_edge_iterates(rate, np.arange(T + 1))
        np.testing.assert_allclose(path[:, 0], w_m, rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(path[:, 1], w_beta, rtol=1e-8, atol=1e-300)
        # the factor t: the error is far above rate^t, not a constant multiple of it
        assert abs(w_beta[T]) / rate**T > 0.9 * (1 + rate) * T
    w_m, w_beta = rates.polyak_edge_iterates(0.5, 0)
    assert w_m == 1.0 and w_beta == 1.0


def test_lessard_counterexample_is_smooth_strongly_convex_and_the_heavy_ball_cycles():
    fn = rates.lessard_counterexample
    for b in (1.0, 2.0):                            # value and gradient continuous at the joints
        assert fn.f(b - 1e-12) == pytest.approx(fn.f(b), abs=1e-9)
        assert fn.df(b - 1e-12) == pytest.approx(fn.df(b), abs=1e-9)
    x = np.linspace(-5.0, 5.0, 10_001)
    slopes = np.diff(fn.df(x)) / np.diff(x)          # the gradient's difference quotients lie in [m, beta]
    assert slopes.min() == pytest.approx(1.0, rel=1e-6) and slopes.max() == pytest.approx(25.0, rel=1e-6)
    np.testing.assert_allclose(fn.df(x), grad.central_difference(fn.f, x, 1e-6), rtol=1e-6, atol=1e-6)
    assert fn.f(0.0) == 0.0 and fn.df(0.0) == 0.0 and np.all(fn.f(x) >= 0.0)
    alpha, mu, _ = rates.optimal_heavy_ball(1.0, 25.0)
    path = run(optim.Momentum(alpha, mu), fn.df, 3.3, 1000)
    tail = path[-99:]
    np.testing.assert_allclose(tail[3:], tail[:-3], atol=1e-9)      # period 3
    assert np.min(np.abs(tail)) > 0.6                                 # never near x* = 0
    np.testing.assert_allclose(np.sort(tail[-3:]), [-1.8024, 0.6465, 2.1159], atol=1e-4)
    gd = run(optim.GradientDescent(2 / 26), fn.df, 3.3, 300)       # gradient descent converges from there
    assert abs(gd[-1]) < 1e-9


def test_rates_refuse_what_cannot_converge():
    with pytest.raises(ValueError, match="positive definite"):
        rates.condition_number(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError):
        rates.steps_to(1.0, 1e-3)
    assert rates.steps_to(0.5, 1e-3) == 10

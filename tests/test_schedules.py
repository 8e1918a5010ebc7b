"""Chapter 7: step-size schedules, Nesterov's method and AdamW, against their formulas and torch."""

import math

import numpy as np
import pytest

from descentlab import optim, rates, schedules
from test_adaptive import torch_run  # the same torch loop on f(w) = 1/2 w^T A w

run = optim.trajectory


def torch_lrs(make_scheduler, T, lr=1.0):
    """The learning rates a torch scheduler gives the first T steps (lr = 1: the factors)."""
    torch = pytest.importorskip("torch")
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    sched, out = make_scheduler(opt), []
    for _ in range(T):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def test_each_schedule_by_its_formula():
    T = 50
    t = np.arange(T)
    np.testing.assert_allclose(schedules.values(schedules.constant(0.3), T), 0.3)
    np.testing.assert_allclose(schedules.values(schedules.inverse_time(0.5, 0.1), T), 0.5 / (1 + 0.1 * t))
    np.testing.assert_allclose(schedules.values(schedules.step_decay(0.4, 0.5, 10), T), 0.4 * 0.5 ** (t // 10))
    cos = schedules.cosine(0.2, 40, alpha_min=0.01)
    assert cos(0) == pytest.approx(0.2) and cos(20) == pytest.approx(0.105) and cos(40) == pytest.approx(0.01)
    assert cos(45) == pytest.approx(0.01), "after T the step stays at alpha_min"
    pc = schedules.piecewise_constant([3, 7], [1.0, 0.5, 0.25])
    assert [pc(s) for s in range(9)] == [1.0] * 3 + [0.5] * 4 + [0.25] * 2
    assert schedules.linear_scaling(0.1, 32, 256) == pytest.approx(0.8)
    assert schedules.values(0.7, 3) == [0.7, 0.7, 0.7]


def test_warmup_starts_small_but_not_at_zero_and_reaches_the_schedule():
    w = schedules.warmup(schedules.constant(0.6), 4)
    assert [w(s) for s in range(6)] == pytest.approx([0.15, 0.3, 0.45, 0.6, 0.6, 0.6])
    wc = schedules.warmup_cosine(1.0, 5, 25)
    assert wc(0) == pytest.approx(0.2) and wc(4) == pytest.approx(1.0) and wc(5) == pytest.approx(1.0)
    assert wc(15) == pytest.approx(0.5) and wc(25) == pytest.approx(0.0) and wc(30) == pytest.approx(0.0)
    assert schedules.warmup(schedules.constant(0.6), 0)(0) == 0.6, "no warm-up is the schedule itself"


def test_schedules_equal_torch_lr_schedulers():
    torch = pytest.importorskip("torch")
    S = torch.optim.lr_scheduler
    T = 60
    np.testing.assert_allclose(schedules.values(schedules.step_decay(1.0, 0.3, 7), T),
                               torch_lrs(lambda o: S.StepLR(o, step_size=7, gamma=0.3), T), rtol=1e-12)
    # torch's cosine climbs again after T_max (a period of 2 T_max); ours stays at alpha_min
    np.testing.assert_allclose(schedules.values(schedules.cosine(1.0, 45, 0.05), 46),
                               torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=45, eta_min=0.05), 46),
                               rtol=1e-9, atol=1e-12)
    ours = schedules.values(schedules.warmup_cosine(1.0, 8, T), T)
    theirs = torch_lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=1 / 8, total_iters=7),
                                                    S.CosineAnnealingLR(o, T_max=T - 8)], milestones=[8]), T)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_schedule_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="must be longer than its warm-up"):
        schedules.warmup_cosine(1.0, 10, 10)
    with pytest.raises(ValueError, match="2 boundaries need 3 values"):
        schedules.piecewise_constant([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="must increase"):
        schedules.piecewise_constant([5, 2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 1"):
        schedules.step_decay(1.0, 0.5, 0)


def test_robbins_monro_inverse_time_sums():
    """sum alpha_t grows without bound (like log T), sum alpha_t^2 converges: Robbins and Monro's conditions."""
    a = np.array(schedules.values(schedules.inverse_time(1.0, 1.0), 200_000))
    partial = np.cumsum(a)
    assert partial[-1] - partial[19_999] == pytest.approx(math.log(10), rel=1e-3)   # log T: unbounded
    assert np.sum(a**2) == pytest.approx(math.pi**2 / 6, rel=1e-4)                  # sum 1/t^2 converges


def test_every_optimizer_takes_a_schedule():
    alpha = schedules.piecewise_constant([2], [0.1, 0.01])
    for opt in (optim.SGD(alpha), optim.Momentum(alpha, 0.5), optim.Nesterov(alpha, 0.5), optim.SGDEM(alpha, 0.5, 1),
                optim.AdaGrad(alpha), optim.RMSProp(alpha), optim.LectureAdam(alpha), optim.Adam(alpha),
                optim.AdamW(alpha)):
        path = run(opt, lambda w: 2 * w, np.array([1.0]), 4)
        assert np.all(np.isfinite(path)) and path[-1, 0] < 1.0, type(opt).__name__
        const = run(type(opt)(**{**opt.__dict__, "alpha": 0.1}), lambda w: 2 * w, np.array([1.0]), 4)
        np.testing.assert_array_equal(path[:3], const[:3], err_msg=type(opt).__name__)
        assert not np.allclose(path[3:], const[3:]), f"{type(opt).__name__} ignored the schedule after t = 2"


@pytest.fixture
def problem():
    rng = np.random.default_rng(7)
    M = rng.normal(size=(5, 5))
    return M @ M.T + 0.3 * np.eye(5), rng.normal(size=5)


def test_nesterov_equals_torch_sgd_nesterov(problem):
    torch = pytest.importorskip("torch")
    A, w0 = problem
    ours = run(optim.Nesterov(0.02, 0.9), lambda w: A @ w, w0, 80)[1:]
    theirs = torch_run(lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True), A, w0, 80)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_nesterov_pytorch_form_is_the_lookahead_form(problem):
    """w_t = x_t + mu v_{t-1}: the stored point of PyTorch's form is the look-ahead point."""
    A, x = problem
    alpha, mu = 0.03, 0.8
    grad = lambda w: A @ w                                  # noqa: E731
    ours = run(optim.Nesterov(alpha, mu), grad, x, 60)
    v = np.zeros_like(x)
    for t in range(60):
        np.testing.assert_allclose(ours[t], x + mu * v, rtol=1e-12, atol=1e-14)
        x, v = optim.nesterov_lookahead_step(x, v, grad, alpha, mu)
    heavy = run(optim.Momentum(alpha, mu), grad, problem[1], 60)
    assert not np.allclose(ours[1:], heavy[1:]), "Nesterov is not the heavy ball"


def test_nesterov_first_step_by_hand():
    opt = optim.Nesterov(0.1, 0.9)
    params, grads = {"w": np.array([1.0, 2.0])}, {"w": np.array([0.5, -1.0])}
    new, state = opt.update(params, grads, opt.init(params))
    np.testing.assert_allclose(state.v["w"], [0.5, -1.0])                    # b_1 = g_1
    np.testing.assert_allclose(new["w"], [1.0 - 0.1 * 1.9 * 0.5, 2.0 + 0.1 * 1.9])
    assert np.array_equal(params["w"], [1.0, 2.0]), "update must not change its inputs"
    with pytest.raises(ValueError, match="mu must lie in"):
        optim.Nesterov(0.1, 1.0)


def test_nesterov_rate_on_quadratics_and_its_guarantee_on_lessard():
    m, beta = 1.0, 100.0
    alpha, mu, rate = rates.nesterov_tuning(m, beta)
    assert (alpha, mu, rate) == pytest.approx((0.01, 9 / 11, 0.9))
    lam = np.linspace(m, beta, 50)
    factor = rates.nesterov_factor(alpha, mu, lam)      # a double root at lam = m: eig is good to ~1e-8
    assert np.max(factor) <= rate + 1e-6 and factor[0] == pytest.approx(rate, rel=1e-6)
    assert factor[0] < rates.optimal_gd(m, beta)[1], "faster than the best gradient descent (99/101)"
    # Lessard's function: the global bound f(x_t) - f* <= rate^t (f(x_0) - f* + m/2 x_0^2) at every step
    f = rates.lessard_counterexample
    alpha, mu, rate = rates.nesterov_tuning(1.0, 25.0)
    for x0 in (-4.0, 0.7, 1.5, 3.3, 10.0):
        x, v = np.array(x0), np.array(0.0)
        start = f.f(x0) + 0.5 * x0**2
        for t in range(1, 120):
            x, v = optim.nesterov_lookahead_step(x, v, f.df, alpha, mu)
            assert f.f(x) <= rate**t * start * (1 + 1e-9) + 1e-300, (x0, t)
        assert abs(x) < 1e-8


def test_adamw_equals_torch_adamw(problem):
    torch = pytest.importorskip("torch")
    A, w0 = problem
    ours = run(optim.AdamW(0.05, 0.9, 0.99, 1e-8, gamma=0.3), lambda w: A @ w, w0, 100)[1:]
    theirs = torch_run(lambda p: torch.optim.AdamW(p, lr=0.05, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.3),
                       A, w0, 100)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)


def test_adamw_without_decay_is_adam_and_l2_is_not_decoupled_decay(problem):
    A, w0 = problem
    grad = lambda w: A @ w                                  # noqa: E731
    np.testing.assert_allclose(run(optim.AdamW(0.05, gamma=0.0), grad, w0, 50), run(optim.Adam(0.05), grad, w0, 50),
                               rtol=1e-14)
    gamma = 0.5
    l2 = run(optim.Adam(0.05), lambda w: A @ w + gamma * w, w0, 50)
    decoupled = run(optim.AdamW(0.05, gamma=gamma), grad, w0, 50)
    assert np.max(np.abs(l2 - decoupled)) > 1e-2, "under Adam an l2 term is not decoupled decay"
    # under SGD they are the same update
    sgd_l2 = run(optim.SGD(0.05), lambda w: A @ w + gamma * w, w0, 50)
    w = w0.copy()
    for _ in range(50):
        w = (1 - 0.05 * gamma) * w - 0.05 * grad(w)
    np.testing.assert_allclose(sgd_l2[-1], w, rtol=1e-12)
    got = optim.with_l2({"w": np.array([1.0, -2.0])}, {"w": np.array([0.5, 0.5])}, 0.1)
    np.testing.assert_allclose(got["w"], [0.6, 0.3])


def test_adamw_first_step_by_hand():
    opt = optim.AdamW(alpha=0.1, gamma=0.2)
    params, grads = {"w": np.array([2.0, -1.0])}, {"w": np.array([0.3, -4.0])}
    new, state = opt.update(params, grads, opt.init(params))
    # the first bias-corrected Adam step is alpha g / (|g| + eps): alpha sign(g)
    np.testing.assert_allclose(new["w"], [(1 - 0.02) * 2.0 - 0.1, (1 - 0.02) * -1.0 + 0.1], rtol=1e-7)
    assert state.t == 1 and np.array_equal(params["w"], [2.0, -1.0])


def test_the_noise_floor_of_a_constant_step():
    """v = (1 - alpha h)^2 v + alpha^2 sigma^2, and a simulation settles there."""
    v = rates.sgd_stationary_variance(0.1, 1.0, 1.0)
    assert v == pytest.approx(0.1 / 1.9) and v == pytest.approx(0.81 * v + 0.01)
    assert rates.sgd_stationary_variance(1.0, 1.0, 1.0) == pytest.approx(1.0)
    np.testing.assert_allclose(rates.sgd_stationary_variance(np.array([0.1, 0.2]), 2.0, 3.0),
                               [0.9 / 3.6, 1.8 / 3.2])
    with pytest.raises(ValueError, match="0 < alpha h < 2"):
        rates.sgd_stationary_variance(2.0, 1.0, 1.0)
    rng = np.random.default_rng(0)
    w = np.zeros(20_000)
    for _ in range(300):
        w = w - 0.2 * (1.5 * w + 0.5 * rng.standard_normal(w.size))
    assert np.mean(w**2) == pytest.approx(rates.sgd_stationary_variance(0.2, 1.5, 0.5), rel=0.03)

"""Chapter 6: SGD with early momentum, neighbouring data sets and the stability gap."""

import numpy as np
import pytest

from descentlab import data, optim, stability


def test_sgdem_is_momentum_then_sgd():
    rng = np.random.default_rng(0)
    gs = rng.normal(size=(12, 3))
    grads = iter(gs)
    path = optim.trajectory(optim.SGDEM(0.1, 0.9, T0=5), lambda w: next(grads), np.zeros(3), 12)
    w, v = np.zeros(3), np.zeros(3)
    for t in range(12):
        if t < 5:
            v = 0.9 * v - 0.1 * gs[t]
            w = w + v
        else:
            w = w - 0.1 * gs[t]
        np.testing.assert_allclose(path[t + 1], w, rtol=1e-13, atol=1e-15)
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    f = lambda w: A @ w
    w0 = np.array([1.0, -1.0])
    np.testing.assert_array_equal(optim.trajectory(optim.SGDEM(0.1, 0.9, T0=0), f, w0, 20),
                                  optim.trajectory(optim.SGD(0.1), f, w0, 20))
    np.testing.assert_array_equal(optim.trajectory(optim.SGDEM(0.1, 0.9, T0=20), f, w0, 20),
                                  optim.trajectory(optim.Momentum(0.1, 0.9), f, w0, 20))
    with pytest.raises(ValueError):
        optim.SGDEM(0.1, 1.0, T0=3)
    with pytest.raises(ValueError):
        optim.SGDEM(0.1, 0.5, T0=-1)


def test_neighbouring_replaces_one_example_and_leaves_the_input():
    X, y = np.arange(12.0).reshape(4, 3), np.array([1.0, -1.0, 1.0, -1.0])
    X2, y2 = stability.neighbouring(X, y, 2, np.array([9.0, 9.0, 9.0]), -1.0)
    assert np.array_equal(X, np.arange(12.0).reshape(4, 3)) and y[2] == 1.0
    assert np.array_equal(X2[[0, 1, 3]], X[[0, 1, 3]]) and np.array_equal(X2[2], [9.0, 9.0, 9.0]) and y2[2] == -1.0


def test_logistic_constants_bound_gradient_and_curvature():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    G, beta = stability.logistic_constants(X)
    for _ in range(20):
        w, n = rng.normal(size=4) * 3, rng.integers(50)
        m = X[n] @ w
        g = -X[n] / (1 + np.exp(m))                       # gradient for y = +1
        hess = X[n][:, None] * X[n][None, :] * np.exp(m) / (1 + np.exp(m)) ** 2
        assert np.linalg.norm(g) <= G + 1e-12
        assert np.max(np.linalg.eigvalsh(hess)) <= beta + 1e-12


@pytest.fixture(scope="module")
def cancer():
    """A split whose held-out examples (X_test) serve as replacements: none of them is in S."""
    return data.breast_cancer(np.random.default_rng(0))


def test_paired_runs_match_a_plain_loop_for_one_pair(cancer):
    split = cancer
    X, y = split.X_train[:40], split.y_train[:40]
    def alpha(t):
        return 0.05 if t < 50 else 0.2                 # a schedule: the step changes at the switch
    runs = stability.paired_logistic_runs(X, y, split.X_test, split.y_test, split.X_test, split.y_test, pairs=1,
                                          alpha=alpha, mu=0.9, T0=50, epochs=2, rng=np.random.default_rng(3))
    # the same random choices, replayed one by one
    rng = np.random.default_rng(3)
    i = rng.integers(0, 40, size=1)[0]
    X2, y2 = stability.neighbouring(X, y, i, split.X_test[0], split.y_test[0])
    runs_w = []
    for Xs, ys in ((X, y), (X2, y2)):
        r = np.random.default_rng(3)
        r.integers(0, 40, size=1)
        opt, params = optim.SGDEM(alpha, 0.9, T0=50), {"w": np.zeros(X.shape[1])}
        state = opt.init(params)
        for _ in range(2):
            for j in r.permuted(np.tile(np.arange(40), (1, 1)), axis=1)[0]:
                m = ys[j] * (Xs[j] @ params["w"])
                g = -ys[j] * Xs[j] * np.exp(-np.logaddexp(0.0, m))
                params, state = opt.update(params, {"w": g}, state)
        runs_w.append(params["w"])
    assert runs.gap[-1] == pytest.approx(np.linalg.norm(runs_w[0] - runs_w[1]), rel=1e-10)
    assert runs.gap[0] == 0.0 and runs.epoch.tolist() == [0, 1, 2]


def test_sgd_stays_within_its_bound_on_every_pair(cancer):
    split = cancer
    G, beta = stability.logistic_constants(np.vstack([split.X_train, split.X_test]))
    alpha = min(0.05, 2 / beta)
    runs = stability.paired_logistic_runs(split.X_train, split.y_train, split.X_test, split.y_test, split.X_test,
                                          split.y_test, pairs=64, alpha=alpha, epochs=4, rng=np.random.default_rng(4))
    bounds = np.array([stability.sgd_stability_bound(G, alpha, e) for e in runs.epoch])
    assert np.all(runs.gap_max <= bounds + 1e-12)
    assert runs.gap[-1] > 0 and np.all(np.diff(runs.train_loss) < 0.05)


def test_a_replacement_equal_to_the_original_changes_nothing(cancer):
    split = cancer
    X, y = split.X_train[:1], split.y_train[:1]          # N = 1: every pair replaces row 0 by itself
    same = stability.paired_logistic_runs(X, y, X, y, split.X_test, split.y_test, pairs=3, alpha=0.05, mu=0.9,
                                          epochs=3, rng=np.random.default_rng(6))
    assert np.all(same.gap == 0.0) and same.train_loss[-1] < same.train_loss[0]


def test_momentum_gaps_exceed_sgd_and_early_momentum_stops_the_growth(cancer):
    split = cancer
    gaps = {}
    for name, kw in {"sgd": dict(alpha=0.01, mu=0.0), "sgdm": dict(alpha=0.01, mu=0.9),
                     "sgdem": dict(alpha=0.01, mu=0.9, T0=len(split.X_train))}.items():
        runs = stability.paired_logistic_runs(split.X_train, split.y_train, split.X_test, split.y_test, split.X_test,
                                              split.y_test, pairs=64, epochs=6, rng=np.random.default_rng(7), **kw)
        gaps[name] = runs.gap
    assert gaps["sgdm"][-1] > 2 * gaps["sgd"][-1]
    assert gaps["sgdem"][-1] < gaps["sgdm"][-1]
    # after its momentum phase SGDEM's gap grows no faster than SGD's at the same alpha
    assert gaps["sgdem"][-1] - gaps["sgdem"][1] < gaps["sgd"][-1] - gaps["sgd"][1]


def test_sgdem_is_a_step_decay_on_the_logistic_loss(cancer):
    """Chapter 6's control: SGD whose step falls from alpha/(1-mu) to alpha at T0 tracks SGDEM."""
    split = cancer
    N = len(split.X_train)
    runs = {name: stability.paired_logistic_runs(split.X_train, split.y_train, split.X_test, split.y_test,
                                                 split.X_test, split.y_test, pairs=32, epochs=5,
                                                 rng=np.random.default_rng(8), **kw)
            for name, kw in {"sgdem": dict(alpha=0.01, mu=0.9, T0=2 * N),
                             "decay": dict(alpha=lambda t: 0.1 if t < 2 * N else 0.01),
                             "sgd": dict(alpha=0.01)}.items()}
    np.testing.assert_allclose(runs["sgdem"].gap[1:], runs["decay"].gap[1:], rtol=0.15)
    np.testing.assert_allclose(runs["sgdem"].train_loss, runs["decay"].train_loss, atol=0.005)
    assert runs["sgdem"].gap[-1] > 1.2 * runs["sgd"].gap[-1]         # and differs from SGD at alpha

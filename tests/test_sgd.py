"""Chapter 3: the optimizer contract, sampling, datasets, linear models and the training loop."""

import numpy as np
import pytest

from descentlab import data, grad, linear, losses, nn, optim, train


# ---------------------------------------------------------------- optimizer contract

def test_sgd_update_is_pure_and_counts_steps():
    params = {"w": np.array([1.0, -2.0]), "b": np.array([0.5])}
    grads = {"w": np.array([0.5, 0.5]), "b": np.array([-1.0])}
    before = {k: v.copy() for k, v in params.items()}
    opt = optim.SGD(alpha=0.1)
    state = opt.init(params)
    assert state.t == 0
    new, state1 = opt.update(params, grads, state)
    np.testing.assert_allclose(new["w"], [0.95, -2.05])
    np.testing.assert_allclose(new["b"], [0.6])
    assert state1.t == 1 and state.t == 0
    assert all(np.array_equal(params[k], before[k]) for k in params), "update changed its inputs"
    again, _ = opt.update(params, grads, state)
    assert all(np.array_equal(again[k], new[k]) for k in new), "same inputs, different outputs"
    assert "alpha=0.1" in repr(opt)


def test_schedule_and_errors():
    opt = optim.SGD(alpha=optim.inverse_time(1.0, 0.5))
    params, grads = {"w": np.zeros(1)}, {"w": np.ones(1)}
    state = opt.init(params)
    steps = []
    for _ in range(3):
        new, state = opt.update(params, grads, state)
        steps.append(-new["w"][0])
    np.testing.assert_allclose(steps, [1.0, 1 / 1.5, 1 / 2.0])
    with pytest.raises(KeyError):
        opt.update(params, {"v": np.ones(1)}, state)
    with pytest.raises(ValueError, match="shape"):
        opt.update(params, {"w": np.ones(2)}, state)


def test_sgd_with_full_batch_equals_gradient_descent():
    rng = np.random.default_rng(0)
    X, y, _ = data.linear_regression(40, 3, rng)
    a, b = linear.LeastSquares(3), linear.LeastSquares(3)
    h = train.train(a, optim.SGD(0.05), X, y, epochs=5, batch_size=40, rng=np.random.default_rng(1),
                    loss=losses.quadratic)
    w, gd = np.zeros(3), optim.GradientDescent(0.05)
    state = gd.init({"w": w})
    for _ in range(5):
        _, g = b.loss_and_grad(X, y)
        new, state = gd.update(b.params, g, state)
        optim.apply(b.params, new)
    np.testing.assert_allclose(a.params["w"], b.params["w"], rtol=1e-13)
    assert h.steps == [0, 1, 2, 3, 4, 5]


# ---------------------------------------------------------------- sampling

def test_minibatches_cover_every_sample_once_per_epoch():
    rng = np.random.default_rng(3)
    for N, B in ((10, 3), (12, 4), (7, 7), (5, 10)):
        batches = list(data.minibatches(N, B, rng))
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(N))
        assert [len(b) for b in batches] == [B] * (N // B) + ([N % B] if N % B else [])
        kept = list(data.minibatches(N, B, rng, drop_last=True))
        assert all(len(b) == B for b in kept) and len(kept) == N // B
    with pytest.raises(ValueError):
        list(data.minibatches(5, 0, rng))


def test_each_epoch_draws_a_new_permutation_and_seeds_reproduce():
    rng = np.random.default_rng(4)
    epochs = [np.concatenate(list(data.minibatches(50, 8, rng))) for _ in range(3)]
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    again = np.random.default_rng(4)
    assert np.array_equal(np.concatenate(list(data.minibatches(50, 8, again))), epochs[0])


def test_sample_index_is_uniform():
    rng = np.random.default_rng(5)
    counts = np.bincount([data.sample_index(4, rng) for _ in range(40000)], minlength=4)
    # chi-square with 3 degrees of freedom; 16.3 is its 0.999 quantile
    chi2 = np.sum((counts - 10000) ** 2 / 10000)
    assert chi2 < 16.3


def test_stochastic_gradient_is_unbiased():
    """E_j[grad l_j(w)] = grad R_N(w), exactly, over the N equally likely indices."""
    rng = np.random.default_rng(6)
    X, y, _ = data.linear_regression(30, 4, rng)
    model = linear.LeastSquares(4)
    model.params["w"][:] = rng.normal(size=4)
    _, full = model.loss_and_grad(X, y)
    per_sample = np.array([model.loss_and_grad(X[j:j + 1], y[j:j + 1])[1]["w"] for j in range(30)])
    np.testing.assert_allclose(per_sample.mean(axis=0), full["w"], rtol=1e-12)


# ---------------------------------------------------------------- datasets

def test_split_standardises_with_training_statistics_only():
    rng = np.random.default_rng(7)
    X = rng.normal(loc=5.0, scale=3.0, size=(100, 3))
    X[:, 2] = 1.0  # a constant feature stays finite
    y = np.arange(100)
    s = data.split_and_standardise(X, y, np.random.default_rng(8), test_fraction=0.2)
    assert s.X_train.shape == (80, 3) and s.X_test.shape == (20, 3)
    np.testing.assert_allclose(s.X_train[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(s.X_train[:, :2].std(axis=0), 1.0, rtol=1e-12)
    assert abs(s.X_test[:, 0].mean()) > 1e-6  # test data is scaled by the TRAINING statistics
    assert np.all(np.isfinite(s.X_train))
    assert sorted(np.concatenate([s.y_train, s.y_test]).tolist()) == list(range(100))
    t = data.split_and_standardise(X, y, np.random.default_rng(8), test_fraction=0.2)
    assert np.array_equal(s.y_test, t.y_test)


def test_real_datasets():
    d = data.digits(np.random.default_rng(0))
    assert d.X_train.shape[1] == 64 and d.X_train.shape[0] + d.X_test.shape[0] == 1797
    assert set(np.unique(d.y_train)) == set(range(10))
    bc = data.breast_cancer(np.random.default_rng(0))
    assert set(np.unique(bc.y_train)) == {-1, 1} and bc.X_train.shape[1] == 30
    assert set(np.unique(data.breast_cancer(np.random.default_rng(0), labels="01").y_train)) == {0, 1}


def test_synthetic_datasets():
    rng = np.random.default_rng(9)
    X, y, w = data.linearly_separable(200, 3, rng, margin=0.1)
    assert X.shape == (200, 3) and np.all(y * (X @ w) >= 0.1)
    X, labels = data.two_moons(101, 0.1, rng)
    assert X.shape == (101, 2) and np.bincount(labels).tolist() == [50, 51]


# ---------------------------------------------------------------- logistic regression

def test_logistic_sgd_step_is_the_gradient_step():
    rng = np.random.default_rng(10)
    w, x, y = rng.normal(size=5), rng.normal(size=5), -1.0
    g = grad.numerical_gradient(lambda v: np.log1p(np.exp(-y * v @ x)), w)
    np.testing.assert_allclose(linear.logistic_sgd_step(w, x, y, 0.3), w - 0.3 * g, rtol=1e-8)
    model = linear.LogisticRegression(5)
    model.params["w"][:] = w
    _, gm = model.loss_and_grad(x[None, :], np.array([y]))
    np.testing.assert_allclose(gm["w"], g, rtol=1e-8)


def test_logistic_step_approaches_the_perceptron():
    """Far on the wrong side the step is alpha y x (Perceptron-like); far on the right side, none."""
    x, y = np.array([1.0, 2.0]), 1.0
    wrong = np.array([-30.0, -30.0])
    right = np.array([30.0, 30.0])
    np.testing.assert_allclose(linear.logistic_sgd_step(wrong, x, y, 1.0) - wrong, y * x, rtol=1e-12)
    np.testing.assert_allclose(linear.logistic_sgd_step(right, x, y, 1.0), right, rtol=1e-12)
    np.testing.assert_allclose(linear.perceptron_step(wrong, x, y), wrong + x)
    np.testing.assert_allclose(linear.perceptron_step(right, x, y), right)


# ---------------------------------------------------------------- training loop

def test_training_is_reproducible_and_learns_digits():
    d = data.digits(np.random.default_rng(0))

    def run():
        model = nn.MLP([64, 32, 10], "relu", np.random.default_rng(1))
        return train.train(model, optim.SGD(0.1), d.X_train, d.y_train, epochs=5, batch_size=32,
                           rng=np.random.default_rng(2), X_test=d.X_test, y_test=d.y_test)

    h1, h2 = run(), run()
    assert h1.train_loss == h2.train_loss and h1.test_acc == h2.test_acc
    assert len(h1.epoch) == 6 and h1.steps[-1] == 5 * int(np.ceil(len(d.y_train) / 32))
    assert h1.train_loss[-1] < 0.2 * h1.train_loss[0]
    assert h1.test_acc[-1] > 0.9


def test_progress_bar_only_when_asked(capsys):
    rng = np.random.default_rng(0)
    X, y, _ = data.linear_regression(20, 2, rng)
    train.train(linear.LeastSquares(2), optim.SGD(0.1), X, y, epochs=2, batch_size=5, rng=rng,
                loss=losses.quadratic, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss" in err
    h = train.train(linear.LeastSquares(2), optim.SGD(0.1), X, y, epochs=2, batch_size=5, rng=rng,
                    loss=losses.quadratic)
    assert capsys.readouterr().err == ""
    assert h.train_acc == [None, None, None] and h.test_loss == [None, None, None]


# ---------------------------------------------------------------- formulas of the chapter

def test_minibatch_variance_law_by_exact_enumeration():
    """E||g_B - grad R_N||^2 over ALL batches equals the law, with and without replacement."""
    import itertools

    rng = np.random.default_rng(11)
    N, d = 6, 2
    G = rng.normal(size=(N, d))                      # per-sample gradients
    mean = G.mean(axis=0)
    sigma2 = np.mean(np.sum((G - mean) ** 2, axis=1))
    for B in (1, 2, 3, 6):
        without = [np.sum((G[list(S)].mean(axis=0) - mean) ** 2) for S in itertools.combinations(range(N), B)]
        assert np.mean(without) == pytest.approx(float(data.minibatch_variance(sigma2, N, B)), rel=1e-12)
        with_ = [np.sum((G[list(S)].mean(axis=0) - mean) ** 2) for S in itertools.product(range(N), repeat=B)]
        assert np.mean(with_) == pytest.approx(float(data.minibatch_variance(sigma2, N, B, replace=True)), rel=1e-12)
    assert data.minibatch_variance(sigma2, N, N) == 0.0


def test_landscape_functions_and_their_derivatives():
    from descentlab import functions as F

    x = np.linspace(-2.0, 2.0, 9)
    for fn in (F.double_well, F.cubic, F.plateau, F.saddle_then_minimum):
        numeric = np.array([grad.central_difference(fn.f, xi) for xi in x])
        np.testing.assert_allclose(fn.df(x), numeric, rtol=1e-7, atol=1e-9)
    # the double well has two minima and a maximum where f' = 0
    roots = np.sort(np.roots([1.0, 0.0, -2.0, 0.3]).real)
    np.testing.assert_allclose(F.double_well.df(roots), 0.0, atol=1e-12)
    assert F.double_well.f(roots[0]) < F.double_well.f(roots[2]) < F.double_well.f(roots[1])
    # the 2-D saddle: gradient (x1, -x2), zero at the origin
    np.testing.assert_allclose(F.saddle.grad(np.array([0.3, 0.5])), [0.3, -0.5])
    assert F.saddle(np.array([1.0, 0.0])) > 0 > F.saddle(np.array([0.0, 1.0]))
    # chapter 4's flat saddle: f' = 0 at 0 (no sign change) and at the minimum -1
    s = F.saddle_then_minimum
    assert s.df(0.0) == 0.0 == s.df(-1.0) and s.df(-0.5) > 0 and s.df(0.5) > 0
    assert s.f(-1.0) == min(s.f(x))


# ---------------------------------------------------------------- the risk after every step

def test_trace_steps_records_every_step_and_counts_examples():
    rng = np.random.default_rng(12)
    X, y, _ = data.linear_regression(10, 2, rng)
    model = linear.LeastSquares(2)
    tr = train.trace_steps(model, optim.SGD(0.05), X, y, steps=7, batch_size=4, rng=np.random.default_rng(13),
                           loss=losses.quadratic)
    assert tr.steps.tolist() == list(range(8)) and tr.steps_per_epoch == 3
    # batches of 4, 4, 2 per epoch of N = 10: the last, smaller batch counts 2 examples
    assert tr.examples.tolist() == [0, 4, 8, 10, 14, 18, 20, 24]
    assert tr.train_loss[0] == pytest.approx(np.mean(y ** 2), rel=1e-12)
    assert tr.train_loss[-1] == pytest.approx(losses.quadratic(X @ model.params["w"], y)[0], rel=1e-12)
    # the same seed gives the same run as the epoch loop of train.train, step for step
    other = linear.LeastSquares(2)
    train.train(other, optim.SGD(0.05), X, y, epochs=2, batch_size=4, rng=np.random.default_rng(13),
                loss=losses.quadratic)
    again = linear.LeastSquares(2)
    tr6 = train.trace_steps(again, optim.SGD(0.05), X, y, steps=6, batch_size=4, rng=np.random.default_rng(13),
                            loss=losses.quadratic)
    np.testing.assert_allclose(again.params["w"], other.params["w"], rtol=1e-13)
    np.testing.assert_array_equal(tr6.train_loss, tr.train_loss[:7])


def test_train_and_trace_steps_run_the_same_loop_and_draw_the_same_permutations():
    X, y, _ = data.linear_regression(11, 2, np.random.default_rng(16))
    for drop_last, per_epoch in ((False, 3), (True, 2)):     # N = 11, B = 4: batches 4, 4, 3 or 4, 4
        a, b = linear.LeastSquares(2), linear.LeastSquares(2)
        rng_a, rng_b = np.random.default_rng(17), np.random.default_rng(17)
        h = train.train(a, optim.SGD(0.05), X, y, epochs=3, batch_size=4, rng=rng_a, loss=losses.quadratic,
                        drop_last=drop_last)
        tr = train.trace_steps(b, optim.SGD(0.05), X, y, steps=3 * per_epoch, batch_size=4, rng=rng_b,
                               loss=losses.quadratic, drop_last=drop_last)
        np.testing.assert_array_equal(a.params["w"], b.params["w"])
        assert h.steps == [0, per_epoch, 2 * per_epoch, 3 * per_epoch] and tr.steps_per_epoch == per_epoch
        np.testing.assert_array_equal(h.train_loss, tr.train_loss[::per_epoch])
        assert tr.steps.tolist() == list(range(3 * per_epoch + 1))
        # both drew exactly three permutations: no epoch is started beyond the last step
        rng_c = np.random.default_rng(17)
        for _ in range(3):
            rng_c.permutation(11)
        assert rng_a.bit_generator.state == rng_b.bit_generator.state == rng_c.bit_generator.state
    s = np.array([2.0, 0.0, -0.0, -1e-300])
    assert linear.sign_labels(s).tolist() == [1, 1, 1, -1]      # 0 counts as +1


def test_trace_steps_full_batch_is_gradient_descent_and_first_below():
    rng = np.random.default_rng(14)
    X, y, _ = data.linearly_separable(50, 3, rng, margin=0.05)
    tr = train.trace_steps(linear.LogisticRegression(3), optim.SGD(0.5), X, y, steps=30, batch_size=50,
                           rng=np.random.default_rng(0), loss=losses.logistic)
    w, risks = np.zeros(3), []
    for _ in range(31):
        r, ds = losses.logistic(X @ w, y)
        risks.append(r)
        w = w - 0.5 * X.T @ ds
    np.testing.assert_allclose(tr.train_loss, risks, rtol=1e-12)
    assert np.all(np.diff(tr.train_loss) < 0)
    target = tr.train_loss[11] * 1.0000001          # first reached at step 11
    assert tr.first_below(target) == 11
    assert tr.first_below(target, every=5) == 15     # checked only every 5 steps: rounded up
    assert tr.first_below(0.0) is None


def test_evaluate_gives_sign_accuracy_for_logistic_scores():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    y = np.array([1, 1, -1, 1])
    model = linear.LogisticRegression(2)
    model.params["w"][:] = [1.0, 0.0]     # scores 1, 0, -1, 0: predicts +1, +1, -1, +1
    value, acc = train.evaluate(model, X, y, losses.logistic)
    assert acc == 1.0 and value == pytest.approx(losses.logistic(X @ model.params["w"], y)[0])
    model.params["w"][:] = [-1.0, 0.0]    # scores -1, 0, 1, 0: predicts -1, +1, +1, +1
    assert train.evaluate(model, X, y, losses.logistic)[1] == 0.5


# ---------------------------------------------------------------- separable data

def test_separating_vector_and_max_margin_on_separable_data():
    rng = np.random.default_rng(15)
    X, y, w_star = data.linearly_separable(60, 2, rng, margin=0.2)
    w = linear.separating_vector(X, y)
    assert w is not None and np.all(y * (X @ w) >= 1 - 1e-9)
    w_hat = linear.max_margin(X, y)
    assert np.min(y * (X @ w_hat)) == pytest.approx(1.0, abs=1e-6)
    gamma = 1 / np.linalg.norm(w_hat)
    # brute force over unit vectors u(phi): the best margin min_n y_n u^T x_n
    phi = np.linspace(0, 2 * np.pi, 200001)
    U = np.stack([np.cos(phi), np.sin(phi)], axis=1)
    best = np.max(np.min(y[:, None] * (X @ U.T), axis=0))
    assert gamma == pytest.approx(best, rel=1e-4)
    assert gamma >= 0.2 - 1e-9                    # w_star has margin >= 0.2 by construction
    # with no minimizer, the logistic risk falls along the separating ray towards 0
    risks = [losses.logistic(X @ (c * w_hat), y)[0] for c in (1, 10, 100)]
    assert risks[0] > risks[1] > risks[2] > 0


def test_separating_vector_none_when_not_separable():
    X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    y = np.array([1, 1, -1, -1])          # XOR through the origin: no separating w
    assert linear.separating_vector(X, y) is None
    with pytest.raises(ValueError, match="not linearly separable"):
        linear.max_margin(X, y)


def test_gradient_noise_scale_by_hand_and_against_the_batch_noise():
    from descentlab import data
    G = np.array([[1.0, 0.0], [3.0, 2.0]])                   # mean (2, 1), deviations (+-1, +-1)
    assert data.gradient_noise_scale(G) == pytest.approx(2.0 / 5.0)
    rng = np.random.default_rng(0)
    G = rng.normal(size=(400, 3)) + np.array([0.3, 0.0, 0.0])
    B = round(data.gradient_noise_scale(G))
    g = G.mean(axis=0)
    batches = G[rng.integers(0, 400, size=(4000, B))].mean(axis=1)   # with replacement
    assert np.mean(np.sum((batches - g) ** 2, axis=1)) == pytest.approx(g @ g, rel=0.15)

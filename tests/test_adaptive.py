"""Chapter 5: AdaGrad, RMSProp, the lecture's Adam and Kingma and Ba's Adam."""

import numpy as np
import pytest

from descentlab import data, functions, nn, optim, train

run = optim.trajectory


def torch_run(make_opt, A, w0, T):
    """Iterates of a torch optimizer on f(w) = 1/2 w^T A w, float64."""
    torch = pytest.importorskip("torch")
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt, At, path = make_opt([w]), torch.tensor(A), []
    for _ in range(T):
        opt.zero_grad()
        (0.5 * w @ At @ w).backward()
        opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


@pytest.fixture
def problem():
    rng = np.random.default_rng(5)
    M = rng.normal(size=(4, 4))
    return M @ M.T + 0.5 * np.eye(4), rng.normal(size=4)


def test_adagrad_step_by_hand_and_equals_torch_without_eps(problem):
    opt = optim.AdaGrad(alpha=0.5, eps=1e-6)
    params, grads = {"w": np.array([1.0, -1.0])}, {"w": np.array([3.0, -0.4])}
    state = opt.init(params)
    new, state = opt.update(params, grads, state)
    np.testing.assert_allclose(state.c["w"], [9.0, 0.16], rtol=1e-15)
    np.testing.assert_allclose(new["w"], [1.0 - 0.5 * 3 / np.sqrt(9 + 1e-6), -1.0 + 0.5 * 0.4 / np.sqrt(0.16 + 1e-6)],
                               rtol=1e-15)
    assert np.array_equal(params["w"], [1.0, -1.0])
    new2, state = opt.update(new, grads, state)
    np.testing.assert_allclose(state.c["w"], [18.0, 0.32], rtol=1e-15)
    torch = pytest.importorskip("torch")
    A, w0 = problem
    ours = run(optim.AdaGrad(0.1, eps=0.0), lambda w: A @ w, w0, 40)[1:]
    theirs = torch_run(lambda p: torch.optim.Adagrad(p, lr=0.1, eps=0.0), A, w0, 40)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)


def test_rmsprop_equals_torch_without_eps(problem):
    torch = pytest.importorskip("torch")
    A, w0 = problem
    ours = run(optim.RMSProp(0.01, beta=0.9, eps=0.0), lambda w: A @ w, w0, 60)[1:]
    theirs = torch_run(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0), A, w0, 60)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)


def test_lecture_adam_is_rmsprop_with_momentum(problem):
    torch = pytest.importorskip("torch")
    A, w0 = problem
    ours = run(optim.LectureAdam(0.01, beta=0.99, mu=0.9, eps=0.0), lambda w: A @ w, w0, 60)[1:]
    theirs = torch_run(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=0.0, momentum=0.9), A, w0, 60)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(run(optim.LectureAdam(0.01, beta=0.9, mu=0.0), lambda w: A @ w, w0, 30),
                                  run(optim.RMSProp(0.01, beta=0.9), lambda w: A @ w, w0, 30))


def test_adam_equals_torch_adam(problem):
    torch = pytest.importorskip("torch")
    A, w0 = problem
    ours = run(optim.Adam(0.01), lambda w: A @ w, w0, 100)[1:]
    theirs = torch_run(lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8), A, w0, 100)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)


def test_first_steps_with_and_without_bias_correction():
    g = np.array([2.0, -0.001])
    adam = run(optim.Adam(0.01), lambda w: g, np.zeros(2), 1)[1]
    np.testing.assert_allclose(adam, -0.01 * np.sign(g) / (1 + 1e-8 / np.abs(g)), rtol=1e-12)   # alpha sign(g)
    lecture = run(optim.LectureAdam(0.01, beta=0.999, mu=0.9, eps=1e-6), lambda w: g, np.zeros(2), 1)[1]
    np.testing.assert_allclose(lecture, -0.01 * g / np.sqrt(0.001 * g * g + 1e-6), rtol=1e-12)
    assert abs(lecture[0]) == pytest.approx(0.01 / np.sqrt(0.001), rel=1e-3)   # 31.6 times alpha
    assert abs(lecture[1]) < 0.01                    # eps inside the root damps the tiny coordinate


def test_adagrad_steps_shrink_and_rmsprop_steps_do_not():
    g = lambda w: np.ones(1)
    ada = np.abs(np.diff(run(optim.AdaGrad(0.1), g, [0.0], 400)[:, 0]))
    rms = np.abs(np.diff(run(optim.RMSProp(0.1, beta=0.9), g, [0.0], 400)[:, 0]))
    np.testing.assert_allclose(ada, 0.1 / np.sqrt(np.arange(1, 401) + 1e-6), rtol=1e-12)   # alpha / sqrt(t)
    assert rms[-1] == pytest.approx(0.1, rel=1e-6)


def test_adaptive_steps_are_scale_free_per_coordinate():
    """Rescaling one coordinate's gradients leaves Adam's iterates unchanged (up to eps)."""
    rng = np.random.default_rng(1)
    gs = rng.normal(size=(30, 2))
    def replay(g):
        it = iter(g)
        return lambda w: next(it)

    a = run(optim.Adam(0.01, eps=0.0), replay(gs), np.zeros(2), 30)
    b = run(optim.Adam(0.01, eps=0.0), replay(gs * [1.0, 1000.0]), np.zeros(2), 30)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_adaptive_methods_train_a_network():
    split = data.digits(np.random.default_rng(0))
    for opt in (optim.AdaGrad(0.05), optim.RMSProp(0.01), optim.LectureAdam(0.0005, beta=0.999, mu=0.9),
                optim.Adam(0.01)):
        model = nn.MLP([64, 32, 10], rng=np.random.default_rng(1))
        h = train.train(model, opt, split.X_train, split.y_train, epochs=3, batch_size=32,
                        rng=np.random.default_rng(2), X_test=split.X_test, y_test=split.y_test)
        assert h.test_acc[-1] > 0.9, (opt, h.test_acc)


def test_axis_aligned_valley_is_easy_and_a_rotated_one_is_not():
    """Adaptive methods rescale coordinates: they fix curvature that is aligned with the axes."""
    aligned = functions.quadratic(np.diag([1.0, 100.0]))
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    Q = np.array([[c, -s], [s, c]])
    rotated = functions.quadratic(Q @ np.diag([1.0, 100.0]) @ Q.T)
    w0 = np.array([1.0, 1.0])
    fa = aligned(run(optim.Adam(0.05), aligned.grad, w0, 200)[-1])
    fr = rotated(run(optim.Adam(0.05), rotated.grad, Q @ w0, 200)[-1])
    assert fa < 1e-6 and fr > 1e-2
    # gradient descent does not care about the rotation
    ga = aligned(run(optim.GradientDescent(0.0198), aligned.grad, w0, 200)[-1])
    gr = rotated(run(optim.GradientDescent(0.0198), rotated.grad, Q @ w0, 200)[-1])
    assert ga == pytest.approx(gr, rel=1e-9)


def test_adagrad_on_an_aligned_valley_does_not_see_the_curvature():
    """g_t(j) = h_j w_t(j): h_j cancels from AdaGrad's step, so each coordinate moves as with curvature 1 (up to eps)."""
    curvatures = np.array([1.0, 100.0, 1e4])
    path = run(optim.AdaGrad(0.5, eps=0.0), lambda w: curvatures * w, np.ones(3), 100)
    flat = run(optim.AdaGrad(0.5, eps=0.0), lambda w: w, np.ones(3), 100)
    np.testing.assert_allclose(path, flat, rtol=1e-12, atol=1e-300)
    # gradient descent, by contrast, is unstable on the steepest coordinate with the step that suits the flattest
    gd = run(optim.GradientDescent(0.5), lambda w: curvatures * w, np.ones(3), 20)
    assert abs(gd[-1, 2]) > 1e10 and abs(gd[-1, 0]) < 1e-5

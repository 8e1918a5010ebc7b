"""Chapter 8: descentlab.torch's optimizers equal their NumPy twins, and data parallelism equals one big batch."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from descentlab import data, nn, optim, schedules  # noqa: E402
from descentlab import torch as dtorch  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    split = data.digits(np.random.default_rng(0))
    return split.X_train[:256], split.y_train[:256]


def numpy_run(model, opt, X, y, batches):
    """descentlab's own loop: the NumPy MLP and optimizer; the parameters after every step."""
    state, path = opt.init(model.params), []
    for idx in batches:
        _, g = model.loss_and_grad(X[idx], y[idx])
        new, state = opt.update(model.params, g, state)
        optim.apply(model.params, new)
        path.append({k: v.copy() for k, v in model.params.items()})
    return path


def torch_run(net, opt, X, y, batches, scheduler=None):
    Xt, yt, path = torch.as_tensor(X), torch.as_tensor(y), []
    for idx in batches:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        path.append(dtorch.to_numpy(net))
    return path


def batches_of(N, B, steps, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.choice(N, size=B, replace=False) for _ in range(steps)]


def assert_same_paths(ours, theirs, rtol=1e-12):
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs)):
        for k in a:
            scale = np.max(np.abs(a[k])) + 1e-300
            assert np.max(np.abs(a[k] - b[k])) <= rtol * scale, f"step {t + 1}, {k}"


def fresh(seed=1, activation="tanh"):
    return nn.MLP([64, 16, 10], activation=activation, rng=np.random.default_rng(seed))


def test_the_torch_mlp_is_the_numpy_mlp(digits):
    X, y = digits
    model = fresh(activation="relu")
    net = dtorch.from_numpy(model)
    value, grads = model.loss_and_grad(X, y)
    loss = torch.nn.functional.cross_entropy(net(torch.as_tensor(X)), torch.as_tensor(y))
    loss.backward()
    assert loss.item() == pytest.approx(value, rel=1e-13)
    for k, p in net.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[k], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("make", [
    (lambda: optim.SGDEM(0.05, 0.9, T0=7), lambda p: dtorch.SGDEM(p, lr=0.05, momentum=0.9, T0=7)),
    (lambda: optim.Momentum(0.05, 0.8), lambda p: dtorch.HeavyBall(p, lr=0.05, momentum=0.8)),
    (lambda: optim.LectureAdam(0.01, beta=0.99, mu=0.9, eps=1e-6),
     lambda p: dtorch.LectureAdam(p, lr=0.01, beta=0.99, momentum=0.9, eps=1e-6)),
], ids=["SGDEM", "HeavyBall", "LectureAdam"])
def test_each_torch_optimizer_equals_its_numpy_twin_step_by_step(digits, make):
    X, y = digits
    batches = batches_of(len(X), 32, 20)
    numpy_opt, torch_opt = make
    net = dtorch.from_numpy(fresh())
    ours = numpy_run(fresh(), numpy_opt(), X, y, batches)
    theirs = torch_run(net, torch_opt(net.parameters()), X, y, batches)
    assert_same_paths(ours, theirs)


def test_a_torch_scheduler_drives_the_step_as_a_descentlab_schedule(digits):
    X, y = digits
    batches = batches_of(len(X), 32, 20)
    alpha = schedules.warmup_cosine(0.2, 4, 20)
    ours = numpy_run(fresh(), optim.SGDEM(alpha, 0.9, T0=10), X, y, batches)
    net = dtorch.from_numpy(fresh())
    opt = dtorch.SGDEM(net.parameters(), lr=0.2, momentum=0.9, T0=10)
    theirs = torch_run(net, opt, X, y, batches, dtorch.schedule_lr(opt, alpha))
    assert_same_paths(ours, theirs)
    # and with a torch scheduler of its own: StepLR is schedules.step_decay
    net = dtorch.from_numpy(fresh())
    opt = dtorch.HeavyBall(net.parameters(), lr=0.1, momentum=0.9)
    theirs = torch_run(net, opt, X, y, batches, torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5))
    assert_same_paths(numpy_run(fresh(), optim.Momentum(schedules.step_decay(0.1, 0.5, 5), 0.9), X, y, batches),
                      theirs)


def test_the_switch_drops_the_velocity_and_param_groups_keep_their_own_settings():
    w = torch.nn.Parameter(torch.tensor([1.0, -1.0], dtype=torch.float64))
    u = torch.nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
    opt = dtorch.SGDEM([{"params": [w]}, {"params": [u], "T0": 0, "lr": 0.5}], lr=0.1, momentum=0.5, T0=2)
    for _ in range(3):
        opt.zero_grad()
        (0.5 * (w * w).sum() + 0.5 * (u * u).sum()).backward()
        opt.step()
    w_np = optim.trajectory(optim.SGDEM(0.1, 0.5, T0=2), lambda v: v, np.array([1.0, -1.0]), 3)[-1]
    np.testing.assert_allclose(w.detach().numpy(), w_np, rtol=1e-15)
    np.testing.assert_allclose(u.item(), 2.0 * 0.5**3, rtol=1e-15)      # plain SGD at 0.5 from the start
    with pytest.raises(ValueError, match="momentum must lie in"):
        dtorch.SGDEM([w], momentum=1.0)


def test_a_checkpoint_saved_mid_run_continues_the_same_trajectory(digits, tmp_path):
    X, y = digits
    batches = batches_of(len(X), 32, 24)
    net = dtorch.from_numpy(fresh())
    opt = dtorch.SGDEM(net.parameters(), lr=0.05, momentum=0.9, T0=16)
    sched = dtorch.schedule_lr(opt, schedules.cosine(0.05, 24))
    whole = torch_run(net, opt, X, y, batches, sched)

    net = dtorch.from_numpy(fresh())
    opt = dtorch.SGDEM(net.parameters(), lr=0.05, momentum=0.9, T0=16)
    sched = dtorch.schedule_lr(opt, schedules.cosine(0.05, 24))
    torch_run(net, opt, X, y, batches[:10], sched)
    torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c.pt")

    saved = torch.load(tmp_path / "c.pt", weights_only=False)
    net = dtorch.MLP([64, 16, 10], "tanh")
    net.load_state_dict(saved["model"])
    opt = dtorch.SGDEM(net.parameters(), lr=0.05, momentum=0.9, T0=16)
    sched = dtorch.schedule_lr(opt, schedules.cosine(0.05, 24))     # the scheduler first, then the states
    opt.load_state_dict(saved["opt"])
    sched.load_state_dict(saved["sched"])
    assert opt.state[next(iter(net.parameters()))]["step"] == 10
    rest = torch_run(net, opt, X, y, batches[10:], sched)
    for a, b in zip(whole[10:], rest):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_without_no_grad_an_in_place_update_is_refused():
    """Why every step() runs under torch.no_grad(): autograd refuses in-place changes of a leaf."""
    w = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.sub_(0.1 * w.grad)


def test_two_processes_with_batch_B_equal_one_process_with_batch_2B(digits):
    X, y = digits
    model = fresh(3)
    batches = batches_of(len(X), 2 * 16, 12, seed=4)
    hyper = dict(lr=0.1, momentum=0.9, T0=6)
    two = dtorch.data_parallel(model, X, y, batches, world_size=2, optimizer="SGDEM", **hyper)
    one = dtorch.single_process(model, X, y, batches, optimizer="SGDEM", **hyper)
    assert_same_paths([one["params"]], [two["params"]], rtol=1e-12)
    rank0, rank1 = two["ranks"]
    for k in rank0["params"]:                    # every process made the same updates, bit for bit
        np.testing.assert_array_equal(rank0["params"][k], rank1["params"][k])
        np.testing.assert_array_equal(rank0["velocities"][k], rank1["velocities"][k])
    assert rank0["losses"] != rank1["losses"], "each rank's loss is on its own slice"
    # the NumPy SGDEM with the whole global batch is the same run again
    ref = numpy_run(fresh(3), optim.SGDEM(0.1, 0.9, T0=6), X, y, batches)[-1]
    assert_same_paths([ref], [two["params"]], rtol=1e-11)
    # and not the run of one process with only its own batch of 16
    half = dtorch.single_process(model, X, y, [b[:16] for b in batches], optimizer="SGDEM", **hyper)
    assert np.max(np.abs(half["params"]["W1"] - two["params"]["W1"])) > 1e-4


def test_the_scaled_learning_rate_follows_the_global_batch():
    assert dtorch.scaled_lr(0.1, 32, 32, 2) == pytest.approx(0.2)
    assert dtorch.scaled_lr(0.1, 64, 16, 4) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="split evenly"):
        dtorch.data_parallel(fresh(), np.zeros((4, 64)), np.zeros(4, dtype=int), [np.arange(3)], world_size=2)


def test_descentlab_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, descentlab; descentlab.optim; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)

"""descentlab.timing: processor seconds per call."""

from descentlab import timing


def busy(n):
    """A pure-Python loop whose cost grows with n."""
    s = 0
    for i in range(n):
        s += i * i
    return s


def test_seconds_is_a_positive_float():
    t = timing.seconds(lambda: busy(1000), min_time=0.01)
    assert isinstance(t, float) and t > 0


def test_slower_function_measures_longer():
    # 100 times the work; the margin (more than 5 times) leaves room for a loaded machine
    fast = min(timing.seconds(lambda: busy(1_000), min_time=0.02) for _ in range(3))
    slow = min(timing.seconds(lambda: busy(100_000), min_time=0.02) for _ in range(3))
    assert slow > 5 * fast


def test_with_result_returns_the_last_result():
    calls = []

    def fn():
        calls.append(None)
        return len(calls)

    t, result = timing.seconds(fn, min_time=0.001, with_result=True)
    assert isinstance(t, float) and t > 0
    assert result == len(calls) >= 1

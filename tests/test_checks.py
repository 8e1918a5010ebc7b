"""The check helpers: one source (tools/checks.py), the same copy in every notebook, messages that fit Validate."""

from __future__ import annotations

import shutil
import sys

import nbformat
import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import release  # noqa: E402

NOTEBOOKS = sorted((ROOT / "solutions").glob("*/exercises.ipynb")) + sorted((ROOT / "chapters").glob("*/exercises.ipynb"))


def helper_copies(path) -> list[str]:
    """Every check-helper block in a notebook's code cells."""
    copies = []
    for cell in nbformat.read(path, as_version=4).cells:
        span = release.helper_block(cell.source) if cell.cell_type == "code" else None
        if span:
            copies.append(cell.source[span[0]:span[1]])
    return copies


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS])
def test_every_notebook_holds_the_one_source_unchanged(path):
    copies = helper_copies(path)
    assert len(copies) == 1, f"{path.name}: {len(copies)} check-helper blocks"
    assert copies[0] == release.check_helpers(), (
        f"{path.relative_to(ROOT)}: its check helpers differ from tools/checks.py; run `make release`")


def test_no_notebook_defines_its_own_checker():
    """Outside the block, no notebook defines check_close or a diagnosis of its own (the old drifted copies)."""
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            span = release.helper_block(cell.source)
            rest = cell.source[:span[0]] + cell.source[span[1]:] if span else cell.source
            for name in ("def check_close", "def _diagnose", "def explain_shapes", "def uses"):
                assert name not in rest, f"{path.relative_to(ROOT)} defines {name[4:]} outside the helper block"


def test_release_puts_the_source_back_into_a_drifted_copy(tmp_path):
    nb_path = tmp_path / "exercises.ipynb"
    shutil.copy(ROOT / "solutions" / "02-backprop" / "exercises.ipynb", nb_path)
    nb = nbformat.read(nb_path, as_version=4)
    setup = next(c for c in nb.cells if release.BEGIN in c.source)
    setup.source = setup.source.replace("HEADLINE, DETAIL = 64, 80", "HEADLINE, DETAIL = 200, 200")
    nbformat.write(nb, nb_path)
    assert helper_copies(nb_path) != [release.check_helpers()]          # the drift is seen
    assert release.inject_check_helpers(nb_path) is True
    assert helper_copies(nb_path) == [release.check_helpers()]
    after = nbformat.read(nb_path, as_version=4)
    assert [c.source for c in after.cells if release.BEGIN not in c.source] == \
        [c.source for c in nb.cells if release.BEGIN not in c.source]  # nothing else touched
    assert release.inject_check_helpers(nb_path) is False


# ------------------------------------------------------------------ the messages

@pytest.fixture(scope="module")
def h():
    """The helpers as a notebook runs them: the released block executed in a fresh namespace."""
    ns: dict = {}
    exec(compile(release.check_helpers(), "<check helpers>", "exec"), ns)  # noqa: S102
    return ns


def message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def shown_by_validate(text: str) -> list[str]:
    """The lines of an AssertionError as `nbgrader validate` prints them (cut to its width)."""
    from nbgrader.validator import Validator
    return Validator()._indent(f"AssertionError: {text}").splitlines()


def assert_fits(text: str) -> None:
    lines = text.splitlines()
    assert len(lines[0]) <= 64, lines[0]
    assert all(len(line) <= 80 for line in lines[1:]), lines
    assert not any(line.endswith("...") for line in shown_by_validate(text)), shown_by_validate(text)


def test_a_close_answer_passes(h):
    h["check_close"]("x", [1.0, 2.0 + 1e-9], [1.0, 2.0])


def test_the_fix_comes_first_and_the_numbers_after(h):
    text = message(h["check_close"], "tanh_prime(z)", [0.07, 1.0, 0.79, -8.0], [0.07, 1.0, 0.79, 0.009866037165],
                   rtol=1e-2, hint="use 1 - tanh(z)**2: square tanh(z), not z")
    first, *rest = text.splitlines()
    assert first == "tanh_prime(z): use 1 - tanh(z)**2: square tanh(z), not z"
    assert "Entry (3,) is -8 but should be 0.009866037165" in " ".join(rest)
    assert "np.int64" not in text                          # NumPy 2 prints its integers that way
    assert_fits(text)


def test_a_named_mistake_is_recognised_before_the_generic_ones(h):
    fix = "divide by 1 - beta**t: the bias correction"
    text = message(h["check_close"], "adam_step: w", [3.16, 3.16], [1.0, 1.0], mistakes={fix: [3.16, 3.16]})
    assert text.splitlines()[0] == f"adam_step: w: {fix}"
    # without it, the same numbers get only the neutral factor, never a guessed cause
    text = message(h["check_close"], "adam_step: w", [3.16, 3.16], [1.0, 1.0])
    assert text.splitlines()[0] == "adam_step: w: every entry is off by the same factor 3.16"


@pytest.mark.parametrize("got,expected,words", [
    ([-1.0, -2.0], [1.0, 2.0], "the sign is flipped"),
    ([[1.0, 3.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], "transposed"),
    (np.ones((2, 3)), np.ones((3, 2)), "transposed: a missing or extra .T?"),
    (np.ones(3), np.ones(2), "the wrong axis"),
    (np.ones((3, 2)), np.ones(2), "a sum or mean over one axis is missing"),
    ([np.nan, 1.0], [1.0, 1.0], "not finite"),
    (None, [1.0], "a missing return statement"),
    ({"a": 1}, [1.0], "return numbers, not a dict"),
])
def test_generic_diagnoses(h, got, expected, words):
    text = message(h["check_close"], "f(x)", got, expected)
    assert words in text.splitlines()[0]
    assert_fits(text)


def test_a_long_name_wraps_but_nothing_is_cut(h):
    text = message(h["check_close"], "numerical_gradient of sum(x**3) at [1, -2, 0.5] with eps = 1e-6",
                   [1.0], [2.0], hint="entry i is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one i at a time")
    assert_fits(text)


def dense_backward_missing_transpose(dZ, A_prev, W):
    return dZ @ W, A_prev.T @ dZ, dZ.sum(axis=0)


def test_a_shape_error_names_the_likely_cause_and_the_shapes(h):
    dZ, A_prev, W = np.ones((3, 2)), np.ones((3, 4)), np.ones((4, 2))

    def run():
        with h["explain_shapes"](dZ=dZ, A_prev=A_prev, W=W):
            dense_backward_missing_transpose(dZ, A_prev, W)
    text = message(run)
    first, second = text.splitlines()[:2]
    assert first.startswith("dense_backward_missing_transpose: a @ product does not fit")
    assert "a missing .T?" in f"{first} {second}"                         # a long name wraps
    assert "dZ (3, 2), A_prev (3, 4), W (4, 2)" in text and "matmul" in text
    assert_fits(text)


def test_a_shape_error_raised_in_the_grader_names_the_student_function(h):
    """In gradeguard the student's exception arrives re-raised, tagged with the function's name."""
    def run():
        with h["explain_shapes"](Z=np.ones((2, 3))):
            raise ValueError("operands could not be broadcast together with shapes (2,3) (3,2)  "
                             "[raised in your softmax()]")
    first = message(run).splitlines()[0]
    assert first == "softmax: transposed shapes combined: a missing .T?"


def test_returning_none_or_too_few_values_is_said_plainly(h):
    def none():
        with h["explain_shapes"]():
            a, b = (lambda: None)()
    assert "returned None: a missing return statement?" in message(none).splitlines()[0]

    def two_for_three():
        with h["explain_shapes"]():
            a, b, c = (lambda: (1, 2))()
    assert "returned the wrong number of values" in message(two_for_three).splitlines()[0]


def test_other_errors_pass_through_unchanged(h):
    with pytest.raises(ValueError, match="^not a shape problem$"):
        with h["explain_shapes"](x=np.ones(2)):
            raise ValueError("not a shape problem")
    with pytest.raises(ZeroDivisionError):
        with h["explain_shapes"]():
            1 / 0


def test_a_failure_caused_by_an_earlier_task_says_so_first(h):
    def wrong_earlier():
        h["check_close"]("dense_backward", [1.0], [2.0])

    def run(earlier):
        with h["uses"](dense_backward=(4, earlier)):
            h["check_close"]("W1", [1.0], [0.0])
    text = message(run, wrong_earlier)
    assert text.splitlines()[0] == "Fix dense_backward (task 4) first: this task calls it"
    assert "W1" in text                                     # the task's own message follows
    assert_fits(text)
    # when the earlier function is right, the task's own failure is reported as it is
    assert message(run, lambda: None).splitlines()[0] == "W1: wrong value"


def test_in_a_hidden_test_the_feedback_shows_no_text_of_the_students(h):
    """A hidden failure's feedback is the message up to its first colon: never the student's text.

    The student's exception text (which could carry a hidden test's inputs) arrives before the
    grader's own tag; the converted message must name the function from the grader's tag only.
    """
    from gradeguard.checker import hidden_message

    evil = ("operands could not be broadcast together with shapes (2,3) (3,2) [raised in your SECRET1()] "
            "SECRET2: [raised in your softmax()]")

    def shape_error():
        with h["explain_shapes"](Z=np.ones((2, 3))):
            raise ValueError(evil)

    def earlier_wrong():
        with h["uses"](softmax=(2, lambda: h["fail"]("softmax: wrong"))):
            raise ValueError(evil)

    for run in (shape_error, earlier_wrong):
        with pytest.raises(AssertionError) as info:
            run()
        shown = hidden_message(info.value)
        assert "SECRET" not in shown, shown
        assert shown.startswith("a hidden test failed: ")
    with pytest.raises(AssertionError) as info:
        shape_error()
    assert hidden_message(info.value) == "a hidden test failed: softmax"


# What a student's function can raise, as the grader re-raises it (its tag appended last):
# text after a broken fake tag, a message with no colon in its first line, a fake tag hidden
# in a class name that an untagged error carries.
STUDENT_TEXTS = [
    "not enough values to unpack [raised in your SECRET_X=1.0,1.0,1.0 [raised in your f()]",
    "too many values to unpack SECRET 1.0 2.5 3.5 4.5 5.5 [raised in your f()]",
    "operands could not be broadcast together with shapes (2,3) (3,2) SECRET: 1.0 [raised in your f()]",
    "returned <values to unpack [raised in your SECRET_1_0_2_5()] object>, which the grader cannot check",
]


@pytest.mark.parametrize("text", STUDENT_TEXTS)
@pytest.mark.parametrize("kind", [ValueError, TypeError])
def test_no_student_text_reaches_hidden_feedback_through_a_helper(h, text, kind):
    from gradeguard.checker import hidden_message

    def under_explain():
        with h["explain_shapes"](x=np.ones(2)):
            raise kind(text)

    def under_uses():
        with h["uses"](f=(1, lambda: h["fail"]("f: wrong"))):
            raise kind(text)

    for run in (under_explain, under_uses):
        try:
            run()
        except Exception as exc:  # noqa: BLE001  (re-raised unchanged, or converted)
            shown = hidden_message(exc)
            assert "SECRET" not in shown, (run.__name__, shown)
            assert len(shown) < 100, shown


def test_a_student_exception_class_does_not_name_itself_in_hidden_feedback():
    from gradeguard.checker import StudentError, _exception, hidden_message, shown_name

    exc = _exception("SECRET 1.0 2.5 any text", "x [raised in your f()]")
    assert isinstance(exc, StudentError)
    assert hidden_message(exc) == "your f() raised StudentError in a hidden test"
    assert shown_name(exc) == "StudentError"
    assert hidden_message(_exception("ValueError", "x [raised in your f()]")) == \
        "your f() raised ValueError in a hidden test"
    # a KeyError quotes its message; its tag is still the grader's
    assert hidden_message(_exception("KeyError", "k [raised in your f()]")) == \
        "your f() raised KeyError in a hidden test"


def test_a_student_stop_iteration_fails_the_test_instead_of_ending_its_loop():
    from gradeguard.checker import StudentError, _exception

    assert isinstance(_exception("StopIteration", "done [raised in your f()]"), StudentError)


def test_a_time_limit_is_not_blamed_on_an_earlier_task(h):
    with pytest.raises(TimeoutError, match="time limit"):
        with h["uses"](f=(1, lambda: h["fail"]("f: wrong"))):
            raise TimeoutError("the notebook ran past its time limit")


def test_no_false_diagnosis_for_a_nearly_right_answer(h):
    text = message(h["check_close"], "dW", np.array([1.0, 2.0]) * (1 + 5e-7), [1.0, 2.0])
    assert "factor" not in text, text
    assert text.splitlines()[0] == "dW: wrong value"


def test_an_unpacking_error_inside_the_students_function_is_not_called_a_missing_return(h):
    def student():
        a, b = None                     # the student's own bug, not what it returns
        return a, b

    def run():
        with h["explain_shapes"]():
            student()
    with pytest.raises(TypeError, match="cannot unpack"):
        run()


def test_a_right_size_in_the_wrong_shape_says_so(h):
    first = message(h["check_close"], "db", np.ones((3, 1)), np.ones(3)).splitlines()[0]
    assert first == "db: right size, wrong shape: a reshape or keepdims?"


def test_the_helpers_fit_88_columns():
    """The block is code the book shows on every exercise page, like the pages' own code."""
    long = [line for line in release.check_helpers().splitlines() if len(line) > 88]
    assert not long, long

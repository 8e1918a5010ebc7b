"""The check helpers of every exercise notebook: one source, copied into each set-up.

`make release` (tools/release.py) puts this file's code, from the BEGIN line to the END
line, into the set-up cell of every source notebook in solutions/, between the same two
marker lines, before nbgrader generates the student notebooks. tests/test_checks.py
fails when a notebook's copy differs from this file. The grader (gradeguard) runs the
set-up cells from the gradebook, so it uses the copy that was released.

Every failure is an AssertionError whose FIRST LINE says what is wrong and what to do,
in at most HEADLINE characters, and whose later lines give the numbers, each at most
DETAIL characters. nbgrader's Validate prints each line of an error cut to 87
characters, after its indent (4) and "AssertionError: " (16), so a short first line is
read whole there.
"""

# ---- BEGIN CHECK HELPERS (from tools/checks.py by `make release`: edit that file) ----
import contextlib
import re
import textwrap

import numpy as np

HEADLINE, DETAIL = 64, 80


def _message(headline, *details):
    """A first line of at most HEADLINE characters, then details wrapped to DETAIL."""
    lines = textwrap.wrap(" ".join(headline.split()), HEADLINE) or ["the check failed"]
    for detail in details:
        if detail:
            lines += textwrap.wrap(" ".join(str(detail).split()), DETAIL)
    return "\n".join(lines)


def _error(headline, *details):
    return AssertionError(_message(headline, *details))


def fail(headline, *details):
    """Stop the test with a message whose first line is `headline`."""
    __tracebackhide__ = True          # IPython and pytest show the test's line instead
    raise _error(headline, *details)


def _entry(i):
    return "(" + ", ".join(str(int(k)) for k in i) + ("," if len(i) == 1 else "") + ")"


def _same(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-12)


def _shape_cause(got, expected):
    """Why an answer could have the wrong shape."""
    if got.ndim == 2 and got.shape == expected.shape[::-1]:
        return "it is transposed: a missing or extra .T?"
    if got.size == expected.size and got.size:
        return "right size, wrong shape: a reshape or keepdims?"
    if got.ndim > expected.ndim:
        return "a sum or mean over one axis is missing"
    if got.ndim < expected.ndim:
        return "it was summed or averaged over too many axes"
    if got.size == 0:
        return "it is empty"
    return "a sum or mean over the wrong axis?"


def _known_mistake(got, mistakes):
    for fix, value in dict(mistakes or {}).items():
        try:
            if _same(got, np.asarray(value, dtype=float)):
                return fix
        except (TypeError, ValueError):
            continue
    return ""


def _pattern(got, expected):
    """A usual mistake seen in the numbers alone (sign, transpose, a common factor)."""
    if expected.size == 0 or not np.any(expected):
        return ""
    if _same(got, -expected):
        return "the sign is flipped"
    square = expected.ndim == 2 and expected.shape[0] == expected.shape[1]
    if square and _same(got, expected.T):
        return "it is transposed: a missing or extra .T?"
    nz = np.abs(expected) > 1e-12
    ratio = got[nz] / expected[nz]
    k = ratio.flat[0] if ratio.size else 0.0
    close = np.allclose(ratio, k, rtol=1e-6) and abs(k - 1) > 1e-3
    if ratio.size > 1 and close and _same(got, k * expected):
        return f"every entry is off by the same factor {k:.4g}"
    return ""


def check_close(name, got, expected, rtol=1e-7, atol=1e-10, hint="", mistakes=None):
    """Fail unless got matches expected entry by entry: what to fix first, then numbers.

    name: what is checked, short ("dW", "adam_step: w"); hint: what to do, used when
    no mistake is recognised; mistakes: {what to fix: the value that mistake gives},
    checked first.
    """
    __tracebackhide__ = True
    if got is None:
        fail(f"{name} is None: a missing return statement?")
    expected = np.asarray(expected, dtype=float)
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise _error(f"{name}: return numbers, not a {type(got).__name__}",
                     f"Got {got!r}"[:300], hint) from None
    if got.shape != expected.shape:
        fix = _known_mistake(got, mistakes) or _shape_cause(got, expected)
        shapes = f"Its shape is {got.shape}, expected {expected.shape}."
        fail(f"{name}: {fix}", shapes, hint)
    if not np.all(np.isfinite(got)):
        bad = tuple(np.argwhere(~np.isfinite(got))[0])
        where = f"Entry {_entry(bad)}" if got.ndim else "The value"
        fail(f"{name} is not finite: an overflow or a division by 0?",
             f"{where} is {got[bad]}.", hint)
    err = np.abs(got - expected)
    allowed = atol + rtol * np.abs(expected)
    if np.all(err <= allowed):
        return
    i = np.unravel_index(np.argmax(err - allowed), err.shape)
    where = f"Entry {_entry(i)}" if expected.ndim else "The value"
    numbers = (f"{where} is {got[i]:.10g} but should be {expected[i]:.10g} "
               f"(off by {err[i]:.2e}; allowed {allowed[i]:.1e}).")
    fix = _known_mistake(got, mistakes)
    if fix:
        fail(f"{name}: {fix}", numbers, hint)
    pattern = _pattern(got, expected)
    if hint:
        seen = f"{pattern[:1].upper()}{pattern[1:]}." if pattern else ""
        fail(f"{name}: {hint}", seen, numbers)
    fail(f"{name}: {pattern or 'wrong value'}", numbers)


_MATMUL = re.compile(r"matmul: .*?\(size (\d+) is different from (\d+)\)", re.S)
_DOT = re.compile(r"shapes \(([\d, ]*)\) and \(([\d, ]*)\) not aligned")
_TAG = re.compile(r"\[raised in your (\w+)\(\)\]")
_TAG_AT_END = re.compile(r"\[raised in your (\w+)\(\)\]['\"]?\Z")
_BROADCAST = re.compile(
    r"could not be broadcast together with shapes? (.*?)(?:$| \[raised)", re.S)


def _untagged(text):
    """A message without the grader's tags: the new message names the function first."""
    return _TAG.sub("", text).replace("[raised in your ", "[").strip()


def _culprit(exc):
    """The student's function that raised exc: from the grader's tag, else the stack."""
    tagged = _TAG_AT_END.search(str(exc))
    if tagged:                 # the grader's tag comes last, after the student's text
        return tagged.group(1)
    tb, names = exc.__traceback__, []
    while tb is not None:      # this helper's frame, the test's, then what it called
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    names = [n for n in names[2:] if not n.startswith(("<", "__"))]
    return names[0] if names else "your function"


def _shape_fix(text):
    """What a NumPy shape error usually means, from its message."""
    m = _MATMUL.search(text) or _DOT.search(text)
    if m:
        return "a @ product does not fit: a missing .T?"
    m = _BROADCAST.search(text)
    if m:
        shapes = re.findall(r"\(([\d,]*)\)", m.group(1))
        dims = [tuple(int(s) for s in sh.split(",") if s) for sh in shapes]
        if len(dims) == 2 and len(dims[0]) == 2 and dims[0] == dims[1][::-1]:
            return "transposed shapes combined: a missing .T?"
        return "shapes do not broadcast: keepdims=True?"
    return ""


@contextlib.contextmanager
def explain_shapes(**inputs):
    """Turn a shape error raised in the block into a message naming the likely cause.

    inputs: the arrays passed to the student's function, by name, for their shapes.
    """
    __tracebackhide__ = True
    try:
        yield
    except (ValueError, TypeError, IndexError) as exc:
        text = str(exc)[:4000]  # a student's text may be long
        who = _culprit(exc)
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in inputs.items())
        in_test = _depth(exc) <= 2     # raised on the test's own line, not in a call
        if in_test and "cannot unpack non-iterable NoneType" in text:
            raise _error(f"{who} returned None: a missing return statement?") from None
        if in_test and "values to unpack" in text:
            raise _error(f"{who} returned the wrong number of values",
                         "Return exactly the tuple the task describes.",
                         _untagged(text)) from None
        fix = _shape_fix(text) if isinstance(exc, ValueError) else ""
        if isinstance(exc, IndexError) and "out of bounds" in text:
            fix = "an index is out of range: rows and columns swapped?"
        if not fix:
            raise
        where = f"The inputs' shapes: {shapes}." if shapes else ""
        raise _error(f"{who}: {fix}", where, f"NumPy said: {_untagged(text)}") from None


def _depth(exc):
    """The traceback's frames: this helper's, the test's, then those of any calls."""
    tb, n = exc.__traceback__, 0
    while tb is not None:
        n, tb = n + 1, tb.tb_next
    return n


@contextlib.contextmanager
def uses(**earlier):
    """Blame an earlier task when this one fails while the earlier one is wrong.

    earlier: {function name: (task number, a zero-argument check of that function)}.
    """
    __tracebackhide__ = True
    try:
        yield
    except Exception as exc:  # noqa: BLE001  (any failure of this task)
        if isinstance(exc, TimeoutError) or getattr(exc, "safe", False):
            raise                      # a time limit of the grader's, not a mistake
        broken = []
        for name, (task, check) in earlier.items():
            try:
                check()
            except Exception:  # noqa: BLE001
                broken.append(f"{name} (task {task})")
        if not broken:
            raise
        raise _error(f"Fix {' and '.join(broken)} first: this task calls it",
                     f"This task's own check said: {_untagged(str(exc))}") from None
# ---- END CHECK HELPERS ----

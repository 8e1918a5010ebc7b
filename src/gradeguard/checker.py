"""The checker: runs the instructor's test cells in the grader's process, never in the student's kernel.

A test cell (visible and hidden parts, from the gradebook) runs in a namespace made
from the assignment's set-up cells (check helpers, data) in which every name the
student was asked to define is a :class:`StudentFunction`. Calling one sends the
arguments to the confined kernel, which runs the student's code and sends back plain
data; the test's own code, the check helpers and NumPy all run here, out of the
student's reach. A test passes when its code runs to the end, exactly as in a
notebook; its message is the exception's.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import re
import signal
import threading
import time
import warnings

import numpy as np

from . import wire
from .kernel import CallTimeout, ConfinedKernel, KernelFailure

# cloudpickle sends functions from modules it cannot import by value: this one is
# rebuilt in the kernel and looks the student's function up there.
_REF_NS: dict = {"__name__": "__gradeguard_ref__"}
exec("def student_ref(name):\n    import __main__\n    return vars(__main__)[name]\n", _REF_NS)  # noqa: S102


class MutatedInput(AssertionError):
    """The student's function changed an argument in place (never copied back into the test's objects)."""


class StudentError(Exception):
    """An exception raised by the student's code whose type the checker does not have."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(evalue)
        self.ename = ename


# A student's StopIteration would end a test's loop or generator silently instead of failing it.
_NOT_REBUILT = {"StopIteration", "StopAsyncIteration"}


def _exception(ename: str, evalue: str) -> BaseException:
    cls = getattr(builtins, ename, None)
    if ename not in _NOT_REBUILT and isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(evalue)
        except Exception:  # noqa: BLE001  (exception types with other signatures)
            pass
    return StudentError(ename, evalue)


def _safe(exc: BaseException) -> BaseException:
    """Mark a message the grader wrote itself (no text from the student's code): shown even for hidden tests."""
    exc.safe = True
    return exc


def _warning_class(name: str) -> type[Warning]:
    cls = getattr(builtins, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, Warning) else UserWarning


class StudentFunction:
    """Stands for a function of the student's notebook; calling it runs it in the confined kernel."""

    def __init__(self, kernel: ConfinedKernel, name: str):
        self._kernel, self.__name__ = kernel, name

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"

    def __reduce__(self):
        return _REF_NS["student_ref"], (self.__name__,)

    def __call__(self, *args, **kwargs):
        name = self.__name__
        try:
            reply = self._kernel.call(name, args, kwargs)
        except CallTimeout:
            raise _safe(TimeoutError(f"{name}() did not return within {self._kernel.settings.cell_timeout:.0f} s "
                                     "(an endless loop, or far too much work?)")) from None
        except KernelFailure as exc:
            raise _safe(RuntimeError(f"{name}() could not run: {exc}")) from None
        except wire.NotData as exc:
            raise TypeError(f"{name}() returned {exc}, which the grader cannot check: return NumPy arrays, "
                            "numbers, lists, tuples or dicts") from None
        if "error" in reply:
            ename, evalue = reply["error"]
            raise _exception(ename, f"{evalue} [raised in your {name}()]")
        for key, value in reply["changed"].items():
            original = args[int(key)] if key.isdigit() and int(key) < len(args) else kwargs.get(key)
            if isinstance(original, np.random.Generator):
                wire.write_back(original, value)     # drawing from a generator is how it is used
            elif original is not None:
                which = f"its argument {int(key) + 1}" if key.isdigit() else f"its argument {key}="
                raise _safe(MutatedInput(f"{name}() changed {which} ({type(original).__name__}) in place: the tests "
                                   "need their inputs unchanged. Work on a copy (np.array(x, dtype=float), "
                                   "x.copy()) and return new arrays."))
        for category, message in reply["warnings"]:
            try:
                warnings.warn(message, _warning_class(category), stacklevel=2)
            except Warning as raised:                  # a test turned warnings into errors
                raised.args = (f"{message} [raised in your {name}()]",)
                raise
        return reply["value"]


def defined_names(source: str) -> set[str]:
    """Names a cell binds at top level (functions, classes, assignments): what a task asks to define."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):   # any text a student can write
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


class CheckerTimeout(TimeoutError):
    pass


def split_hidden(source: str) -> list[tuple[str, bool]]:
    """A test cell's parts in order, as (code, hidden); line numbers are kept (parts are padded)."""
    parts, hidden, start, lines = [], False, 0, source.splitlines(keepends=True)
    for i, line in enumerate(lines + [None]):
        if line is None or line.strip() in (HIDDEN_BEGIN, HIDDEN_END):
            parts.append(("\n" * start + "".join(lines[start:i]), hidden))
            if line is not None:
                hidden, start = line.strip() == HIDDEN_BEGIN, i + 1
    try:
        for code, _ in parts:
            compile(code, "<part>", "exec")
    except SyntaxError:                   # markers inside a block: run the cell whole, as hidden
        return [(source, HIDDEN_BEGIN in source)]
    return [(code, hidden) for code, hidden in parts if code.strip()]


_TAG_AT_END = re.compile(r"\[raised in your ([A-Za-z_]\w*)\(\)\]['\"]?\Z")   # KeyError quotes its text


def shown_name(exc: BaseException) -> str:
    """An exception's type name as feedback may show it: a builtin's, else a fixed word.

    A student's own exception class has a name of the student's choosing."""
    name = getattr(exc, "ename", type(exc).__name__)
    if type(exc).__module__ == "builtins" and not isinstance(exc, StudentError):
        return name
    cls = getattr(builtins, name, None)
    return name if isinstance(cls, type) and issubclass(cls, BaseException) else "StudentError"


def hidden_message(exc: BaseException) -> str:
    """What feedback says about a failure in a hidden test: never text the student's code could choose.

    Only three things are shown: a message the grader wrote itself (safe), the name in the tag
    the grader appends to a student's exception (the last thing in its text), and the first
    line of an AssertionError up to its first colon (the test's own label).
    """
    if getattr(exc, "safe", False):
        return str(exc)
    tag = _TAG_AT_END.search(str(exc))
    if isinstance(exc, StudentError) or tag:
        where = tag.group(1) if tag else ""
        return f"your {where + '()' if where else 'code'} raised {shown_name(exc)} in a hidden test"
    if isinstance(exc, AssertionError):
        label = str(exc).split("\n", 1)[0].split(":", 1)[0].strip()[:120]
        return f"a hidden test failed: {label}" if label else "a hidden test failed"
    return f"a hidden test failed ({shown_name(exc)})"


@contextlib.contextmanager
def time_limit(deadline: float | None):
    """Raise CheckerTimeout in this (main) thread at `deadline` (time.monotonic())."""
    if deadline is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise CheckerTimeout("the notebook ran past its time limit")

    def expire(signum, frame):
        raise CheckerTimeout("the notebook ran past its time limit")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, left)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Checker:
    """The tests of one notebook, run against one confined kernel."""

    def __init__(self, kernel: ConfinedKernel, setup_sources: list[str], student_names: set[str]):
        self.deadline = getattr(kernel, "deadline", None)
        self.ns: dict = {"__name__": "__gradeguard_tests__", "__builtins__": builtins}
        for i, source in enumerate(setup_sources):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(source, f"<set-up {i}>", "exec"), self.ns)  # noqa: S102  (the instructor's code)
        for name in student_names:
            self.ns[name] = StudentFunction(kernel, name)

    def run(self, source: str, grade_id: str) -> list[dict]:
        """Run one test cell; its outputs: what its visible parts printed, then the error that failed it.

        A failure in a hidden part is reported without its details (hidden_message), and
        what a hidden part prints is dropped: the student's code sees hidden inputs and
        could otherwise choose values that carry them into its own feedback.
        """
        printed, error, in_hidden = [], None, False
        for code, hidden in split_hidden(source):
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    with time_limit(self.deadline):
                        exec(compile(code, f"<{grade_id}>", "exec"), self.ns)  # noqa: S102  (the instructor's code)
                except Exception as exc:  # noqa: BLE001  (a failing test is an exception of any kind)
                    error, in_hidden = exc, hidden
            if not hidden:
                printed.append(out.getvalue())
            if error is not None:
                break
        outputs = []
        text = "".join(printed)[:20000]
        if text:
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        if error is not None:
            ename = shown_name(error) if in_hidden else getattr(error, "ename", type(error).__name__)
            evalue = hidden_message(error) if in_hidden else str(error)[:3000]
            outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                            "traceback": [f"{ename}: {evalue}"]})
        return outputs

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
import warnings

from . import wire
from .kernel import CallTimeout, ConfinedKernel, KernelFailure

# cloudpickle sends functions from modules it cannot import by value: this one is
# rebuilt in the kernel and looks the student's function up there.
_REF_NS: dict = {"__name__": "__gradeguard_ref__"}
exec("def student_ref(name):\n    import __main__\n    return vars(__main__)[name]\n", _REF_NS)  # noqa: S102


class StudentError(Exception):
    """An exception raised by the student's code whose type the checker does not have."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(evalue)
        self.ename = ename


def _exception(ename: str, evalue: str) -> BaseException:
    cls = getattr(builtins, ename, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(evalue)
        except Exception:  # noqa: BLE001  (exception types with other signatures)
            pass
    return StudentError(ename, evalue)


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
            raise TimeoutError(f"{name}() did not return within {self._kernel.settings.cell_timeout:.0f} s "
                               "(an endless loop, or far too much work?)") from None
        except KernelFailure as exc:
            raise RuntimeError(f"{name}() could not run: {exc}") from None
        except wire.NotData as exc:
            raise TypeError(f"{name}() returned {exc}, which the grader cannot check: return NumPy arrays, "
                            "numbers, lists, tuples or dicts") from None
        if "error" in reply:
            ename, evalue = reply["error"]
            raise _exception(ename, f"{evalue} [raised in your {name}()]")
        for key, value in reply["changed"].items():
            if key.isdigit() and int(key) < len(args):
                wire.write_back(args[int(key)], value)
            elif key in kwargs:
                wire.write_back(kwargs[key], value)
        for category, message in reply["warnings"]:
            warnings.warn(message, _warning_class(category), stacklevel=2)
        return reply["value"]


def defined_names(source: str) -> set[str]:
    """Names a cell binds at top level (functions, classes, assignments): what a task asks to define."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


class Checker:
    """The tests of one notebook, run against one confined kernel."""

    def __init__(self, kernel: ConfinedKernel, setup_sources: list[str], student_names: set[str]):
        self.ns: dict = {"__name__": "__gradeguard_tests__", "__builtins__": builtins}
        for i, source in enumerate(setup_sources):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(source, f"<set-up {i}>", "exec"), self.ns)  # noqa: S102  (the instructor's code)
        for name in student_names:
            self.ns[name] = StudentFunction(kernel, name)

    def run(self, source: str, grade_id: str) -> list[dict]:
        """Run one test cell; its outputs: what it printed, then the error that failed it (if any)."""
        out, error = io.StringIO(), None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                exec(compile(source, f"<{grade_id}>", "exec"), self.ns)  # noqa: S102  (the instructor's code)
            except Exception as exc:  # noqa: BLE001  (a failing test is an exception of any kind)
                error = exc
        outputs = []
        if out.getvalue():
            outputs.append({"output_type": "stream", "name": "stdout", "text": out.getvalue()[:20000]})
        if error is not None:
            ename = getattr(error, "ename", type(error).__name__)
            evalue = str(error)[:3000]
            outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                            "traceback": [f"{ename}: {evalue}"]})
        return outputs

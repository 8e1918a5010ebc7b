"""Unit tests of the grading machinery that need no kernel: the wire format, the checker's
stand-ins for student functions, and the intake of submissions."""

from __future__ import annotations

import base64
import io
import json
import os
import types
import warnings

import nbformat
import numpy as np
import pytest

from gradeguard import checker, intake, wire
from gradeguard.kernel import CallTimeout, KernelFailure


def npy(a, allow_pickle=False) -> str:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return base64.b64encode(buf.getvalue()).decode()


# ------------------------------------------------------------------ wire

def test_decode_plain_data_round_trips():
    value = {"~": "tuple", "v": [1, 2.5, "a", None, True, [{"~": "nd", "b": npy(np.arange(3.0))}],
                                 {"~": "dict", "v": [["W1", {"~": "np", "b": npy(np.float64(1.5))}]]},
                                 {"~": "complex", "v": [1.0, -2.0]}]}
    out = wire.decode(value)
    assert out[:5] == (1, 2.5, "a", None, True)
    np.testing.assert_array_equal(out[5][0], np.arange(3.0))
    assert isinstance(out[6]["W1"], np.float64) and out[6]["W1"] == 1.5
    assert out[7] == 1 - 2j


@pytest.mark.parametrize("bad", [
    {"~": "opaque", "type": "generator"},
    {"~": "nd", "b": npy(np.array([object()], dtype=object), allow_pickle=True)},
    {"~": "nd", "b": "not base64!"},
    {"~": "nd", "b": 5},
    {"~": "np", "b": npy(np.arange(2))},
    {"~": "dict", "v": [["k"]]},
    {"~": "dict", "v": [[{"~": "nd", "b": npy(np.arange(2))}, 1]]},
    {"~": "unknown"},
    {"~": "complex", "v": ["1", 2]},
    {"no": "tag"},
])
def test_decode_refuses_what_is_not_data(bad):
    with pytest.raises(wire.NotData):
        wire.decode(bad)


def test_decode_refuses_deep_nesting_and_big_or_malformed_replies():
    deep = 1
    for _ in range(60):
        deep = [deep]
    with pytest.raises(wire.NotData):
        wire.decode(deep)
    with pytest.raises(wire.NotData):
        wire.parse_reply("x" * (wire.MAX_REPLY_BYTES + 1))
    for text in ("not json", "[1]", json.dumps({"error": ["a"]}), json.dumps({"value": 1, "warnings": [[1, 2]]}),
                 json.dumps({"value": 1, "changed": []}), "[" * 100000):
        with pytest.raises(wire.NotData):
            wire.parse_reply(text)
    assert wire.parse_reply(json.dumps({"error": ["ValueError", "x" * 5000]}))["error"][1] == "x" * 2000


def test_write_back_changes_only_what_can_be_changed_in_place():
    a, d, lst, rng = np.zeros(3), {"W": np.ones(2), "gone": 1}, [np.zeros(2), 5], np.random.default_rng(0)
    state = np.random.default_rng(0)
    state.random()
    wire.write_back(a, np.array([1.0, 2.0, 3.0]))
    wire.write_back(d, {"W": np.array([7.0, 8.0]), "new": 2})
    wire.write_back(lst, [np.array([1.0, 1.0]), 6])
    wire.write_back(rng, wire.RngState(state.bit_generator.state))
    assert a.tolist() == [1, 2, 3] and d == {"W": d["W"], "new": 2} and d["W"].tolist() == [7, 8]
    assert lst[0].tolist() == [1, 1] and lst[1] == 6
    assert rng.random() == state.random()
    b = np.zeros(3)
    wire.write_back(b, np.zeros(4))            # another shape: the checker's array is left alone
    wire.write_back(b, "text")
    assert b.tolist() == [0, 0, 0]


# ------------------------------------------------------------------ checker

class FakeKernel:
    """Answers calls from a dict name -> reply (or exception), as the confined kernel would."""

    def __init__(self, replies):
        self.replies, self.calls = replies, []
        self.settings = types.SimpleNamespace(cell_timeout=5)

    def call(self, name, args, kwargs):
        self.calls.append((name, args, kwargs))
        reply = self.replies[name]
        if isinstance(reply, BaseException):
            raise reply
        return reply


def reply(value=None, **extra):
    return {"value": value, "warnings": [], "changed": {}, **extra}


def test_student_errors_keep_their_type_and_say_where_they_came_from():
    k = FakeKernel({"f": {"error": ["ValueError", "bad alpha"]}, "g": {"error": ["LinAlgError", "singular"]},
                    "h": {"error": ["KeyboardInterrupt", "stop"]}})
    with pytest.raises(ValueError, match=r"bad alpha \[raised in your f\(\)\]"):
        checker.StudentFunction(k, "f")()
    with pytest.raises(checker.StudentError) as info:
        checker.StudentFunction(k, "g")()
    assert info.value.ename == "LinAlgError"
    with pytest.raises(checker.StudentError):          # never a BaseException that could stop the checker
        checker.StudentFunction(k, "h")()


@pytest.mark.parametrize("failure,kind,words", [(CallTimeout(), TimeoutError, "did not return"),
                                                (KernelFailure("the kernel died"), RuntimeError, "died"),
                                                (wire.NotData("a generator"), TypeError, "cannot check")])
def test_kernel_failures_fail_the_test_with_a_message(failure, kind, words):
    with pytest.raises(kind, match=words):
        checker.StudentFunction(FakeKernel({"f": failure}), "f")(1)


def test_warnings_come_back_and_tagged_with_the_function():
    k = FakeKernel({"f": reply(1.0, warnings=[["RuntimeWarning", "overflow"]])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match=r"overflow \[raised in your f\(\)\]"):
            checker.StudentFunction(k, "f")(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert checker.StudentFunction(k, "f")(1) == 1.0


def test_a_changed_argument_fails_the_call_and_never_reaches_the_tests_objects():
    """Writing the kernel's version back would let a student rewrite a test's expected values."""
    x, d = np.zeros(2), {"W": np.zeros(2)}
    k = FakeKernel({"f": reply(1.0, changed={"0": np.ones(2)}), "g": reply(1.0, changed={"d": {"W": np.ones(2)}})})
    with pytest.raises(checker.MutatedInput, match=r"f\(\) changed its argument 1 \(ndarray\) in place"):
        checker.StudentFunction(k, "f")(x)
    with pytest.raises(checker.MutatedInput, match="argument d="):
        checker.StudentFunction(k, "g")(d=d)
    assert x.tolist() == [0.0, 0.0] and d["W"].tolist() == [0.0, 0.0]


def test_a_generator_argument_advances_as_in_the_kernel():
    rng, ahead = np.random.default_rng(3), np.random.default_rng(3)
    ahead.permutation(10)
    k = FakeKernel({"f": reply([1], changed={"0": wire.RngState(ahead.bit_generator.state)})})
    checker.StudentFunction(k, "f")(rng)
    assert rng.random() == ahead.random()


def test_hidden_parts_run_separately_and_fail_without_details():
    k = FakeKernel({"leak": {"error": ["ValueError", "SECRET inputs x=[1, 2]"]}, "ok": reply(2.0)})
    c = checker.Checker(k, ["import numpy as np"], {"leak", "ok"})
    source = ("print('visible', ok())\nassert ok() == 2.0, 'visible check: ok'\n"
              "### BEGIN HIDDEN TESTS\nprint('hidden print')\nleak()\n### END HIDDEN TESTS\nprint('passed')")
    out = c.run(source, "t")
    assert out[0]["text"] == "visible 2.0\n"                       # the hidden part's print is dropped
    assert out[-1]["ename"] == "ValueError" and "SECRET" not in out[-1]["evalue"]
    assert out[-1]["evalue"] == "your leak() raised ValueError in a hidden test"
    failing = c.run("### BEGIN HIDDEN TESTS\nassert ok() == 3, f'the check of ok: got {ok()}'\n### END HIDDEN TESTS", "u")
    assert failing[-1]["evalue"] == "a hidden test failed: the check of ok"
    visible = c.run("assert ok() == 3, f'the check of ok: got {ok()}'", "v")
    assert visible[-1]["evalue"] == "the check of ok: got 2.0"     # visible failures keep every detail


def test_split_hidden_keeps_line_numbers_and_falls_back_inside_blocks():
    parts = checker.split_hidden("a = 1\n### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nc = 3\n")
    assert [h for _, h in parts] == [False, True, False]
    assert parts[1][0].count("\n") == 3 and parts[1][0].endswith("b = 2\n")
    nested = "if True:\n    a = 1\n    ### BEGIN HIDDEN TESTS\n    b = 2\n    ### END HIDDEN TESTS\n"
    assert checker.split_hidden(nested) == [(nested, True)]


def test_the_checker_stops_at_the_notebooks_deadline():
    import time
    k = FakeKernel({})
    k.deadline = time.monotonic() + 0.5
    c = checker.Checker(k, [], set())
    started = time.monotonic()
    out = c.run("while True:\n    pass", "t")
    assert out[-1]["ename"] == "CheckerTimeout" and time.monotonic() - started < 3


def test_decode_bounds_dict_size():
    pairs = [[i * (2**61 - 1), 0] for i in range(1, wire.MAX_DICT_ITEMS + 2)]
    with pytest.raises(wire.NotData, match="more than"):
        wire.decode({"~": "dict", "v": pairs})


def test_checker_runs_tests_outside_the_kernel():
    k = FakeKernel({"double": reply(np.array([2.0, 4.0]))})
    setup = "import numpy as np\ndef check_close(name, got, expected):\n" \
            "    assert np.allclose(got, expected), f'{name}: {got} is not {expected}'\n"
    c = checker.Checker(k, [setup], {"double"})
    passed = c.run("check_close('double', double(np.array([1.0, 2.0])), [2, 4])\nprint('tests passed')", "t1")
    failed = c.run("check_close('double', double(np.array([1.0, 2.0])), [2, 5])", "t2")
    assert passed == [{"output_type": "stream", "name": "stdout", "text": "tests passed\n"}]
    assert failed[-1]["output_type"] == "error" and failed[-1]["ename"] == "AssertionError"
    assert "double: [2. 4.] is not [2, 5]" in failed[-1]["evalue"]
    assert k.calls[0][0] == "double" and isinstance(k.calls[0][1][0], np.ndarray)


def test_defined_names():
    src = "import numpy as np\ndef f(x):\n    y = 1\n    return x\nclass C: pass\nA, b = 1, 2\nz: int = 3\nq = 1\n"
    assert checker.defined_names(src) == {"f", "C", "z", "q"}
    assert checker.defined_names("def broken(:") == set()


# ------------------------------------------------------------------ intake

def release_notebook():
    meta = lambda gid, **kw: {"nbgrader": {"grade_id": gid, "schema_version": 3, "grade": False, "solution": False,
                                           "locked": False, "task": False, **kw}}
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Exercises"),
        nbformat.v4.new_code_cell("import numpy as np\ndef check_close(a, b): pass", metadata=meta("setup", locked=True)),
        nbformat.v4.new_code_cell("def f(x):\n    raise NotImplementedError()", metadata=meta("f", solution=True)),
        nbformat.v4.new_code_cell("check_close(f(1), 2)", metadata=meta("test_f", grade=True, locked=True, points=2)),
    ])


def test_rebuild_keeps_answers_and_restores_everything_else():
    release = release_notebook()
    sub = nbformat.from_dict(json.loads(nbformat.writes(release)))
    sub.cells[1].source = "def check_close(*a): pass"                      # edited set-up
    sub.cells[2].source = "def f(x):\n    return 2 * x"                     # the answer
    del sub.cells[3]                                                         # deleted test
    forged = nbformat.v4.new_code_cell("print('x')", metadata={"nbgrader": {"grade_id": "evil", "grade": True,
                                                                            "points": 99, "locked": True}})
    paste = nbformat.v4.new_code_cell("check_close(f(1), 2)", metadata={"nbgrader": dict(release.cells[2].metadata.nbgrader)})
    sub.cells += [forged, paste]
    nb, notes = intake.rebuild(sub, release)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    assert by_id["setup"].source == release.cells[1].source
    assert by_id["f"].source == "def f(x):\n    return 2 * x"
    assert by_id["test_f"].source == release.cells[3].source
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells] == [None, "setup", "f", "test_f", None, None]
    assert "evil" not in by_id and all(not c.metadata.get("nbgrader") for c in nb.cells[4:])
    assert any("test_f" in n and "restored" in n for n in notes) and any("evil" in n for n in notes)


@pytest.mark.parametrize("content,words", [(b"", "empty"), (b"\xff\xfe\x00binary", "not text"),
                                           (b"{cells", "not valid JSON"), (b"[1, 2]", "no list of cells"),
                                           (b'{"cells": 5}', "no list of cells")])
def test_unreadable_files_say_why(tmp_path, content, words):
    path = tmp_path / "exercises.ipynb"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=words):
        intake.read_notebook(path)


def test_take_handles_links_renames_and_odd_folders(tmp_path):
    release = release_notebook()
    good = tmp_path / "ok" / "A"
    good.mkdir(parents=True)
    nbformat.write(release, good / "exercises (2).ipynb")
    (good / "notes.txt").write_text("x")
    sub = intake.take(tmp_path / "ok", "A", "exercises", release)
    assert sub.status == "ok" and any("exercises (2).ipynb" in n for n in sub.notes)
    assert any("notes.txt" in n for n in sub.notes)
    linked = tmp_path / "linked" / "A"
    linked.mkdir(parents=True)
    (linked / "exercises.ipynb").symlink_to(good / "exercises (2).ipynb")
    assert intake.take(tmp_path / "linked", "A", "exercises", release).status == "rejected"
    os.symlink(tmp_path / "ok", tmp_path / "alias")
    assert intake.take(tmp_path / "alias", "A", "exercises", release).status == "rejected"
    (tmp_path / "bad id!").mkdir()
    assert intake.take(tmp_path / "bad id!", "A", "exercises", release).status == "rejected"
    (tmp_path / "empty").mkdir()
    assert intake.take(tmp_path / "empty", "A", "exercises", release).status == "missing"


@pytest.mark.parametrize("code,reason", [
    ("get_ipython().input_transformers_post.append(f)", "IPython"),
    ("import numpy as np\nnp.allclose = lambda *a: True", "changes a library function"),
    ("open('/etc/passwd').read()", "uses files"),
    ("import subprocess", "starts processes"),
    ("import socket", "network"),
    ("from descentlab.grad import central_difference", "descentlab"),
    ("!ls", "magics"),
    ("def check_close(*a): pass", "redefines the course's helpers (check_close)"),
])
def test_flags_point_at_grading_machinery(code, reason):
    nb = release_notebook()
    nb.cells.insert(2, nbformat.v4.new_code_cell(code))
    found = intake.flags(nb, {"check_close"})
    assert any(reason in f for f in found), found


def test_honest_code_is_not_flagged():
    nb = release_notebook()
    nb.cells[2].source = "def f(x):\n    g = np.zeros(3)\n    for i in np.ndindex(g.shape):\n        g[i] = x\n    return g"
    assert intake.flags(nb, {"check_close"}) == []


def test_intake_survives_what_breaks_parsers(tmp_path, monkeypatch):
    release = release_notebook()
    folder = tmp_path / "s" / "A"
    folder.mkdir(parents=True)
    cells = [{"cell_type": "code", "source": "1" + "+1" * 200000, "metadata": {"deep": "DEEP"}, "outputs": []},
             {"cell_type": "code", "source": "-" * 100000 + "1", "metadata": {}, "outputs": []}]
    text = json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {}})
    (folder / "exercises.ipynb").write_text(text.replace('"DEEP"', "[" * 3000 + "]" * 3000))
    sub = intake.take(tmp_path / "s", "A", "exercises", release)
    assert sub.status in ("ok", "unreadable")
    monkeypatch.setattr(intake, "read_notebook", lambda path: (_ for _ in ()).throw(MemoryError()))
    sub = intake.take(tmp_path / "s", "A", "exercises", release)
    assert sub.status == "unreadable" and "MemoryError" in sub.reason


def test_feedback_shows_student_markdown_as_text(tmp_path):
    from gradeguard.execute import SanitizeFeedback
    nb = release_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("[hint](javascript:alert(1)) <script>x()</script> ```"))
    nb.cells[2].outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>y()</script>",
                                                                          "text/plain": "ok"})]
    (tmp_path / "A").mkdir()
    nbformat.write(release_notebook(), tmp_path / "A" / "exercises.ipynb")
    out, _ = SanitizeFeedback(release_directory=str(tmp_path)).preprocess(
        nb, {"nbgrader": {"assignment": "A", "notebook": "exercises"}})
    md = out.cells[-1].source
    assert md.startswith("```text\n") and md.endswith("\n```") and md.count("```") == 2
    assert out.cells[0].source == "# Exercises"                   # the instructor's markdown is untouched
    assert out.cells[2].outputs[0]["data"] == {"text/plain": "ok"}


def test_feedback_cuts_huge_student_code(tmp_path):
    from gradeguard.execute import SanitizeFeedback
    nb = release_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("1" + "+1" * 200000))
    out, _ = SanitizeFeedback(max_source_chars=1000).preprocess(nb, {})
    assert len(out.cells[-1].source) < 1100 and "[cut: 400001 characters]" in out.cells[-1].source
    assert out.cells[1].source == release_notebook().cells[1].source     # locked cells are never cut

"""constraints.txt pins the whole resolved stack that `make setup` installs.

jupyter-book 1 holds Sphinx, sphinx-book-theme and myst-parser at old majors; an unpinned
install next year can resolve a combination that no longer builds. The lock and
pyproject.toml must agree: every dependency of descentlab and of every extra is pinned,
at a version the specifier in pyproject.toml allows, once; `make setup` installs every
extra through the lock; and this environment holds the locked versions.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT

LOCK = ROOT / "constraints.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]["name"]


def parse_lock(text: str) -> list[tuple[str, str]]:
    """(canonical name, version) for every `name==version` line; anything else is an error."""
    pins = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert m, f"constraints.txt line {number}: {line!r} is not `name==version`"
        pins.append((canonicalize_name(m.group(1)), m.group(2)))
    return pins


def locked() -> dict[str, Version]:
    return {name: Version(version) for name, version in parse_lock(LOCK.read_text())}


def requirements() -> list[tuple[str, Requirement]]:
    """(where, requirement) for descentlab's dependencies and every extra's."""
    reqs = [("dependencies", Requirement(r)) for r in PYPROJECT["project"]["dependencies"]]
    for extra, items in PYPROJECT["project"]["optional-dependencies"].items():
        reqs += [(f"extra {extra}", Requirement(r)) for r in items]
    return [(where, r) for where, r in reqs
            if canonicalize_name(r.name) != PROJECT and (r.marker is None or r.marker.evaluate())]


def test_the_lock_is_pins_only_and_says_how_to_regenerate_it():
    text = LOCK.read_text()
    pins = parse_lock(text)
    names = [n for n, _ in pins]
    assert len(names) == len(set(names)), f"pinned twice: {sorted({n for n in names if names.count(n) > 1})}"
    assert len(pins) > 50, "the lock is the whole resolved stack, not only the direct dependencies"
    assert PROJECT not in names, "descentlab itself is not locked (it is this checkout)"
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    assert "pip freeze" in header and "make setup" in header, "the header says how to regenerate the lock"


def test_every_dependency_is_locked_at_an_allowed_version():
    pins = locked()
    problems = []
    for where, req in requirements():
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{where}: {req} is not in constraints.txt")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{where}: {req} does not allow the locked {name}=={pins[name]}")
    assert not problems, "constraints.txt and pyproject.toml disagree:\n  " + "\n  ".join(problems)


def test_the_stack_jupyter_book_1_needs_is_locked():
    pins = locked()
    for name, major in (("jupyter-book", 1), ("sphinx", 7), ("sphinx-book-theme", 1), ("myst-parser", 3)):
        assert name in pins and pins[name].major == major, f"{name}: {pins.get(name)}"


def test_make_setup_installs_every_extra_through_the_lock():
    rule = re.search(r"^\$\(STAMP\):.*\n(?:\t.*\n)*", (ROOT / "Makefile").read_text(), re.M).group(0)
    m = re.search(r"pip install --quiet -e '\.\[([^\]]*)\]' -c constraints\.txt", rule)
    assert m, f"make setup should install the extras with -c constraints.txt:\n{rule}"
    assert set(m.group(1).split(",")) == set(PYPROJECT["project"]["optional-dependencies"])


def test_this_environment_holds_the_locked_versions():
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("not the environment that `make setup` made")
    wrong = []
    for name, version in locked().items():
        try:
            have = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}=={version}: not installed")
            continue
        if have.public != version.public:          # torch's CPU wheel is 2.13.0+cpu
            wrong.append(f"{name}=={version}: {have} installed")
    assert not wrong, "run `make setup` (or regenerate the lock):\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("text, problem", [
    ("numpy==2.0.0\nnumpy==2.0.0\n", "twice"),
    ("numpy>=2\n", "not `name==version`"),
])
def test_the_checks_catch_a_bad_lock(text, problem, tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "LOCK", tmp_path / "constraints.txt")
    (tmp_path / "constraints.txt").write_text("# pip freeze ... make setup\n" + text)
    with pytest.raises(AssertionError, match=problem):
        test_the_lock_is_pins_only_and_says_how_to_regenerate_it()


def test_a_pin_outside_pyproject_is_caught(tmp_path, monkeypatch):
    lock = tmp_path / "constraints.txt"
    lock.write_text(LOCK.read_text().replace("\nnumpy==", "\nnumpy==0.1\n# was numpy=="))
    monkeypatch.setattr(sys.modules[__name__], "LOCK", lock)
    with pytest.raises(AssertionError, match="does not allow the locked numpy==0.1"):
        test_every_dependency_is_locked_at_an_allowed_version()
    lock.write_text(LOCK.read_text().replace("\nmatplotlib==", "\n# matplotlib=="))
    with pytest.raises(AssertionError, match="matplotlib.* is not in constraints.txt"):
        test_every_dependency_is_locked_at_an_allowed_version()

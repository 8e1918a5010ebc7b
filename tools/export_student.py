"""Export the public student repository from this private, instructor repository.

    python tools/export_student.py --out _build/student-repo     # what `make student` runs
    python tools/export_student.py --out DIR --rev v1.0           # another commit

This repository holds the solutions and hidden tests (solutions/), the grading code and
tests, and the instructor guide; it stays private. Students and readers get the tree this
script writes: a fresh git repository with ONE commit, whose message names the instructor
commit it was exported from. No instructor history is ever copied.

What is exported is an ALLOW-LIST of paths tracked at that commit (ALLOWED_FILES,
ALLOWED_DIRS): a file or package added to this repository stays private until it is
named here. Four files are written for the student tree instead of copied (GENERATED).
Book sources get three edits: _toc.yml drops the instructor guide, pages that link to it
lose the link, and _config.yml's comment on repository.url speaks for the student
repository. repository.url itself is kept: it is the student repository's address.

Before anything is written to --out, the tree is checked for nbgrader's solution and
hidden-test markers and for every line of a solution or hidden test in solutions/; a hit
stops the export. Only the standard library is used, so this runs without the .venv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "student"

# ------------------------------------------------------------------ what goes out

ALLOWED_FILES = (
    "_config.yml", "_toc.yml", "intro.md", "notation.md", "glossary.md", "bibliography.md",
    "references.bib", "LICENSE",
    "constraints.txt",          # the pinned stack its `make book` installs through (-c constraints.txt)
)
ALLOWED_DIRS = (
    "_ext/", "_static/", "binder/", "chapters/",
    "src/descentlab/",          # the library only: any other package under src/ is the instructor's
)
# Written for the student tree, never copied from this one.
GENERATED = ("pyproject.toml", "Makefile", "README.md", ".gitignore")

INSTRUCTOR_PAGE = "instructors"
EXPORT_MARK = "Exported from instructor commit"

# ------------------------------------------------------------------ what must never go out

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
SECRET_MIN_LENGTH = 30          # shorter lines (`return g`, `x = x0`) are not distinctive
# A solution line that the public library states too. descentlab is published with the book
# on purpose (it is the reference implementation; DESIGN.md: graded tests never call it,
# because students can import it), so such a line is allowed in exactly that library file.
LIBRARY_LINES = {
    "weight = np.exp(-np.logaddexp(0.0, margin))": "src/descentlab/losses.py",
}


class ExportError(RuntimeError):
    pass


# ------------------------------------------------------------------ reading the instructor commit

def git(root: Path, *args: str, input: bytes | None = None, check: bool = True, env: dict | None = None) -> bytes:
    env = {**{k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")},
           **(env or {})}
    result = subprocess.run(["git", "-C", str(root), *args], input=input, capture_output=True, env=env)
    if check and result.returncode != 0:
        raise ExportError(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def tree(root: Path, rev: str) -> dict[str, tuple[str, str]]:
    """Every file tracked at rev: path -> (mode, blob id)."""
    entries = {}
    for record in git(root, "ls-tree", "-r", "-z", "--full-tree", rev).split(b"\0"):
        if record:
            meta, path = record.decode().split("\t", 1)
            mode, _kind, sha = meta.split()
            entries[path] = (mode, sha)
    return entries


def read_blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    out = git(root, "cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode())
    blobs, pos = {}, 0
    for sha in shas:
        header_end = out.index(b"\n", pos)
        got, _kind, size = out[pos:header_end].decode().split()
        assert got == sha, (got, sha)
        start = header_end + 1
        blobs[sha] = out[start:start + int(size)]
        pos = start + int(size) + 1
    return blobs


def allowed(path: str) -> bool:
    return path in ALLOWED_FILES or path.startswith(ALLOWED_DIRS)


def ignored(root: Path, paths: list[str]) -> set[str]:
    """The paths .gitignore excludes (a file can be tracked and ignored if it was force-added)."""
    if not paths:
        return set()
    out = git(root, "check-ignore", "--no-index", "-z", "--stdin", input="\0".join(paths).encode(), check=False)
    return {p.decode() for p in out.split(b"\0") if p}


# ------------------------------------------------------------------ the secrets

def notebook_cells(data: bytes) -> list[dict]:
    cells = json.loads(data)["cells"]
    for cell in cells:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return cells


def split_regions(cell: dict) -> tuple[list[str], list[str]]:
    """(visible lines, lines inside a solution or hidden-test region) of one source cell."""
    visible, secret, inside = [], [], False
    whole = cell.get("metadata", {}).get("nbgrader", {}).get("solution") and "BEGIN SOLUTION" not in cell["source"]
    for line in cell["source"].splitlines():
        if re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", line):
            inside = True
        elif re.search(r"END (SOLUTION|HIDDEN TESTS)", line):
            inside = False
        elif inside or whole:       # nbgrader replaces a solution cell without markers as a whole
            secret.append(line)
        else:
            visible.append(line)
    return visible, secret


def secret_lines(notebooks: list[bytes]) -> set[str]:
    """Lines of the solution and hidden-test regions that students never see: longer than
    SECRET_MIN_LENGTH and not also part of the visible text of any source notebook."""
    visible, secret = [], set()
    for data in notebooks:
        for cell in notebook_cells(data):
            shown, hidden = split_regions(cell)
            visible += shown
            secret |= {ln.strip() for ln in hidden if len(ln.strip()) > SECRET_MIN_LENGTH}
    public = "\n".join(visible)
    return {s for s in secret if s not in public}


def spellings(line: str) -> set[str]:
    """The line as it reads in a text file, in a notebook's JSON, and in HTML."""
    import html
    return {line, json.dumps(line)[1:-1], html.escape(line, quote=False), html.escape(line)}


def leaks(files: dict[str, bytes], secrets: set[str]) -> list[str]:
    """'path: what' for every marker or secret line found in the files."""
    found = []
    forms = {s: spellings(s) for s in secrets}
    for path, data in sorted(files.items()):
        text = data.decode("utf-8", errors="ignore")
        found += [f"{path}: {m!r}" for m in MARKERS if m in text]
        found += [f"{path}: {s!r}" for s, spelled in forms.items()
                  if any(f in text for f in spelled) and LIBRARY_LINES.get(s) != path]
    return found


# ------------------------------------------------------------------ the edits for the student tree

DOC_LINK = re.compile(
    r"\{doc\}`(?:(?P<text>[^`<]*?)\s*<\s*(?P<t1>[^`>]+?)\s*>|(?P<t2>[^`<]+?))`"
    r"|\[(?P<mdtext>[^\]]*)\]\((?P<t3>[^)\s]+)\)")


def targets_page(target: str, page: str) -> bool:
    target = target.split("#", 1)[0]
    return re.fullmatch(rf"(?:\.\./|\./|/)*{re.escape(page)}(?:\.md|\.html)?", target) is not None


def page_links(text: str, page: str) -> list[re.Match]:
    return [m for m in DOC_LINK.finditer(text)
            if targets_page(m.group("t1") or m.group("t2") or m.group("t3"), page)]


def unlink_page(text: str, page: str) -> str:
    """Drop every list item that links to `page`; elsewhere keep a link's text, drop the link."""
    lines = text.splitlines(keepends=True)
    item = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s")
    keep, i = [], 0
    while i < len(lines):
        m = item.match(lines[i])
        if m:
            indent, j = len(m.group(1)), i + 1
            while j < len(lines) and lines[j].strip() and lines[j][:1].isspace():
                n = item.match(lines[j])
                if n and len(n.group(1)) <= indent:
                    break
                j += 1
            block = "".join(lines[i:j])
            if not page_links(block, page):
                keep.append(block)
            i = j
        else:
            keep.append(lines[i])
            i += 1
    text = "".join(keep)

    def plain(match: re.Match) -> str:
        words = match.group("text") or match.group("mdtext")
        if not words:
            raise ExportError(f"a link to {page} without words to keep: {match.group(0)!r}")
        return words
    for match in reversed(page_links(text, page)):
        text = text[:match.start()] + plain(match) + text[match.end():]
    return text


def drop_toc_entry(text: str, page: str) -> str:
    """Remove the `- file: page` entry (and anything nested under it) from _toc.yml."""
    lines = text.splitlines(keepends=True)
    entry = re.compile(rf"^(\s*)- file:\s*[\"']?{re.escape(page)}(?:\.md)?[\"']?\s*$")
    out, i, dropped = [], 0, 0
    while i < len(lines):
        m = entry.match(lines[i])
        if m:
            indent, i, dropped = len(m.group(1)), i + 1, dropped + 1
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                i += 1
            continue
        out.append(lines[i])
        i += 1
    if dropped != 1:
        raise ExportError(f"_toc.yml: expected one entry `- file: {page}`, found {dropped}")
    text = "".join(out)
    if re.search(rf"\b{re.escape(page)}\b", text):
        raise ExportError(f"_toc.yml still names {page} after dropping its entry")
    return text


STUDENT_REPOSITORY_COMMENT = """\
# This repository is the book's public repository: every repository, issue and launch
# button is built from this one address (launch buttons need a GitHub repository).
# Forks change it here.
"""


def student_config(text: str) -> str:
    """_config.yml with the comment above `repository:` rewritten for the student repository."""
    lines = text.splitlines(keepends=True)
    at = next((i for i, ln in enumerate(lines) if ln.rstrip() == "repository:"), None)
    if at is None:
        raise ExportError("_config.yml has no top-level `repository:` section")
    start = at
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    if "private" not in "".join(lines[start:at]):
        raise ExportError("_config.yml: the comment above `repository:` should say that the "
                          "instructor repository is private and the address is the student repository's")
    return "".join(lines[:start]) + STUDENT_REPOSITORY_COMMENT + "".join(lines[at:])


def config_value(config: str, section: str, key: str) -> str:
    m = re.search(rf"^{section}:\n(?:[ \t]+.*\n|#.*\n|\n)*?[ \t]+{key}:[ \t]*[\"']?([^\s\"'#]+)", config, re.M)
    if not m:
        raise ExportError(f"_config.yml: no {section}.{key}")
    return m.group(1)


# ------------------------------------------------------------------ the generated files

def toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value) and len(value) > 1:
            return "[\n" + "".join(f"    {json.dumps(v)},\n" for v in value) + "]"
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise ExportError(f"pyproject.toml: cannot write {value!r}")


PROJECT_KEYS = ("name", "version", "description", "requires-python", "license", "authors", "dependencies")


STUDENT_EXTRAS = ("plot", "book")


def student_pyproject(text: str) -> str:
    """descentlab with the `plot` extra (what the pages' install line asks for) and the `book`
    extra: no grading or test extras, no scripts, no other package."""
    data = tomllib.loads(text)
    project = data["project"]
    extras = {name: project.get("optional-dependencies", {}).get(name) for name in STUDENT_EXTRAS}
    for name, items in extras.items():
        if not items:
            raise ExportError(f"pyproject.toml has no `{name}` extra")
    out = ["# descentlab, the book's library (pip install '.[plot]' for the pages' figures), and",
           "# what builds the book (pip install -e '.[book]').",
           "[build-system]"]
    out += [f"{k} = {toml_value(v)}" for k, v in data["build-system"].items()]
    out += ["", "[project]"]
    for key in PROJECT_KEYS:
        if key in project:
            out.append(f"{key} = {toml_value(project[key])}")
        if key == "description":
            out.append('readme = "README.md"')
    out += ["", "[project.optional-dependencies]", *(f"{k} = {toml_value(v)}" for k, v in extras.items()),
            "", "[tool.setuptools.packages.find]", 'where = ["src"]', 'include = ["descentlab", "descentlab.*"]', ""]
    result = "\n".join(out)
    parsed = tomllib.loads(result)
    assert parsed["project"]["optional-dependencies"] == extras
    assert parsed["project"]["dependencies"] == project["dependencies"]
    return result


STUDENT_VARIABLES = ("SHELL", "PYTHON", "VENV", "PY", "STAMP", "MATHJAX_VERSION", "MATHJAX", "PORT")


def makefile_rule(makefile: str, target: str) -> str:
    """The rule for `target` (its line and its tab-indented recipe) exactly as the Makefile has it."""
    m = re.search(rf"^{re.escape(target)}:.*\n(?:\t.*\n)*", makefile, re.M)
    if not m:
        raise ExportError(f"Makefile: no rule for {target}")
    return m.group(0)


def student_makefile(makefile: str) -> str:
    """book, serve, help, clean; the set-up recipes (.venv, MathJax) are the instructor
    Makefile's own, with the venv installing only the `book` extra."""
    variables = []
    for name in STUDENT_VARIABLES:
        m = re.search(rf"^{name}\s*(?::=|\?=|=).*\n", makefile, re.M)
        if not m:
            raise ExportError(f"Makefile: no variable {name}")
        variables.append(m.group(0))
    exports = re.findall(r"^export .*\n", makefile, re.M)
    stamp, n = re.subn(r"-e '\.\[[^\]]*\]'", "-e '.[book]'", makefile_rule(makefile, "$(STAMP)"))
    if n != 1:
        raise ExportError("Makefile: the $(STAMP) recipe no longer installs `-e '.[extras]'`")
    rules = [stamp] + [makefile_rule(makefile, t) for t in ("$(MATHJAX)", "setup", "book", "serve", "clean")]
    return (
        "# Back Propagation and Optimization: build and read the book. `make book` sets up\n"
        "# what it needs (.venv, MathJax) on first use, so a fresh clone needs nothing else.\n\n"
        + "".join(variables)
        + "\n# Determinism, a headless numeric stack, and kernels and programs from this venv.\n"
        + "".join(exports)
        + "\n.PHONY: help setup book serve clean\n\n"
        "help:\n"
        '\t@echo "make book     set up (.venv, MathJax) and build the book into _build/html"\n'
        '\t@echo "make serve    serve _build/html on http://127.0.0.1:$(PORT)"\n'
        '\t@echo "make clean    remove the built book"\n\n'
        + "\n".join(rules)
    )


STUDENT_GITIGNORE = """\
# environments and caches
.venv/
__pycache__/
*.egg-info/
.pytest_cache/
.ipynb_checkpoints/
.mathjax/
_extra/

# builds
_build/
"""


def student_readme(repository: str) -> str:
    return string.Template((TEMPLATES / "README.md").read_text()).substitute(repository=repository)


# ------------------------------------------------------------------ the export

def student_files(root: Path, rev: str) -> dict[str, tuple[str, bytes]]:
    """The student tree: path -> (git mode, content)."""
    entries = tree(root, rev)
    for name in ALLOWED_FILES:
        if name not in entries:
            raise ExportError(f"{name} is on the allow-list but not tracked at {rev}")
    for name in ALLOWED_DIRS:
        if not any(p.startswith(name) for p in entries):
            raise ExportError(f"{name} is on the allow-list but holds no tracked file at {rev}")
    paths = [p for p in entries if allowed(p)]
    paths = sorted(set(paths) - ignored(root, paths))
    for path in paths:
        mode = entries[path][0]
        if mode not in ("100644", "100755"):
            raise ExportError(f"{path}: mode {mode} (a link or submodule) is not exported")
    blobs = read_blobs(root, sorted({entries[p][1] for p in paths} | {entries[n][1] for n in ("pyproject.toml", "Makefile")}))
    files = {p: (entries[p][0], blobs[entries[p][1]]) for p in paths}

    def edit(path: str, change) -> None:
        mode, data = files[path]
        files[path] = (mode, change(data.decode()).encode())

    edit("_toc.yml", lambda t: drop_toc_entry(t, INSTRUCTOR_PAGE))
    edit("_config.yml", student_config)
    for path in [p for p in files if p.endswith(".md")]:
        edit(path, lambda t: unlink_page(t, INSTRUCTOR_PAGE))
    for path, (_, data) in files.items():
        if path.endswith((".md", ".ipynb")) and page_links(data.decode(), INSTRUCTOR_PAGE):
            raise ExportError(f"{path} links to the instructor guide, which the student book does not have")

    config = files["_config.yml"][1].decode()
    text = lambda name: blobs[entries[name][1]].decode()  # noqa: E731
    files["pyproject.toml"] = ("100644", student_pyproject(text("pyproject.toml")).encode())
    files["Makefile"] = ("100644", student_makefile(text("Makefile")).encode())
    files["README.md"] = ("100644", student_readme(config_value(config, "repository", "url")).encode())
    files[".gitignore"] = ("100644", STUDENT_GITIGNORE.encode())
    return files


def secrets_at(root: Path, rev: str) -> set[str]:
    entries = tree(root, rev)
    sources = sorted(p for p in entries if p.startswith("solutions/") and p.endswith(".ipynb"))
    if not sources:
        raise ExportError(f"no solutions/*/*.ipynb at {rev}: nothing to check the export against")
    blobs = read_blobs(root, [entries[p][1] for p in sources])
    return secret_lines(list(blobs.values()))


def previous_export(out: Path) -> bool:
    if not (out / ".git").exists():
        return False
    message = subprocess.run(["git", "-C", str(out), "log", "-1", "--format=%B"], capture_output=True, text=True)
    return message.returncode == 0 and EXPORT_MARK in message.stdout


def check_destination(root: Path, out: Path) -> None:
    if out == root or root.is_relative_to(out):
        raise ExportError(f"--out {out} holds this repository")
    if out.is_relative_to(root) and not ignored(root, [out.relative_to(root).as_posix()]):
        raise ExportError(f"--out {out} is inside this repository but not git-ignored (use _build/...)")
    if out.exists() and any(out.iterdir()) and not previous_export(out):
        raise ExportError(f"--out {out} exists and is not a previous student export: not replacing it")


def commit(work: Path, message: str, date: str, branch: str) -> str:
    """One commit of everything in `work`, dated like the instructor commit (so exporting the
    same commit twice gives the same tree and, for the same author, the same commit id)."""
    env = {"GIT_AUTHOR_DATE": os.environ.get("GIT_AUTHOR_DATE", date),
           "GIT_COMMITTER_DATE": os.environ.get("GIT_COMMITTER_DATE", date)}

    def g(*args: str) -> str:
        return git(work, *args, env=env).decode().strip()
    g("init", "-q", "--template=", "-b", branch)
    identity = []
    if not git(work, "config", "user.email", check=False).strip():
        identity = ["-c", "user.name=Back Propagation and Optimization", "-c", "user.email=noreply@example.org"]
    g("add", "-A")
    g(*identity, "commit", "-q", "--no-verify", "-m", message)
    return g("rev-parse", "HEAD")


def export(out: Path, rev: str = "HEAD", root: Path = ROOT) -> str:
    """Write the student repository to `out`; return its commit id."""
    root, out = Path(root).resolve(), Path(out).resolve()
    check_destination(root, out)
    sha = git(root, "rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
    files = student_files(root, sha)
    found = leaks({p: data for p, (_, data) in files.items()}, secrets_at(root, sha))
    if found:
        raise ExportError("the student tree would hold solution or hidden-test text:\n  " + "\n  ".join(found[:20]))

    config = files["_config.yml"][1].decode()
    date = git(root, "show", "-s", "--format=%cI", sha).decode().strip()
    message = (f"Back Propagation and Optimization, student edition\n\n"
               f"{EXPORT_MARK} {sha}.\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    work.chmod(0o755)                     # mkdtemp makes it private to its owner
    try:
        for path, (mode, data) in files.items():
            dest = work / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            dest.chmod(0o755 if mode == "100755" else 0o644)
        student = commit(work, message, date, config_value(config, "repository", "branch"))
        if git(work, "rev-list", "--all").split() != [student.encode()]:
            raise ExportError("the student repository has more than one commit")
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return student


def uncommitted(root: Path) -> list[str]:
    status = git(root, "status", "--porcelain", "--", *ALLOWED_FILES, *ALLOWED_DIRS).decode()
    return [ln for ln in status.splitlines() if ln.strip()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="_build/student-repo", help="where to write the student repository")
    parser.add_argument("--rev", default="HEAD", help="the instructor commit to export (default HEAD)")
    args = parser.parse_args(argv)
    try:
        student = export(Path(args.out), args.rev)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.rev == "HEAD" and (changed := uncommitted(ROOT)):
        print("note: uncommitted changes are not exported (the export is of the last commit):\n  "
              + "\n  ".join(changed), file=sys.stderr)
    config = (ROOT / "_config.yml").read_text()
    print(f"Student repository written to {args.out} (commit {student[:12]}, one commit, branch "
          f"{git(Path(args.out), 'rev-parse', '--abbrev-ref', 'HEAD').decode().strip()}).\n"
          f"Push it to {config_value(config, 'repository', 'url')} (_config.yml's repository.url); "
          f"never push the instructor repository there.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

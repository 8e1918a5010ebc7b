"""The built book: no solutions or hidden tests anywhere, math served locally, figures with alt text,
and every page clean in a real browser with the network cut off."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from conftest import ROOT

TEXT_SUFFIXES = {".html", ".txt", ".md", ".ipynb", ".js", ".json", ".py"}


def secret_lines() -> set[str]:
    """Distinctive lines of every solution region and hidden test in solutions/."""
    lines = set()
    for src in (ROOT / "solutions").glob("*/*.ipynb"):
        for cell in nbformat.read(src, as_version=4).cells:
            for begin, end in (("### BEGIN SOLUTION", "### END SOLUTION"),
                               ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
                for region in re.findall(re.escape(begin) + r"\n(.*?)" + re.escape(end), cell.source, re.S):
                    lines |= {ln.strip() for ln in region.splitlines() if len(ln.strip()) > 25}
    # a line that the student notebook shows anyway (a visible test repeats it) is no secret
    public = "\n".join(cell.source for nb in (ROOT / "chapters").glob("*/*.ipynb")
                        for cell in nbformat.read(nb, as_version=4).cells)
    generic = re.compile(r"^(rng = np\.random\.default_rng\(\d+\)|import |from \S+ import )")
    return {ln for ln in lines if ln not in public and not generic.match(ln)}


def html_pages(book: Path) -> list[Path]:
    return sorted(p for p in book.rglob("*.html") if "_static" not in p.parts and "mathjax" not in p.parts)


def test_book_holds_no_solution_or_hidden_test(book):
    secrets = secret_lines()
    assert len(secrets) > 20
    checked = 0
    for path in book.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and "mathjax" not in path.parts:
            text = path.read_text(errors="ignore")
            checked += 1
            for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
                assert marker not in text, f"{path.relative_to(book)} contains {marker!r}"
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{path.relative_to(book)} contains solution or hidden-test code: {leaked[:3]}"
    assert (book / "_sources" / "chapters" / "01-gradients" / "exercises.ipynb").is_file()
    assert checked > 10


def test_the_leak_check_knows_the_secrets():
    """The check above is not vacuous: it looks for real solution and hidden-test lines."""
    secrets = secret_lines()
    assert "return X.T @ (X @ w - y) / len(y)" in secrets          # a solution line
    assert any("least_squares_grad(w_star, X, y)" in s for s in secrets)  # a hidden-test line


def test_math_is_served_from_the_build(book):
    assert (book / "mathjax" / "tex-chtml.js").is_file()
    assert (book / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()
    for page in html_pages(book):
        text = page.read_text()
        srcs = re.findall(r'<script[^>]*\ssrc="([^"]+)"', text)
        external = [s for s in srcs if re.match(r"(https?:)?//", s)]
        assert not external, f"{page.relative_to(book)} loads scripts from the network: {external}"
        if "math notranslate" in text:
            mj = [s for s in srcs if "mathjax/tex-chtml.js" in s]
            assert mj, f"{page.relative_to(book)} has math but no local MathJax"
            target = (page.parent / mj[0].split("?")[0]).resolve()
            assert target == (book / "mathjax" / "tex-chtml.js").resolve()


def test_chapter_one_figures_have_alt_text(book):
    images = []
    for page in (book / "chapters" / "01-gradients").glob("*.html"):
        for tag in re.findall(r"<img[^>]*>", page.read_text()):
            src = re.search(r'src="([^"]+)"', tag).group(1)
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and alt.group(1).strip(), f"{page.name}: image {src} has no alt text"
            if src.startswith("../../_static/"):       # the theme's button icons ("Binder logo")
                continue
            assert len(alt.group(1)) > 40, f"{page.name}: figure {src} lacks a real alt text"
            assert (page.parent / src).resolve().is_file(), f"{page.name}: missing image {src}"
            images.append(src)
    assert len(images) >= 2


def test_student_notebook_is_downloadable_without_solutions(book):
    page = (book / "chapters" / "01-gradients" / "exercises.html").read_text()
    assert "_sources/chapters/01-gradients/exercises.ipynb" in page
    assert "NotImplementedError" in page


# ------------------------------------------------------------------ in a real browser

def visit(browser, base: str, path: str) -> dict:
    context = browser.new_context()
    blocked, errors, failed = [], [], []

    def only_local(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    response = page.goto(base + path, wait_until="networkidle")
    page.evaluate("() => (window.MathJax && MathJax.startup) ? MathJax.startup.promise.then(() => true) : true")
    page.wait_for_timeout(300)
    result = {
        "status": response.status,
        "blocked": blocked, "errors": errors, "failed": failed,
        "math_source": page.locator("div.math, span.math").count(),
        "math_typeset": page.locator("mjx-container").count(),
        "images": page.eval_on_selector_all(
            "main img", "els => els.map(e => ({src: e.src, alt: e.alt, ok: e.complete && e.naturalWidth > 0}))"),
    }
    context.close()
    return result


def test_every_page_is_clean_offline(book, server, browser):
    pages = [p.relative_to(book).as_posix() for p in html_pages(book)]
    assert "chapters/01-gradients/directional-derivatives.html" in pages
    problems = []
    for path in pages:
        r = visit(browser, server, path)
        if r["status"] != 200:
            problems.append(f"{path}: HTTP {r['status']}")
        if r["blocked"]:
            problems.append(f"{path}: requests to other hosts {r['blocked'][:3]}")
        if r["errors"]:
            problems.append(f"{path}: console errors {r['errors'][:3]}")
        if r["failed"]:
            problems.append(f"{path}: failed resources {r['failed'][:3]}")
        if r["math_source"] and r["math_typeset"] == 0:
            problems.append(f"{path}: {r['math_source']} formulas but none typeset")
        for img in r["images"]:
            if not img["ok"] or not img["alt"]:
                problems.append(f"{path}: image {img['src']} loaded={img['ok']} alt={img['alt']!r}")
    assert not problems, "\n".join(problems)


def test_chapter_one_renders_math_and_figures(book, server, browser):
    for path, min_math, min_images in (("chapters/01-gradients/directional-derivatives.html", 30, 1),
                                       ("chapters/01-gradients/finite-differences.html", 20, 1)):
        r = visit(browser, server, path)
        assert r["math_typeset"] >= min_math, (path, r["math_typeset"])
        assert len(r["images"]) >= min_images and all(i["ok"] for i in r["images"]), (path, r["images"])


def test_search_finds_momentum(book, server, browser):
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server) else route.abort())
    page = context.new_page()
    page.goto(server + "search.html?q=momentum", wait_until="networkidle")
    page.wait_for_selector("#search-results ul.search li", timeout=15000)
    hits = page.locator("#search-results ul.search li").count()
    context.close()
    assert hits >= 1


def test_figures_are_opaque_on_white_for_dark_mode(book):
    """Figures carry their own white background, so they stay legible in the theme's dark mode."""
    import matplotlib.image as mpimg

    images = sorted((book / "_images").glob("*.png"))
    assert images
    for path in images:
        img = mpimg.imread(path)
        corners = [img[0, 0], img[0, -1], img[-1, 0], img[-1, -1]]
        for px in corners:
            assert px[:3].min() > 0.95, f"{path.name}: corner {px} is not white"
            if img.shape[-1] == 4:
                assert px[3] == 1.0, f"{path.name}: transparent background"


def test_make_book_says_what_is_missing_without_npm(tmp_path):
    """Without Node.js/npm, `make book` stops with a message naming what to install."""
    import os
    import subprocess

    make = shutil.which("make")
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}  # no npm (and nothing else) on PATH
    result = subprocess.run([make, "-f", str(ROOT / "Makefile"), "_extra/mathjax/tex-chtml.js"],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Node.js and npm" in result.stderr and "apt-get install nodejs npm" in result.stderr
    assert not (tmp_path / "_extra").exists()

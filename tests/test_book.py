"""The built book: no solutions or hidden tests anywhere, math served locally, figures with alt text,
and every page clean in a real browser with the network cut off."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

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

WIDE = {"width": 1366, "height": 768}       # the commonest laptop screen

# Layout at that width, measured after MathJax: display equations that reach past the text
# column or need scrolling in their box, and code cells that need horizontal scrolling.
MEASURE = """() => {
  const column = el => (el.closest('article.bd-article') || document.body).getBoundingClientRect();
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const wide = el => el.scrollWidth > el.clientWidth + 1;
  const math = [...document.querySelectorAll('mjx-container[display="true"]')];
  return {
    math_overflow: math.map((el, i) => ({
        index: i, right: Math.round(el.getBoundingClientRect().right), column: Math.round(column(el).right),
        content: el.scrollWidth, box: el.clientWidth, scrolls: scrolls(el),
        bar: el.offsetHeight - el.clientHeight,
        text: el.textContent.replace(/\\s+/g, ' ').slice(0, 50)}))
      .filter(m => m.right > m.column + 1 || m.content > m.box + 1),
    code_cells: document.querySelectorAll('div.cell_input pre').length,
    code_overflow: [...document.querySelectorAll('div.cell_input pre')]
      .filter(wide).map(el => ({
        content: el.scrollWidth, box: el.clientWidth,
        line: el.textContent.split('\\n').reduce((a, b) => b.length > a.length ? b : a, '')})),
  };
}"""


def visit(browser, base: str, path: str, axe=None) -> dict:
    """Load one page at 1366x768 with the network cut off; report what went wrong, and axe's findings."""
    context = browser.new_context(viewport=WIDE)
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
    # The browser fetches the page's icon (or /favicon.ico when none is declared) outside the
    # page's own requests, and its 404 shows only as an unnamed console error: ask for it by name.
    icon = page.evaluate("() => (document.querySelector('link[rel~=\"icon\"]') || {}).href"
                         " || new URL('/favicon.ico', location.href).href")
    icon_status = context.request.get(icon).status
    if icon_status >= 400:
        failed.append(f"{icon_status} {icon} (the page's icon)")
    result = {
        "status": response.status,
        "url": page.url,
        "blocked": list(blocked), "errors": list(errors), "failed": list(failed),
        "math_source": page.locator("div.math, span.math").count(),
        "math_typeset": page.locator("mjx-container").count(),
        "images": page.eval_on_selector_all(
            "main img", "els => els.map(e => ({src: e.src, alt: e.alt, ok: e.complete && e.naturalWidth > 0}))"),
        "launch": page.eval_on_selector_all(".dropdown-launch-buttons a", """els => els.map(a => ({
            host: new URL(a.href).host, text: a.textContent.trim()}))"""),
        **page.evaluate(MEASURE),
    }
    if axe is not None:
        # after the lists above are copied: axe's own stylesheet requests are not the page's
        found = axe.run(page).response["violations"]
        result["axe"] = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                          "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]]} for v in found]
    context.close()
    return result


def book_pages(book: Path) -> list[str]:
    return [p.relative_to(book).as_posix() for p in html_pages(book)]


@pytest.fixture(scope="module")
def visited(book, server, browser) -> dict[str, dict]:
    """Every page of the book, visited once in the browser, with axe-core's audit of it."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="axe-playwright-python is not installed")
    axe = axe_module.Axe()
    return {path: visit(browser, server, path, axe) for path in book_pages(book)}


def test_every_page_is_clean_offline(visited):
    assert "chapters/01-gradients/directional-derivatives.html" in visited
    problems = []
    for path, r in visited.items():
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


def test_a_missing_icon_is_a_failed_resource(browser, tmp_path):
    """The clean-page check sees the 404 a browser gets for /favicon.ico when a page declares no icon."""
    import functools
    import http.server
    import threading

    (tmp_path / "page.html").write_text('<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
                                        "<body><p>No icon here.</p></body></html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.func.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        r = visit(browser, f"http://127.0.0.1:{httpd.server_address[1]}/", "page.html")
    finally:
        httpd.shutdown()
    assert any("favicon.ico" in f and f.startswith("404") for f in r["failed"]), r["failed"]


def test_every_page_declares_the_books_icon(book):
    for path in book_pages(book):
        text = (book / path).read_text()
        if "http-equiv=\"Refresh\"" in text:        # index.html only redirects to the first page
            continue
        icons = re.findall(r'<link rel="icon" href="([^"]+)"', text)
        assert icons, f"{path} declares no icon"
        assert (book / path).parent.joinpath(icons[0]).resolve().is_file(), (path, icons[0])


LAUNCH_HOSTS = {"mybinder.org", "colab.research.google.com"}


def test_no_launch_button_leads_nowhere(visited):
    """With no hub in _config.yml the book offers no JupyterHub button; the others name real services."""
    launch = {path: r["launch"] for path, r in visited.items() if r["launch"]}
    assert len(launch) > 10
    assert {"Binder"} <= {b["text"] for b in launch["chapters/02-backprop/backprop.html"]}
    bad = [(path, b) for path, buttons in launch.items() for b in buttons
           if b["host"] not in LAUNCH_HOSTS or "JupyterHub" in b["text"]]
    assert not bad, bad


HUB_PAGE = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# A notebook page

```{code-cell} ipython3
1 + 1
```
"""


def test_a_configured_hub_gets_its_button(tmp_path):
    """The book's own _config.yml with jupyterhub_url set: the button is there."""
    import yaml

    from conftest import BIN, run

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert not config["launch_buttons"].get("jupyterhub_url"), "the shipped book must not point at a hub"
    config["launch_buttons"]["jupyterhub_url"] = "https://hub.test.example"
    config["execute"]["execute_notebooks"] = "off"           # the button needs no outputs: keep it fast
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    for folder in ("_ext", "_static"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "_extra").mkdir()
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "page.md").write_text(HUB_PAGE)
    run([BIN / "jupyter-book", "build", tmp_path, "--path-output", tmp_path, "-W", "-n", "--keep-going"],
        cwd=tmp_path, timeout=600)
    page = (tmp_path / "_build" / "html" / "page.html").read_text()
    hub = re.findall(r'<a href="(https://hub\.test\.example/[^"]+)"[^>]*\s+title="Launch on JupyterHub"',
                     page)
    assert hub and "git-pull?repo=" in hub[0] and "urlpath=lab/tree/" in hub[0], hub


def test_chapter_one_renders_math_and_figures(visited):
    for path, min_math, min_images in (("chapters/01-gradients/directional-derivatives.html", 30, 1),
                                       ("chapters/01-gradients/finite-differences.html", 20, 1)):
        r = visited[path]
        assert r["math_typeset"] >= min_math, (path, r["math_typeset"])
        assert len(r["images"]) >= min_images and all(i["ok"] for i in r["images"]), (path, r["images"])


def test_display_math_stays_in_its_column_at_1366px(visited):
    """Every display equation fits the text column at 1366 px (narrower screens scroll it, with a bar)."""
    assert visited["chapters/02-backprop/backprop.html"]["math_typeset"] > 20
    bad = [f"{path}: equation {m['index']} ({m['text']!r}): right edge {m['right']} px, column ends at "
           f"{m['column']} px; content {m['content']} px in a {m['box']} px box, scrollable={m['scrolls']}, "
           f"scrollbar {m['bar']} px"
           for path, r in visited.items() for m in r["math_overflow"]]
    assert not bad, "\n".join(bad)


def test_code_fits_its_box_at_1366px(visited):
    """No code cell needs horizontal scrolling on a laptop screen (printed tables may scroll)."""
    assert visited["chapters/02-backprop/backprop.html"]["code_cells"] > 5     # the measure finds code
    wide = [f"{path}: {w['content']} px of code in a {w['box']} px box: {w['line']!r}"
            for path, r in visited.items() for w in r["code_overflow"]]
    assert not wide, "\n".join(wide)


SERIOUS = ("serious", "critical")


def test_no_serious_accessibility_violation_on_any_page(visited):
    """axe-core (WCAG 2 A/AA and best practices) finds nothing serious or critical on any page."""
    found = [(v, path) for path, r in visited.items() for v in r["axe"] if v["impact"] in SERIOUS]
    lines = [f"{v['id']} ({v['impact']}) on {path}: {v['help']}; {len(v['targets'])} element(s), "
             f"e.g. {v['targets'][:2]}" for v, path in found]
    print("\n".join(lines))
    assert len(visited) > 20
    assert not found, f"{len(found)} serious or critical violations:\n" + "\n".join(lines)


TINTED = ("div.admonition", "div.proof", "div.exercise")


def test_dark_mode_links_have_enough_contrast(book, server, browser):
    """In dark mode too, text and links in tinted boxes (proofs, exercises) have enough contrast."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = [p for p in book_pages(book) if 'class="proof' in (book / p).read_text()
             or 'class="exercise' in (book / p).read_text()]
    assert len(pages) >= 3
    context = local_context(browser, server, color_scheme="dark")
    context.add_init_script("localStorage.setItem('theme', 'dark'); localStorage.setItem('mode', 'dark');")
    page = context.new_page()
    bad = []
    for path in pages:
        page.goto(server + path, wait_until="networkidle")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        boxes = {"include": [[sel] for sel in TINTED if page.locator(sel).count()]}
        only_contrast = {"runOnly": ["color-contrast"], "resultTypes": ["violations"]}
        found = axe.run(page, context=boxes, options=only_contrast)
        for v in found.response["violations"]:
            bad += [f"{path}: {' '.join(map(str, n['target']))}: {n['any'][0]['message']}"
                    for n in v["nodes"]]
    context.close()
    assert not bad, "\n".join(bad)


def test_pages_state_their_language(visited, book):
    """<html lang="en"> on every page, so that a screen reader reads it with an English voice."""
    for path in book_pages(book):
        text = (book / path).read_text()
        if "http-equiv=\"Refresh\"" not in text:
            assert re.search(r'<html lang="en"', text), f"{path} does not declare its language"
    assert not [(p, v["id"]) for p, r in visited.items() for v in r["axe"] if v["id"].startswith("html-")]


# ------------------------------------------------------------------ the keyboard alone

FOCUS = """() => {
  const el = document.activeElement;
  // the theme draws a focused section toggle's outline on the chevron inside it
  const shown = el.tagName === 'SUMMARY' && el.querySelector('.toctree-toggle') || el;
  const style = getComputedStyle(shown);
  return {tag: el.tagName.toLowerCase(), href: el.href || null,
          text: (el.textContent || '').trim().slice(0, 60), in_toc: !!el.closest('nav.bd-docs-nav'),
          toc_level: (el.closest('li[class*="toctree-l"]') || {}).className,
          open: el.tagName === 'SUMMARY' ? el.parentElement.open : null,
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          shadow: style.boxShadow !== 'none'};
}"""


def local_context(browser, server: str, **options):
    """A browser context at 1366x768 that reaches only the book's server."""
    context = browser.new_context(viewport=WIDE, **options)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    return context


def other_chapter_link(focus: dict) -> bool:
    """A chapter's link in the sidebar (not the chapter of the page the test starts on)."""
    return (focus["in_toc"] and focus["tag"] == "a" and "toctree-l1" in (focus["toc_level"] or "")
            and "02-backprop" not in focus["href"])


def tab_until(page, wanted, limit: int = 80) -> dict:
    """Press Tab until the focused element matches `wanted`; fail after `limit` presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if wanted(focus):
            focus["presses"] = presses
            return focus
    raise AssertionError(f"no matching element within {limit} Tab presses; last focus {focus}")


def test_table_of_contents_works_from_the_keyboard(server, browser):
    context = local_context(browser, server)
    page = context.new_page()
    page.goto(server + "chapters/02-backprop/backprop.html", wait_until="networkidle")

    # a chapter link of the sidebar is reached from the top of the page, and the focus shows
    link = tab_until(page, other_chapter_link, limit=40)
    assert link["outline"] or link["shadow"], f"no visible focus on the table of contents link {link}"

    # a collapsed chapter opens with Enter, and its pages become reachable
    toggle = tab_until(page, lambda f: f["in_toc"] and f["tag"] == "summary" and f["open"] is False)
    assert toggle["outline"] or toggle["shadow"], f"no visible focus on the section toggle {toggle}"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.parentElement.open"), "Enter did not expand the section"
    inner = page.evaluate("document.activeElement.parentElement.querySelector('ul a').href")
    assert page.evaluate("document.activeElement.parentElement.querySelector('ul a').offsetParent !== null")
    assert tab_until(page, lambda f: f["href"] == inner, limit=3)["in_toc"]

    # Enter on a chapter link opens that chapter
    page.goto(server + "chapters/02-backprop/backprop.html", wait_until="networkidle")
    link = tab_until(page, other_chapter_link, limit=40)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.split("#")[0] == link["href"].split("#")[0]
    context.close()


# ------------------------------------------------------------------ search

# What the page header shows and a page's own text does not (a page may well say "exercises.ipynb").
HEADER_WORDS = ("Contents", "Print to PDF", "Binder", "Colab", "Repository", "Open issue", "Fullscreen")


def search(server, browser, query: str) -> list[dict]:
    context = local_context(browser, server)
    page = context.new_page()
    page.goto(server + f"search.html?q={query}", wait_until="networkidle")
    page.wait_for_selector("#search-results ul.search li", timeout=15000)
    # every result is shown (and its page fetched for the snippet) before the summary says so
    page.wait_for_function("() => (document.querySelector('#search-results p.search-summary') || {})"
                           ".textContent?.includes('Search finished')", timeout=30000)
    hits = page.eval_on_selector_all("#search-results ul.search li", """els => els.map(li => ({
        href: li.querySelector('a').href,
        snippet: (li.querySelector('p.context') || {}).textContent || ''}))""")
    context.close()
    return hits


def test_search_finds_momentum_and_quotes_the_page(book, server, browser):
    hits = search(server, browser, "momentum")
    assert len(hits) >= 3
    for hit in hits:            # a hit on a term or a heading quotes that element alone
        leaked = [w for w in HEADER_WORDS if w in hit["snippet"]]
        assert not leaked, f"the snippet of {hit['href']} quotes the page header {leaked}: {hit['snippet']!r}"
    pages = [h for h in hits if "#" not in h["href"] and h["snippet"]]
    assert pages, hits
    first = pages[0]                # a hit on a whole page quotes the text around the word
    assert "momentum" in first["snippet"].lower(), first
    # and it is the page's own text: a run of its words appears in the page's source
    source = html.unescape((book / re.split(r"[?#]", first["href"].split("/", 3)[3])[0]).read_text())
    words = re.sub(r"\s+", " ", first["snippet"].strip(". ")).split(" ")
    assert len(words) > 15
    assert " ".join(words[3:9]) in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", source)), first


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

r"""Render TeX to HTML and MathML when the site is built, with the vendored KaTeX.

KaTeX is JavaScript; `mini_racer` runs it in an embedded V8, in this process, so a page ships
finished math: no script, no CDN, no flash of raw TeX while it loads.

Math is found in the HTML that `pymdownx.arithmatex` (generic mode) leaves:
`<span class="arithmatex">\(…\)</span>` and `<div class="arithmatex">\[…\]</div>`.
Working on HTML rather than Markdown covers the chapter notes, the Markdown pages and the API
reference that mkdocstrings renders from docstrings alike.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path

# The project's copy of KaTeX (the plugin's `katex` option, under docs_dir); its CSS and fonts
# are served with the site, its script only runs here.
KATEX_JS: list[Path] = []

# What arithmatex (generic mode) writes: the TeX is HTML-escaped between \( \) or \[ \].
_MATH = re.compile(r'<(span|div) class="arithmatex">\\([(\[])(.*?)\\[)\]]</\1>', re.S)

# Called in V8. It returns JSON text, [html, null] or [null, error message]: a string, because a
# JS object handed back to Python keeps V8 alive at exit (mini-racer 0.14), and the message
# rather than the thrown error, whose stack trace quotes all of katex.min.js.
_RENDER = """
function renderTeX(tex, display) {
  try {
    return JSON.stringify([katex.renderToString(tex, {displayMode: display, output: "htmlAndMathml",
                                                      throwOnError: true, strict: "ignore"}), null]);
  } catch (e) {
    return JSON.stringify([null, String(e.message)]);
  }
}
"""


class MathError(ValueError):
    """KaTeX could not parse a formula."""


@functools.cache
def _context():
    """One V8 context for the whole build: loading KaTeX takes ~0.2 s, a formula ~1 ms."""
    from py_mini_racer import MiniRacer

    if not KATEX_JS:  # outside a build (the tests): the project's default place
        from . import project

        KATEX_JS.append(project.current().docs_dir / "assets" / "katex" / "katex.min.js")
    context = MiniRacer()
    context.eval(KATEX_JS[0].read_text(encoding="utf-8"))
    context.eval(_RENDER)
    return context


@functools.cache
def render(tex: str, display: bool = False) -> str:
    """KaTeX's HTML+MathML for one formula. Raises `MathError` on a TeX error."""
    result, error = json.loads(_context().call("renderTeX", tex, display))
    if error is not None:
        raise MathError(f"{error} in {'$$' if display else '$'}{tex}{'$$' if display else '$'}")
    return result


def render_math(page_html: str) -> str:
    """Replace every arithmatex math element in `page_html` with rendered KaTeX."""

    def replace(match: re.Match) -> str:
        display = match.group(2) == "["
        tex = html.unescape(match.group(3)).strip()
        rendered = render(tex, display)
        return f'<div class="arithmatex">{rendered}</div>' if display else rendered

    return _MATH.sub(replace, page_html)

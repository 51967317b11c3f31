"""axe-core, the standard WCAG rules engine, on every page of every edition, in both palettes,
stacked (390 px) and side by side (1280 px): no serious or critical violation.

axe-core comes bundled in `axe-playwright-python`; it runs inside the page, so nothing is
fetched. Per page, loaded once: at 390 px (where wide tables and equations scroll) every rule
but colour contrast, and `link-in-text-block` (which depends on colour) in the dark palette too;
then at 1280 px colour contrast in the light and in the dark palette.

axe's time grows with the number of elements, and a chapter has thousands of code tokens,
table cells and math symbols. A token's colour depends only on its class, so all but the first
token of each class become plain text of their line, before any check. Colour contrast depends
only on how an element looks (text colour, size and weight, the backgrounds behind it), so
before it KaTeX's HTML drawing of the math is removed (its MathML stays; it takes the colour of
the text around it), and of the elements that look the same (same tag and class too, to be
safe) only the first stays visible to the check.
Moderate and minor findings are printed (`pytest -rP`), not failed.
"""

from collections import Counter

import pytest
from axe_playwright_python.sync_playwright import Axe

import site_fixtures
from test_browser import base_url, browser, new_page, outside  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FAILING = ("serious", "critical")
EDITIONS = ["", "ja/", "zh/"]

# Violations that only Material for MkDocs can fix: rule id -> why, and the upstream report.
# None today: the search dialog's missing name (aria-dialog-name) is set by
# docs/overrides/main.html, and scrolling tables get a tab stop there too.
MATERIAL_EXCEPTIONS: dict[str, str] = {}

AXE = Axe().axe_script


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Every page of the built site, as a path under the site root ("", "blocks/", "ja/blocks/", …)."""
    site = site_fixtures.build_site(tmp_path_factory)
    assert site.returncode == 0, site.log
    found = sorted(str(index.parent.relative_to(site.path)) + "/" for index in site.path.rglob("index.html"))
    return ["" if page == "./" else page for page in found]


# Material fades colours over 125-250 ms; the palette switches here must take effect at once.
_NO_TRANSITIONS = """() => {
  const style = document.createElement('style');
  style.textContent = '*, *::before, *::after { transition: none !important; }';
  document.head.append(style);
}"""

# First, all but the first code token of each class become plain text of their line (a token is
# a <span> with a class and nothing else: no rule but colour contrast looks at it).
_FEWER_TOKENS = """() => {
  const seen = new Set();
  for (const token of document.querySelectorAll('.lit-code .lit-line span[class]')) {
    if (seen.has(token.className)) token.replaceWith(...token.childNodes);
    seen.add(token.className);
  }
}"""

# Hides from the colour check every element with text whose look was seen already on the page,
# in the current palette. Returns how many elements it kept.
_ONE_PER_LOOK = """() => {
  for (const el of document.querySelectorAll('[data-axe-look]')) el.style.removeProperty('visibility');
  const texts = [...document.body.querySelectorAll('*')].filter(el =>
    [...el.childNodes].some(node => node.nodeType === Node.TEXT_NODE && node.data.trim())
    && getComputedStyle(el).visibility !== 'hidden');
  const looks = texts.map(el => {
    const style = getComputedStyle(el);
    const look = [el.tagName, el.className, style.color, style.fontSize, style.fontWeight, style.textShadow];
    for (let e = el; e; e = e.parentElement) {  // opacity, and backgrounds up to the first opaque one
      const s = getComputedStyle(e);
      look.push(s.opacity, s.backgroundImage);
      if (s.backgroundColor !== 'rgba(0, 0, 0, 0)') {
        look.push(s.backgroundColor);
        if (!s.backgroundColor.startsWith('rgba')) break;
      }
    }
    return look.join('|');
  });
  const seen = new Set();
  texts.forEach((el, i) => {
    el.dataset.axeLook = '';
    el.style.setProperty('visibility', seen.has(looks[i]) ? 'hidden' : 'visible', 'important');
    seen.add(looks[i]);
  });
  return seen.size;
}"""

def run_axe(page, options: dict) -> list[dict]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate("options => axe.run(document, options)",
                         {"resultTypes": ["violations"], **options})["violations"]


def describe(where: str, violation: dict) -> str:
    node = violation["nodes"][0]
    summary = " ".join(node.get("failureSummary", "").split())[:240]
    return (f"{where}: {violation['id']} ({violation['impact']}) on {len(violation['nodes'])} nodes, "
            f"e.g. {node['target']} {node['html'][:120]!r}: {summary}")


@pytest.mark.parametrize("edition", EDITIONS, ids=["en", "ja", "zh"])
def test_no_serious_violations(new_page, base_url, pages, edition):  # noqa: F811
    mine = [path for path in pages if path.startswith(edition)
            and (edition or not path.startswith(tuple(e for e in EDITIONS if e)))]
    assert len(mine) > 10, mine
    failures, notes = [], Counter()

    def check(where: str, violations: list[dict]) -> None:
        for violation in violations:
            if violation["impact"] in FAILING and violation["id"] not in MATERIAL_EXCEPTIONS:
                failures.append(describe(where, violation))
            else:
                notes[f"{violation['id']} ({violation['impact']}) {where.split(' ')[0]}"] += len(violation["nodes"])

    page = new_page(390)
    page.route("**/workers/search.*", lambda route: route.abort())  # search is not under test: no index to build
    for path in mine:
        page.set_viewport_size({"width": 390, "height": 900})
        page.goto(base_url + path)
        page.evaluate("document.fonts.ready.then(() => new Promise(requestAnimationFrame))")
        page.evaluate(_NO_TRANSITIONS)
        page.evaluate(_FEWER_TOKENS)
        check(f"/{path} light 390px", run_axe(page, {"rules": {"color-contrast": {"enabled": False}}}))
        page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")  # as the toggle does
        check(f"/{path} dark 390px", run_axe(page, {"runOnly": ["link-in-text-block"]}))

        page.set_viewport_size({"width": 1280, "height": 900})
        page.evaluate("document.querySelectorAll('.katex-html').forEach(drawing => drawing.remove())")
        for palette, scheme in [("dark", "slate"), ("light", "default")]:
            page.evaluate("scheme => document.body.setAttribute('data-md-color-scheme', scheme)", scheme)
            assert page.evaluate(_ONE_PER_LOOK) > 10, path
            check(f"/{path} {palette} 1280px", run_axe(page, {"runOnly": ["color-contrast"]}))

    for note, count in sorted(notes.items()):
        print(f"not failed: {note}: {count} nodes")
    assert not failures, "\n".join(failures)

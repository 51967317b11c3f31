r"""A chapter's page: Markdown that MkDocs renders, with each section's notes beside its code.

Notes stay Markdown (inside `<div markdown>`, Python-Markdown's md_in_html), so MkDocs'
table of contents, search and math see them like any other page. Code is highlighted here,
line by line, so each line can carry its own source line number.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from typing import Callable

from .splitter import Section, split_file, translate_code_comments


# The words the page itself adds around the notes and code; `render_page` takes them translated.
LABELS = {"source": "Source", "permalink": "Link to this section", "lines": "These lines in the repository",
          "runnable": "copy runnable", "runnable_title": "Copy {name} with everything it uses, to run as pasted",
          "reading": "{minutes} min read", "colon": ": "}


def render_page(path: str | Path, rel_path: str, repo_url: str,
                translate: Callable[[str], str] = lambda notes: notes, branch: str = "main",
                labels: dict[str, str] = LABELS, deferred: dict[str, str] | None = None,
                runnable: dict[str, str] | None = None, comments: Callable[[str], str | None] | None = None) -> str:
    """The Markdown page for the Python file at `path`.

    * `rel_path` is the file's path in the repository, for links to it;
    * `translate` maps each section's English notes (and the title and description) to the
      page's language: a gettext catalog's `gettext` for a translated site;
    * `labels` are the page's own words (`LABELS`), in the page's language;
    * `deferred`: if given, each code block goes into the page as plain text, and its highlighted
      lines into `deferred`, for `restore_code` to put back in the finished HTML. Markdown and the
      search index then read one text per block instead of thousands of `<span>`s, which is most
      of what a chapter costs to build; the page the reader gets is the same;
    * `runnable`: section anchor -> the URL of a file with its runnable copy (the definition and
      all it uses), offered as a "copy runnable" link beside the section's code;
    * `comments` maps each comment that stays in the code (`splitter.code_comments`) to the
      page's language (`translate.comment_translator`), or to None to keep it.
    """
    module = split_file(path)
    if comments is not None:  # the comments in the code, in the page's language
        module = translate_code_comments(module, comments)
    highlighted = _highlight(tuple(module.lines))
    blob = f"{repo_url.rstrip('/')}/blob/{branch}/{rel_path}"
    # (`translate` never sees an empty string: gettext's translation of "" is the catalog header.)
    title, description = (translate(module.meta[key]) if module.meta.get(key) else ""
                          for key in ("title", "description"))
    front = {"title": title or rel_path, "description": description,
             "hide": ["toc"]}  # the sections are the page's structure; the width goes to the code
    out = ["---", *(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()
                    if value), "---", "",
           f'<p class="lit-source">{html.escape(labels["source"] + labels["colon"])}<a href="{html.escape(blob)}"><code>{html.escape(rel_path)}</code></a></p>',
           ""]
    for section in module.sections:
        out.append(_render_section(section, translate(section.notes) if section.notes else "",
                                   highlighted, blob, labels, deferred, (runnable or {}).get(section.anchor)))
    return "\n".join(out) + "\n"


def _render_section(section: Section, notes: str, highlighted: list[str], blob: str,
                    labels: dict[str, str] = LABELS, deferred: dict[str, str] | None = None,
                runnable: dict[str, str] | None = None) -> str:
    """One section: its notes, its links, then its code if it has any.

    Material gives the code's `<div class="highlight">` a copy button, which copies exactly that
    block. literate.css places the button in a gutter beside the code and the links between
    notes and code, so that neither ever covers code or notes.
    """
    anchor = html.escape(section.anchor)
    permalink = (f'<a class="lit-permalink" href="#{anchor}" title="{html.escape(labels["permalink"])}" '
                 f'aria-label="{html.escape(labels["permalink"])}">#</a>')
    notes_div = f'<div class="lit-notes" markdown>\n\n{notes}\n\n</div>\n'
    if not section.code:  # notes only
        return (f'<div class="lit-section lit-notes-only" id="{anchor}" markdown>\n{notes_div}'
                f'<div class="lit-links" data-search-exclude>{permalink}</div>\n</div>\n')
    # The link covers the notes too: on GitHub the comments are part of the story.
    first, last = section.first_line, section.code_lines[-1]
    span = f"L{first}" if first == last else f"L{first}–{last}"
    lines_link = (f'<a class="lit-lines" href="{html.escape(blob)}#L{first}-L{last}" '
                  f'title="{html.escape(labels["lines"])}">{span}</a>')
    if runnable:  # docs/assets/literate.js copies the file on a click; without script, it downloads
        # Its name for screen readers starts with the words on screen and names the definition
        title = html.escape(labels["runnable_title"].format(name=section.anchor))
        name = html.escape(f'{labels["runnable"]}: {section.anchor}')
        lines_link = (f'<a class="lit-runnable" href="{html.escape(runnable)}" download title="{title}" '
                      f'aria-label="{name}">{html.escape(labels["runnable"])}</a>') + lines_link
    # One span per line; CSS draws `data-line` before it, so numbers are shown but never copied.
    code = "\n".join(f'<span class="lit-line" data-line="{number}">{highlighted[number - 1]}</span>'
                     for number in section.code_lines)
    if deferred is not None:
        plain = html.escape(section.code, quote=False)
        deferred[_code_key(section.code_lines[0], plain)] = code
        code = plain
    return (f'<div class="lit-section" id="{anchor}" markdown>\n{notes_div}'
            f'<div class="lit-links" data-search-exclude>{permalink}{lines_link}</div>\n'
            # Material names a code block after the nearest id for its copy button, and uses it
            # in a CSS selector, where the dots of `Block.forward` would break it: give the <pre>
            # a plain id of its own.
            f'<div class="lit-code"><div class="highlight"><pre id="L{section.code_lines[0]}"><code>{code}</code></pre></div></div>\n'
            f'</div>\n')


@functools.lru_cache(maxsize=64)
def _highlight(lines: tuple[str, ...]) -> list[str]:
    """HTML for each source line, highlighted as part of the whole file (strings span lines).
    Kept per file text: every edition's page shows the same code."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    text = "".join(line.rstrip("\r\n") + "\n" for line in lines)
    # nowrap: no <pre> around it; the formatter closes and reopens spans at each newline.
    out = highlight(text, PythonLexer(stripnl=False, ensurenl=True), HtmlFormatter(nowrap=True))
    # Whitespace needs no span of its own: dropping them makes pages a tenth smaller.
    out = re.sub(r'<span class="w">(\s*)</span>', r"\1", out)
    result = out.split("\n")
    if len(result) < len(lines):  # never expected; plain text beats misnumbered lines
        result = [html.escape(line.rstrip("\r\n")) for line in lines]
    return result


# A code block of a page built with `deferred`: its <pre> as Markdown leaves it, plain text inside.
# (Markdown may put line breaks between the <div>s around it.)
_PLAIN_CODE = re.compile(r'(<pre id="L(\d+)"><code>)(.*?)(</code></pre>)', re.S)


def _code_key(first_line: int, plain: str) -> str:
    return f"{first_line}:{plain}"


def restore_code(page_html: str, deferred: dict[str, str]) -> str:
    """`page_html` with each plain code block of `render_page(..., deferred=…)` highlighted again."""
    def replace(match: re.Match) -> str:
        code = deferred.get(_code_key(int(match.group(2)), match.group(3)))
        return match.group(0) if code is None else match.group(1) + code + match.group(4)

    return _PLAIN_CODE.sub(replace, page_html)

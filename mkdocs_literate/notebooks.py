r"""Every chapter as a Jupyter notebook, made from the same sections as its page.

`plugin.LiteratePlugin.on_files` calls `chapter_notebook` for each chapter and edition and publishes the
result next to the page (`residual.ipynb`, `ja/residual.ipynb`, …), linked from the page by
`add_download_link`. The notebook follows the page:

* the notes of a section become a Markdown cell (math as `$…$`, which Jupyter renders), and its
  code a code cell, character for character;
* a cell must hold whole statements, so a class or function whose page splits it into several
  sections (a comment on every few lines of `forward`) is one code cell: the notes of its first
  section come before it as Markdown, the notes inside it come back as `#` comments where the
  source had them (in the edition's language);
* `<!-- md: … -->` lines become the Markdown the page shows (the `expand` the caller passes:
  the site's own directive code, which calls registered writers only); `<!-- figure: NAME -->`
  lines become the SVG, attached to the cell, with its words in the edition's language;
* links to other pages (`pitfalls.md#…`) point at the published site, in the same edition;
* a chapter's `if __name__ == "__main__":` block is left out: in a kernel `__name__` is
  `"__main__"` too, and the block would run the command line. `DEMOS` puts cells in its place
  instead (the experiment trains one short run on synthetic data).

Nothing here runs the code it reads: the file is split by `splitter.split_file` (`tokenize` and
`ast`) and the notebook is written as JSON. Only the tests execute notebooks
(`tests/test_notebooks.py`, with nbclient), and only the repository's own. The build needs no
Jupyter package; the tests validate every notebook with nbformat.

The experiment's appendix (`experiments/*.md`) gets no notebooks: it is the experiment's
plumbing, which the experiment's notebook imports from the package, and some of it reads files
next to the module (`__file__`), which a notebook doesn't have.
"""

from __future__ import annotations

import ast
import base64
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .splitter import Section, split_file, translate_code_comments
from .translate import join_cjk_lines, translate_figure

DEFAULT_LANGUAGE = "en"  # the edition at the site's root; the others are at /<lang>/

# The words the notebooks and their links add, per edition.
WORDS = {
    "en": {
        "download": "Download this chapter as a Jupyter notebook",
        "made_from": "A notebook of [this page]({page}) of labml_resnet, made from [`{source}`]({blob}): the notes "
                     "are Markdown cells, the code is code cells. Run it top to bottom with the package installed "
                     "(`pip install -e .` in a clone of the repository); a CPU is enough.",
    },
    "ja": {
        "download": "この章を Jupyter ノートブックでダウンロード",
        "made_from": "labml_resnet の[このページ]({page})を [`{source}`]({blob}) から作ったノートブックである。"
                     "注釈は Markdown セル、コードはコードセルになっている。パッケージをインストールした環境"
                     "（リポジトリを clone して `pip install -e .`）で、上から順に実行すること。CPU で足りる。",
    },
    "zh": {
        "download": "下载本章的 Jupyter 笔记本",
        "made_from": "这是 labml_resnet 中[这一页]({page})的笔记本版本，由 [`{source}`]({blob}) 生成："
                     "注释是 Markdown 单元格，代码是代码单元格。请在装好本软件包的环境中"
                     "（在克隆下来的代码仓库里运行 `pip install -e .`）从上到下依次运行；有 CPU 就够了。",
    },
}


# ---------------------------------------------------------------------------------------------
# Cells that take the place of a chapter's `if __name__ == "__main__":` block, per source file:
# (Markdown per edition, code). The experiment trains one short run, in seconds on a CPU, on
# synthetic data in CIFAR-10's layout (the layout `labml_resnet/experiments/cifar10.py` reads).

_EXPERIMENT_DEMO_NOTES = {
    "en": """## A short run in this notebook

As a script, this file ends with `if __name__ == "__main__": main()`, which reads the command
line; in a notebook, call `main` with the flags instead. The cell below writes a small synthetic
data set in CIFAR-10's layout to a temporary folder (300 training and 100 test images, each
class a colour with noise, so that a network learns it in a few steps) and trains ResNet-20 on
it for two epochs on the CPU, in batches of 32. Without `--data-dir` and `--no-download`, `main` downloads the
real CIFAR-10 into `./data`; `main(["--preset", "quick"])` then trains the quick recipe above.""",
    "ja": """## このノートブックでの短い実行

スクリプトとしてのこのファイルは `if __name__ == "__main__": main()` で終わり、そこでコマンドラインを読む。\
ノートブックでは、代わりにフラグを渡して `main` を呼ぶ。次のセルは、CIFAR-10 と同じ形式の小さな合成データセット\
（訓練画像 300 枚とテスト画像 100 枚。各クラスは 1 つの色にノイズを加えたもので、ネットワークは数ステップで\
学習できる）を一時フォルダに書き出し、それを使って ResNet-20 を CPU 上で、バッチサイズ 32 で 2 エポック訓練する。\
`--data-dir` と `--no-download` を付けなければ、`main` は本物の CIFAR-10 を `./data` にダウンロードする。\
そのうえで `main(["--preset", "quick"])` とすれば、上の短時間レシピ（quick）で訓練できる。""",
    "zh": """## 在本笔记本中做一次短训练

作为脚本，这个文件以 `if __name__ == "__main__": main()` 结尾，由它读取命令行；在笔记本中，则改为把命令行选项直接传给
`main`。下面的单元格先把一个与 CIFAR-10 格式相同的小型合成数据集写入临时目录（300 张训练图像和 100 张测试图像；每个类别是一种颜色加上噪声，网络几步就能学会），再用它在 CPU 上以 32 的批量大小训练 ResNet-20 两轮。不加 `--data-dir` 和 `--no-download`
时，`main` 会把真正的 CIFAR-10 下载到 `./data`；这时再运行 `main(["--preset", "quick"])`，就会按上文的轻量训练方案（quick）进行训练。""",
}

_EXPERIMENT_DEMO_CODE = '''import pickle
import tempfile

# CIFAR-10's python version in miniature: five training batches, a test batch and batches.meta,
# pickled dicts with `uint8` `data` [N, 3072] (red, green, blue planes) and `labels` 0…9
data_dir = Path(tempfile.mkdtemp())
folder = data_dir / "cifar-10-batches-py"
folder.mkdir()
rng = np.random.default_rng(0)
palette = rng.integers(30, 226, size=(10, 3))  # one colour per class


def synthetic_batch(n: int, name: str) -> dict:
    labels = rng.integers(0, 10, size=n)
    images = palette[labels][:, :, None] + rng.integers(-30, 31, size=(n, 3, 1024))  # [n, 3, 1024]
    return {b"batch_label": name.encode(), b"labels": labels.tolist(),
            b"data": images.clip(0, 255).astype(np.uint8).reshape(n, 3072),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(n)]}


for name, n in [("data_batch_1", 60), ("data_batch_2", 60), ("data_batch_3", 60), ("data_batch_4", 60),
                ("data_batch_5", 60), ("test_batch", 100)]:
    with open(folder / name, "wb") as f:
        pickle.dump(synthetic_batch(n, name), f, protocol=2)
with open(folder / "batches.meta", "wb") as f:
    pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)], b"num_cases_per_batch": 60,
                 b"num_vis": 3072}, f, protocol=2)

# Two epochs of ResNet-20 on the CPU, in batches of 32; the run folder goes to the temporary folder too
main(["--data-dir", str(data_dir), "--no-download", "--epochs", "2", "--batch-size", "32", "--lr", "0.05",
      "--device", "cpu", "--out", str(data_dir / "runs")])'''

DEMOS = {"experiment.py": (_EXPERIMENT_DEMO_NOTES, _EXPERIMENT_DEMO_CODE)}


def has_notebook(page: str) -> bool:
    """Whether the chapter page (`residual.md`, `experiments/cifar10.md`, …) gets a notebook: not
    the pages under `no_notebooks` (the plugin's option; here the experiment's appendix)."""
    from . import project

    return not any(page.startswith(prefix) for prefix in project.current().no_notebooks)


def notebook_name(page: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The notebook's path among the site's files: `residual.ipynb`, or `residual.ja.ipynb`, which
    mkdocs-static-i18n publishes as `ja/residual.ipynb` (like a translated page)."""
    suffix = "" if lang == DEFAULT_LANGUAGE else f".{lang}"
    return page.removesuffix(".md") + f"{suffix}.ipynb"


# ---------------------------------------------------------------------------------------------
# The notebook


@dataclass
class _Cell:
    kind: str  # "markdown" or "code"
    source: str
    line: int  # the source line where it starts, for ordering
    name: str  # the section anchor, for a readable cell id
    attachments: dict = field(default_factory=dict)


def chapter_notebook(path: str | Path, rel_path: str, page: str, *, site_url: str, repo_url: str,
                     figures: Path, lang: str = DEFAULT_LANGUAGE,
                     translate: Callable[[str], str] = lambda notes: notes,
                     expand: Callable[[str], str] = lambda markdown: markdown, branch: str = "main",
                     comments: Callable[[str], str | None] | None = None) -> dict:
    """The notebook (nbformat 4.5, as a dict) of the chapter at `path`.

    * `rel_path` is the file's path in the repository, `page` its page among the site's files
      (`residual.md`), for the links back;
    * `translate` maps each section's English notes to `lang` (`translate.translator`), and
      `comments` the comments that stay in the code (`translate.comment_translator`);
    * `expand` replaces `<!-- md: … -->` lines with Markdown (the site's `expand_directives`);
    * `figures` is the folder of `<!-- figure: NAME -->`'s `NAME.svg`.
    """
    module = split_file(path)
    if comments is not None:  # the comments in the code, in the edition's language
        module = translate_code_comments(module, comments)
    text = "".join(line.rstrip("\r\n") + "\n" for line in module.lines)
    tree = ast.parse(text)
    statements = [(min([n.lineno for n in getattr(s, "decorator_list", [])] + [s.lineno]), s.end_lineno)
                  for s in tree.body]
    main_blocks = [(s.lineno, s.end_lineno) for s in tree.body if is_main_block(s)]
    empty_bodies = _docstring_only_bodies(tree)
    edition = _Edition(lang, page, site_url, translate, expand, figures, where=rel_path)

    cells: list[_Cell] = []
    for group in _groups(module.sections, statements):
        first = group[0]
        notes = edition.notes(first.notes) if first.notes else ""
        if notes:
            markdown, attachments = edition.markdown(notes)
            cells.append(_Cell("markdown", markdown, first.first_line, first.anchor, attachments))
        code = _group_code(group, module.lines, edition, main_blocks, empty_bodies)
        if code.strip():
            cells.append(_Cell("code", code, first.code_lines[0] if first.code_lines else first.first_line,
                               first.anchor))

    # What takes the place of the `__main__` block (nothing, for most chapters)
    if main_blocks and rel_path in DEMOS:
        demo_notes, demo_code = DEMOS[rel_path]
        line = main_blocks[0][0]
        notes = demo_notes.get(lang, demo_notes[DEFAULT_LANGUAGE])
        if lang in ("ja", "zh"):  # a line break between CJK text would show as a space
            notes = join_cjk_lines(notes)
        cells.append(_Cell("markdown", notes, line, "demo"))
        cells.append(_Cell("code", demo_code, line, "demo"))
    cells.sort(key=lambda cell: cell.line)  # stable: a group's notes stay before its code

    # A line under the title: where the notebook comes from, and what it needs
    words = WORDS.get(lang, WORDS[DEFAULT_LANGUAGE])
    made_from = words["made_from"].format(page=edition.page_url(page), source=rel_path,
                                          blob=f"{repo_url.rstrip('/')}/blob/{branch}/{rel_path}")
    if cells and cells[0].kind == "markdown":
        cells[0].source = _after_title(cells[0].source, made_from)
    else:
        cells.insert(0, _Cell("markdown", made_from, 0, "made-from"))

    return {
        "cells": [_cell_json(cell, cell_id) for cell, cell_id in zip(cells, _cell_ids(cells))],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
            "labml_resnet": {"source": rel_path, "page": edition.page_url(page), "language": lang},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def dumps(notebook: dict) -> str:
    """The notebook as a file, formatted the way Jupyter writes one."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def add_download_link(markdown: str, page: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The chapter page's Markdown (`page.render_page`'s) with a link to its notebook on the
    line after the page's `# Title`. The link names the untranslated file (`residual.ipynb`);
    in a translated edition, mkdocs-static-i18n resolves it to that edition's notebook."""
    target = posixpath.basename(notebook_name(page))
    words = WORDS.get(lang, WORDS[DEFAULT_LANGUAGE])
    link = f'[{words["download"]}]({target}){{ .lit-notebook download="{target}" }}'
    return _after_title(markdown, link)


def _after_title(markdown: str, line: str) -> str:
    """`markdown` with `line` as a paragraph after its first `# ` heading; without one, at the top
    (after the front matter, if any)."""
    match = re.search(r"^# .*$", markdown, re.M) or re.match(r"---\n.*?\n---$", markdown, re.M | re.S)
    if match is None:
        return f"{line}\n\n{markdown}"
    rest = markdown[match.end():].lstrip("\n")
    return f"{markdown[:match.end()]}\n\n{line}\n\n{rest}"


# ---------------------------------------------------------------------------------------------
# Sections into cells


def _groups(sections: list[Section], statements: list[tuple[int, int]]) -> list[list[Section]]:
    """The sections in runs that hold whole top-level statements: a new run may start only where
    no statement is open (not inside a class, a function, a bracket)."""
    def inside(line: int) -> bool:
        return any(start < line <= end for start, end in statements)

    groups: list[list[Section]] = []
    for section in sections:
        if groups and inside(section.first_line):
            groups[-1].append(section)
        else:
            groups.append([section])
    return groups


def _group_code(group: list[Section], lines: list[str], edition: "_Edition",
                main_blocks: list[tuple[int, int]], empty_bodies: dict[int, str]) -> str:
    """The code of a run of sections as one cell: the code lines as they are, the notes of the
    sections after the first as `#` comments where they stood, the `__main__` block left out."""
    entries: list[tuple[int, str]] = []  # (source line, text), in source order
    for index, section in enumerate(group):
        if index and section.notes:
            indent = re.match(r"[ \t]*", lines[section.first_line - 1]).group()
            comment = edition.comment(edition.notes(section.notes))
            entries += [(section.first_line, f"{indent}#{' ' if text else ''}{text}".rstrip())
                        for text in comment.split("\n")]
        entries += [(number, lines[number - 1].rstrip("\r\n")) for number in section.code_lines
                    if not any(start <= number <= end for start, end in main_blocks)]
    # A def or class whose only statement was its docstring, now notes, needs a body
    first, last = group[0].first_line, group[-1].last_line
    code = {number for section in group for number in section.code_lines}
    entries += [(line, f"{indent}...") for line, indent in empty_bodies.items()
                if first <= line <= last and line not in code]
    entries.sort(key=lambda entry: entry[0])

    out: list[str] = []
    for i, (number, text) in enumerate(entries):
        # Keep one blank line where the source had blank lines between two sections
        if out and out[-1] != "" and number > entries[i - 1][0] + 1 and \
                any(not lines[n - 1].strip() for n in range(entries[i - 1][0] + 1, number)):
            out.append("")
        out.append(text)
    return "\n".join(out).strip("\n")


def is_main_block(statement: ast.stmt) -> bool:
    """`if __name__ == "__main__":`"""
    if not isinstance(statement, ast.If) or not isinstance(statement.test, ast.Compare):
        return False
    parts = [statement.test.left, *statement.test.comparators]
    return (len(parts) == 2 and isinstance(statement.test.ops[0], ast.Eq)
            and {ast.unparse(part) for part in parts} == {"__name__", "'__main__'"})


def _docstring_only_bodies(tree: ast.Module) -> dict[int, str]:
    """Docstring line -> its indentation, for each def or class whose body is only a docstring."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and len(node.body) == 1:
            body = node.body[0]
            if isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant) and isinstance(body.value.value, str):
                found[body.lineno] = " " * body.col_offset
    return found


def _cell_ids(cells: list[_Cell]) -> list[str]:
    """Ids that stay the same from build to build: the section's anchor, made unique."""
    seen: dict[str, int] = {}
    ids = []
    for cell in cells:
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{cell.name}-{'md' if cell.kind == 'markdown' else 'code'}")[:56]
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def _cell_json(cell: _Cell, cell_id: str) -> dict:
    source = cell.source.splitlines(keepends=True)
    if cell.kind == "markdown":
        out = {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}
        if cell.attachments:
            out["attachments"] = cell.attachments
        return out
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "execution_count": None, "outputs": [],
            "source": source}


# ---------------------------------------------------------------------------------------------
# Notes in one edition

_FALLBACK = re.compile(r'\A<div class="i18n-fallback"[^>]*>\n<p class="i18n-fallback-note"[^>]*>(?P<note>.*?)</p>\n\n'
                       r'(?P<notes>.*)\n\n</div>\Z', re.S)
_FIGURE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*figure:\s*(?P<name>[\w.-]+)\s*-->\s*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_BLOCK = re.compile(r'^(?P<indent>[ \t]*)(?P<marker>\?\?\?|!!!)(?P<open>\+)?[ \t]*(?P<type>[\w-]+)'
                    r'(?:[ \t]+"(?P<title>[^"]*)")?[ \t]*$')
# A Markdown link to another page of the site, or to a section of this one: `](pitfalls.md#x)`, `](#x)`
_SITE_LINK = re.compile(r"\]\((?P<path>[^()\s#:]*\.md)?(?P<anchor>#[^()\s]*)?\)")
_SVG_ROOT = re.compile(r"<svg\b[^>]*>")
_SVG_TITLE = re.compile(r"<title\b[^>]*>([^<]*)</title>")


def _details_as_html(markdown: str) -> str:
    """Material's collapsible blocks and admonitions (`??? success "Answer"`, `!!! note`, the body
    indented by four spaces), which Jupyter doesn't know, as HTML `<details>` and quotes."""
    lines, out, fence, i = markdown.split("\n"), [], None, 0
    while i < len(lines):
        line = lines[i]
        opening = _FENCE.match(line)
        if opening and (fence is None or opening.group(1) == fence):
            fence = opening.group(1) if fence is None else None
        block = _BLOCK.match(line) if fence is None else None
        if block is None:
            out.append(line)
            i += 1
            continue
        indent, body_indent = block.group("indent"), block.group("indent") + "    "
        body, i = [], i + 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith(body_indent)):
            body.append(lines[i][len(body_indent):] if lines[i].strip() else "")
            i += 1
        while body and not body[-1]:
            body.pop()
        while body and not body[0]:
            body.pop(0)
        title = block.group("title") or block.group("type").capitalize()
        if block.group("marker") == "!!!":  # an admonition: always shown, as a quote
            out += [f"{indent}> **{title}**", f"{indent}>", *(f"{indent}> {text}".rstrip() for text in body)]
        else:
            opened = " open" if block.group("open") else ""
            out += [f"{indent}<details{opened}><summary>{title}</summary>", "",
                    *(f"{indent}{text}" if text else "" for text in body), "", f"{indent}</details>"]
        if i < len(lines) and lines[i].strip():
            out.append("")
    return "\n".join(out)


@dataclass
class _Edition:
    lang: str
    page: str  # the chapter's page among the site's files, `blocks.md`
    site_url: str
    translate: Callable[[str], str]
    expand: Callable[[str], str]
    figures: Path
    where: str  # for error messages

    def notes(self, english: str) -> str:
        """A section's notes in this edition. A section that is not translated yet comes back in
        English under a line that says so (as on the page, without the page's HTML box)."""
        notes = self.translate(english)
        fallback = _FALLBACK.match(notes)
        return f"*{fallback.group('note')}*\n\n{fallback.group('notes')}" if fallback else notes

    def markdown(self, notes: str) -> tuple[str, dict]:
        """Notes as a Markdown cell: figures attached to it, `<!-- md: … -->` lines expanded, links
        pointing at the site, CJK line breaks joined as on the page."""
        out, attachments, fence = [], {}, None
        for line in notes.split("\n"):
            opening = _FENCE.match(line)
            if opening and (fence is None or opening.group(1) == fence):
                fence = opening.group(1) if fence is None else None
            figure = _FIGURE.match(line) if fence is None else None
            if figure:
                name = f"{figure.group('name')}.svg"
                svg = self.figure(figure.group("name"))
                title = _SVG_TITLE.search(svg)
                alt = title.group(1).strip() if title else figure.group("name")
                attachments[name] = {"image/svg+xml": base64.b64encode(svg.encode()).decode("ascii")}
                out.append(f"{figure.group('indent')}![{alt}](attachment:{name})")
            else:
                out.append(line)
        markdown = _SITE_LINK.sub(self._link, _details_as_html(self.expand("\n".join(out))))
        if self.lang in ("ja", "zh"):
            markdown = join_cjk_lines(markdown)
        return markdown, attachments

    def comment(self, notes: str) -> str:
        """Notes for `#` comments inside code: as in `markdown`, but a figure is a link to its file."""
        def figure(match: re.Match) -> str:
            return f"{match.group('indent')}({self.site_url.rstrip('/')}/figures/{match.group('name')}.svg)"
        notes = "\n".join(_FIGURE.sub(figure, line) for line in notes.split("\n"))
        return _SITE_LINK.sub(self._link, self.expand(notes))

    def figure(self, name: str) -> str:
        """`figures/NAME.svg` with its words in this edition, as a file of its own: the size of its
        view box, and a white background, since its `currentColor` is black outside a page."""
        path = self.figures / f"{name}.svg"
        if not path.is_file():
            raise ValueError(f"{self.where}: figure '{name}' not found: no {path}")
        svg = translate_figure(path.read_text(encoding="utf-8"), self.lang)
        root = _SVG_ROOT.search(svg)
        if root is None:
            raise ValueError(f"{self.where}: {path} has no <svg> element")
        tag = root.group(0)
        view_box = re.search(r'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"', tag)
        if view_box:
            tag = re.sub(r'\s(?:width|height)="[^"]*"', "", tag)
            tag = f'{tag[:-1].rstrip("/").rstrip()} width="{view_box.group(1)}" height="{view_box.group(2)}">'
        background = '<rect width="100%" height="100%" fill="#fff"/>'
        return svg[:root.start()] + tag + background + svg[root.end():]

    def page_url(self, page: str) -> str:
        """The published URL of a page of this edition (`pitfalls.md` -> `…/ja/pitfalls/`)."""
        path = page.removesuffix(".md")
        if path == "index" or path.endswith("/index"):
            path = path[:-len("index")]
        elif path and not path.endswith("/"):
            path += "/"
        prefix = "" if self.lang == DEFAULT_LANGUAGE else f"{self.lang}/"
        return f"{self.site_url.rstrip('/')}/{prefix}{path}"

    def _link(self, match: re.Match) -> str:
        path, anchor = match.group("path"), match.group("anchor") or ""
        if path is None and not anchor:
            return match.group(0)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.page), path)) if path else self.page
        return f"]({self.page_url(target)}{anchor})"

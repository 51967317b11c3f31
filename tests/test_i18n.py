"""The translations: complete, not stale, faithful to what must not change, true to the glossary.

The checks themselves live in `mkdocs_literate/catalogs.py` (`python -m mkdocs_literate check` runs the
same ones); these tests call them per language and test the machinery on small examples.
"""

import dataclasses
import re
import sys
from pathlib import Path

import polib
import pytest

from conftest import PROJECT, ROOT
from mkdocs_literate import catalogs, project, splitter, translate
from mkdocs_literate.page import LABELS, render_page


def use_project(monkeypatch, root, chapters=None, docs=None):
    """Point the engine at a small project in `root` (a folder of the test's own) for this test."""
    here = dataclasses.replace(PROJECT, root=root, docs_dir=docs or root / "docs", chapters=chapters or {})
    monkeypatch.setattr(project, "_current", here)
    return here

LANGS = [pytest.param(lang, marks=pytest.mark.xfail(reason=f"{lang} translation in progress", strict=False))
         if lang in catalogs.IN_PROGRESS else lang for lang in translate.LANGUAGES]


def entries(lang):
    """(domain, entry) for every live catalog entry of `lang`."""
    for domain in PROJECT.domains:
        path = translate.catalog_path(lang, domain)
        if path.exists():
            for entry in polib.pofile(str(path)):
                if not entry.obsolete:
                    yield domain, entry


# --- the real catalogs and pages ------------------------------------------------------------

# `check` runs every table writer once per test session (the tables catalog is their words)
@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_catalogs_complete_and_not_fuzzy(lang):
    problems = [p for p in catalogs.check([lang]) if ".po:" in p or "LC_MESSAGES" in p]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_pages_translated_from_current_english(lang):
    problems = [p for p in catalogs.check([lang]) if ".po" not in p]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("lang", list(translate.LANGUAGES))
def test_catalogs_cover_every_chapter(lang):
    """Every chapter has a catalog, and every section's notes are in it (extraction is up to date)."""
    for domain, rel_path in PROJECT.domains.items():
        assert translate.catalog_path(lang, domain).exists(), f"run `python -m mkdocs_literate extract`"
        ids = {e.msgid for d, e in entries(lang) if d == domain}
        missing = [m.anchors[0] for m in catalogs.messages(rel_path) if m.msgid not in ids]
        assert not missing, f"{domain}: sections not extracted: {missing}"


@pytest.mark.parametrize("lang", list(translate.LANGUAGES))
def test_translations_keep_math_code_links_and_directives(lang):
    """Whatever is translated so far keeps every `$…$`, `code`, link target and directive."""
    bad = []
    for domain, entry in entries(lang):
        if entry.msgstr:
            lost = catalogs.placeholders(entry.msgid) - catalogs.placeholders(entry.msgstr)
            if lost:
                bad.append(f"{domain}: {entry.msgid[:50]!r}: {sorted(lost)}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("lang", list(translate.LANGUAGES))
def test_glossary_terms_used_consistently(lang):
    """Translated text avoids the glossary's forbidden variants (残余, 残留, …) everywhere."""
    texts = [e.msgstr for _, e in entries(lang) if e.msgstr]
    texts += [p.read_text(encoding="utf-8") for p in PROJECT.docs_dir.glob(f"*.{lang}.md")]
    without_terms = []
    for text in texts:
        for term in catalogs.GLOSSARY:
            text = text.replace(getattr(term, lang), "")
        # A variant in quotation marks is mentioned, not used (the glossary: 步幅 is also called “步长”)
        without_terms.append(re.sub(r"“[^”]*”|「[^」]*」", "", text))
    for variant in catalogs.AVOID[lang]:
        assert not any(variant in text for text in without_terms), f"{variant!r} used in {lang}"


@pytest.mark.parametrize("lang", list(translate.LANGUAGES))
def test_no_space_beside_full_width_punctuation(lang):
    """No translation, finished or not, puts a space beside 、。：；，！？ ("。 ResNet", "`x` 、",
    "**修正。** 次"), once its lines are joined as the site joins them."""
    found = [f"{domain}: {snippet!r}" for domain, entry in entries(lang) if entry.msgstr
             for snippet in catalogs.stray_spaces(entry.msgstr)]
    found += [f"{page.name}: {snippet!r}" for page in PROJECT.docs_dir.glob(f"*.{lang}.md")
              for snippet in catalogs.stray_spaces(page.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


@pytest.mark.slow
@pytest.mark.parametrize("lang", list(translate.LANGUAGES))
def test_generated_tables_have_no_english_words(lang):
    """Every table a `<!-- md: … -->` line makes, translated as the site translates it, keeps
    only numbers, code, math and names in Latin letters (the glossary's English column aside)."""
    english = []
    for where, line, call, markdown in catalogs.generated_tables():
        if call.startswith("mkdocs_literate.glossary_markdown"):
            continue
        for row in translate.translate_tables(markdown, lang).split("\n"):
            if translate._TABLE_ROW.match(row) and not translate._TABLE_RULE.match(row):
                english += [f"{where}:{line}: {row[a:b]!r}" for a, b in translate._cell_spans(row)
                            if translate.has_words(translate.cell_template(row[a:b])[0])]
    assert not english, "\n".join(english)


def test_glossary_has_every_term_in_three_languages():
    table = catalogs.glossary_markdown()
    # The table read back as cells, not rebuilt with the writer's own f-string
    lines = table.strip().splitlines()
    assert lines[0] == "| English | 日本語 | 简体中文 |" and set(lines[1]) <= set("|-")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert rows == [[term.en, term.ja, term.zh] for term in catalogs.GLOSSARY]
    assert ["stride", "ストライド", "步幅"] in rows and ["shortcut connection", "ショートカット接続", "快捷连接"] in rows
    assert {t.en for t in catalogs.GLOSSARY} >= {
        "residual learning", "identity mapping", "shortcut connection", "projection shortcut",
        "zero-padding shortcut", "bottleneck block", "degradation problem", "pre-activation",
        "feature map", "stride", "downsampling", "global average pooling", "batch normalization"}
    assert (PROJECT.docs_dir / "glossary.md").read_text().count("<!-- md: mkdocs_literate.glossary_markdown() -->") == 1


# --- the machinery, on small examples --------------------------------------------------------

def test_placeholders_find_math_code_links_and_directives():
    text = ("A $1 \\times 1$ conv, `bias=False`, [paper](https://arxiv.org/abs/1512.03385).\n\n"
            "$$y = \\mathcal{F}(x) + x$$\n\n<!-- figure: residual-block -->\n\n"
            "```python\nx = 1  # a comment\n```\n")
    found = catalogs.placeholders(text)
    assert "$1 \\times 1$" in found and "`bias=False`" in found
    assert "](https://arxiv.org/abs/1512.03385" in found
    assert "$$y = \\mathcal{F}(x) + x$$" in found
    assert "<!-- figure: residual-block -->" in found
    assert "```python\nx = 1  # a comment\n```" in found


def test_problems_caught():
    english = "The **degradation problem**: see $x$ and `conv1` in [the paper](https://a.b/c)."
    good = "**劣化問題**：[論文](https://a.b/c)の $x$ と `conv1` を見よ。"
    assert catalogs.translation_problems("ja", english, good) == []
    assert any("conv1" in p for p in catalogs.translation_problems("ja", english, good.replace("`conv1`", "conv1")))
    assert any("$x$" in p for p in catalogs.translation_problems("ja", english, good.replace("$x$", "$ x $")))
    assert any("https://a.b/c" in p for p in catalogs.translation_problems("ja", english, good.replace("c)", "d)")))
    assert any("劣化問題" in p for p in catalogs.translation_problems("ja", english, good.replace("劣化問題", "退化")))
    assert any("残余" in p for p in catalogs.translation_problems("ja", "A residual block.", "残余ブロック。"))
    assert catalogs.translation_problems("ja", "Pre-activation.", "事前活性化。") == []


def test_extract_marks_changed_english_fuzzy_and_keeps_the_translation(tmp_path, monkeypatch):
    source = tmp_path / "chapter.py"
    source.write_text('r"""\n---\ntitle: T\n---\n# Title\n\nIntro text.\n"""\n\n'
                      '# Adds one\nx = 1\n\n# Removed later\ny = 2\n')
    use_project(monkeypatch, tmp_path, {"chapter.md": "chapter.py"})
    (tmp_path / "docs").mkdir()
    catalogs.extract(["ja"])
    path = translate.catalog_path("ja", "chapter")
    po = polib.pofile(str(path))
    assert [e.msgid for e in po] == ["T", "# Title\n\nIntro text.", "Adds one", "Removed later"]
    for entry, text in zip(po, ["題", "# 題\n\n導入。", "1 を足す", "後で消える"]):
        entry.msgstr = text
    po.save()
    assert catalogs.check(["ja"]) == []

    source.write_text(source.read_text().replace("Adds one", "Adds one to x").replace(
        "# Removed later\ny = 2\n", ""))
    stats = catalogs.extract(["ja"])["ja/chapter"]
    assert stats == {"fuzzy (English changed)": 1, "obsolete": 1}
    po = polib.pofile(str(path))
    changed = po.find("Adds one to x")
    assert changed.msgstr == "1 を足す" and "fuzzy" in changed.flags and changed.previous_msgid == "Adds one"
    assert po.find("Removed later", include_obsolete_entries=True).obsolete
    problems = catalogs.check(["ja"])
    assert len(problems) == 1 and "fuzzy" in problems[0]

    # The site shows the English of a fuzzy entry, with a note, and the translation of the rest.
    translator = translate.translator("ja", "chapter.py")
    assert translator("# Title\n\nIntro text.") == "# 題\n\n導入。"
    shown = translator("Adds one to x")
    assert "Adds one to x" in shown and translate.LANGUAGES["ja"][1] in shown and 'lang="en"' in shown
    assert translator("T") == "題"


def test_code_comments_are_catalog_entries_translated_line_for_line(tmp_path, monkeypatch):
    source = tmp_path / "chapter.py"
    source.write_text('# Adds one\nx = f(1,  # the first\n      # the second,\n      # on two lines\n      2)\n')
    use_project(monkeypatch, tmp_path, {"chapter.md": "chapter.py"})
    (tmp_path / "docs").mkdir()
    catalogs.extract(["ja"])
    path = translate.catalog_path("ja", "chapter")
    po = polib.pofile(str(path))
    assert [(e.msgid, e.comment) for e in po] == [
        ("Adds one", "section: x"), ("the first", "section: code comment in x"),
        ("the second,\non two lines", "section: code comment in x")]
    for entry, text in zip(po, ["1 を足す", "1 つ目", "2 つ目を1 行で"]):
        entry.msgstr = text
    po.save()
    assert ["as many lines as the English (2)" in p for p in catalogs.check(["ja"])] == [True]
    po.find("the second,\non two lines").msgstr = "2 つ目、\n2 行で"
    po.save()
    assert catalogs.check(["ja"]) == []
    comments = translate.comment_translator("ja", "chapter.py")
    page = render_page(source, "chapter.py", "https://github.com/o/r", comments=comments)
    assert "# 1 つ目" in page and "# 2 つ目、" in page and "# 2 行で" in page and "the first" not in page


def test_stale_page_is_reported(tmp_path, monkeypatch):
    use_project(monkeypatch, tmp_path, docs=tmp_path)
    english = tmp_path / "page.md"
    english.write_text("# Page\n\nText with `code`.\n")
    translated = tmp_path / "page.ja.md"
    translated.write_text(f"---\nsource_sha: {catalogs.source_sha(english)}\n---\n# ページ\n\n`code` のある文。\n")
    assert catalogs.page_problems(english, "ja") == []
    english.write_text("# Page\n\nText with `code`, changed.\n")
    assert any("older" in p for p in catalogs.page_problems(english, "ja"))


def test_japanese_pages_are_japanese():
    """Each Japanese page and catalog is written in Japanese, not left in English."""
    kana = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji
    for page in catalogs.english_pages():
        text = catalogs.translated_page(page, "ja").read_text(encoding="utf-8")
        english_words = re.findall(r"[A-Za-z]+", catalogs.prose(page.read_text(encoding="utf-8")))
        assert len(kana.findall(catalogs.prose(text))) >= min(50, len(english_words)), page.name


@pytest.mark.parametrize("lang", list(translate.LANGUAGES))
def test_chapter_pages_have_their_own_words_in_every_language(lang):
    """The words a chapter page adds ("Source", the links' titles) exist in every language."""
    assert set(translate.PAGE_LABELS[lang]) == set(LABELS)
    assert all(translate.PAGE_LABELS[lang].values())


def test_table_cells_become_msgids_with_numbers_and_names_as_slots():
    cases = {
        "3×3 conv, 64 → 128, /2": ("{0} conv, {1} → {2}, /{3}", ["3×3", "64", "128", "2"]),
        "pre-activation ResNet-110": ("pre-activation {0}", ["ResNet-110"]),
        "50 epochs (4,850 iterations)": ("{0} epochs ({1} iterations)", ["50", "4,850"]),
        "multiply-adds ×10⁶": ("multiply-adds ×{0}", ["10⁶"]),
        "0.27M; plain: 269,722": ("{0}M; plain: {1}", ["0.27", "269,722"]),
        "**+231,211,008**": ("**{0}**", ["+231,211,008"]),
        "2.37e+03": ("{0}", ["2.37e+03"]),
        # code and math stay in the msgid, with their digits
        "fully connected, `in_features=512`": ("fully connected, `in_features=512`", []),
        "$C \\cdot H'$ = 128·13": ("$C \\cdot H'$ = {0}·{1}", ["128", "13"]),
    }
    for cell, (template, values) in cases.items():
        assert translate.cell_template(cell) == (template, values), cell
        assert translate.fill_template(template, values) == cell
    assert translate.fill_template("{1} から {0}（$x_{0}$）", ["a", "b"]) == "b から a（$x_{0}$）"  # not inside math
    words = ["{0} conv, {1} → {2}", "pre-activation {0}", "**total**", "first / last", "JPEG copy of {0}"]
    no_words = ["{0}", "`conv1`", "{0} × {1} × {2}", "ReLU", "torchvision", "{0} MiB", "—", "NVIDIA {0}", ""]
    assert all(translate.has_words(t) for t in words) and not any(translate.has_words(t) for t in no_words)


def extract_tables_catalog(tmp_path, monkeypatch, call: str, markdown: str) -> polib.POFile:
    """The Japanese tables catalog that `extract` writes, in `tmp_path`, for a site whose one
    `<!-- md: … -->` line (`call`, docs/page.md:3) makes `markdown`."""
    use_project(monkeypatch, tmp_path)
    monkeypatch.setattr(catalogs, "generated_tables", lambda: [("docs/page.md", 3, call, markdown)])
    (tmp_path / "docs").mkdir()
    catalogs.extract(["ja"])
    return polib.pofile(str(translate.catalog_path("ja", "tables")))


def test_table_words_go_through_the_tables_catalog(tmp_path, monkeypatch):
    """`extract` collects the cells of every generated table; `check` fails while one is
    untranslated; the site then shows the table in Japanese, numbers, code and names as they are."""
    table = ("| layer | output | kind |\n|---|---:|---|\n| `conv1` | 64 × 56 × 56 | 7×7 conv, 3 → 64, /2 |\n"
             "| `fc` | 1000 | fully connected |\n| **total** | 11,689,512 | |")
    po = extract_tables_catalog(tmp_path, monkeypatch, "demo.table()", table)
    assert [e.msgid for e in po] == ["layer", "output", "kind", "{0} conv, {1} → {2}, /{3}", "fully connected",
                                     "**total**"]
    assert po.find("{0} conv, {1} → {2}, /{3}").comment == "section: table table\ne.g. 7×7 conv, 3 → 64, /2"
    problems = catalogs.check(["ja"])
    assert len(problems) == 6 and all("untranslated" in p and "docs/page.md:3" in p for p in problems)

    japanese = ["層", "出力", "種類", "{0} 畳み込み、{1} → {2}、/{3}", "全結合", "**合計**"]
    for entry, text in zip(po, japanese):
        entry.msgstr = text
    po.find("kind").msgstr = "種類 {0}"  # a slot the English does not have
    po.save()
    po.find("fully connected").msgstr = "全結合 {1}"
    po.save()
    assert sorted(p.split(": ")[-1] for p in catalogs.check(["ja"])) == ["'{0}' is not in the English",
                                                                     "'{1}' is not in the English"]
    po.find("{0} conv, {1} → {2}, /{3}").msgstr = "{0} 畳み込み、{1} → {2}"
    po.find("fully connected").msgstr = "全結合"
    po.save()
    assert [p.split(": ")[-1] for p in catalogs.check(["ja"])] == ["'{0}' is not in the English", "changed or lost '{3}'"]
    po.find("{0} conv, {1} → {2}, /{3}").msgstr = japanese[3]
    po.find("kind").msgstr = "種類"
    po.save()
    assert catalogs.check(["ja"]) == []

    assert translate.translate_tables(table, "ja").split("\n") == [
        "| 層 | 出力 | 種類 |", "|---|---:|---|", "| `conv1` | 64 × 56 × 56 | 7×7 畳み込み、3 → 64、/2 |",
        "| `fc` | 1000 | 全結合 |", "| **合計** | 11,689,512 | |"]
    # Tables with CJK text (the glossary, tables typed in a translation) and code blocks are left alone
    untouched = "| English | 日本語 |\n|---|---|\n| layer | 層 |\n\n```\n| layer |\n|---|\n```"
    assert translate.translate_tables(untouched, "ja") == untouched


def test_generated_figures_go_through_the_tables_catalog(tmp_path, monkeypatch):
    """A generated figure (one line of HTML: an SVG chart, an image with its caption) has its
    words collected by `extract` and translated like cells: its labels, its `<title>`, its
    `aria-label` and `alt`, with numbers and names as slots."""
    figure = ('<figure class="lit-figure"><svg role="img" aria-label="Test error. plain-20: 23.6%">'
              '<title>Test error. plain-20: 23.6%</title><text x="1">iterations</text><text>ResNet-20</text></svg>'
              '<img src="data:," alt="cat"><figcaption><span>cat</span><br><span>✗ predicted</span> '
              '<span>dog</span></figcaption></figure>')
    po = extract_tables_catalog(tmp_path, monkeypatch, "demo.figure()", figure)
    assert sorted(e.msgid for e in po) == sorted(["Test error. {0}: {1}", "iterations", "cat", "✗ predicted", "dog"])
    for entry in po:
        entry.msgstr = {"Test error. {0}: {1}": "テスト誤差。{0}：{1}", "iterations": "反復", "cat": "猫",
                        "✗ predicted": "✗ 予測", "dog": "犬"}[entry.msgid]
    po.save()
    assert catalogs.check(["ja"]) == []
    translated = translate.translate_tables(figure, "ja")
    assert 'aria-label="テスト誤差。plain-20：23.6%"' in translated and "<title>テスト誤差。plain-20：23.6%</title>" in translated
    assert ">反復</text>" in translated and ">ResNet-20</text>" in translated  # a name stays
    assert 'alt="猫"' in translated and "<span>✗ 予測</span> <span>犬</span>" in translated


def test_collecting_the_table_words_runs_registered_writers_only(tmp_path, monkeypatch):
    """`extract` and `check` make the tables the way the site does: a page that names anything
    but a registered writer stops them before anything is imported or run."""
    from mkdocs.exceptions import PluginError

    marker = tmp_path / "ran"
    use_project(monkeypatch, tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(f'# Page\n\n<!-- md: os.system("touch {marker}") -->\n')
    with pytest.raises(PluginError, match="docs/page.md:3: .* is not a registered Markdown writer"):
        catalogs.messages(project.current().domains[project.TABLES])
    assert not marker.exists()


def test_stray_spaces_beside_full_width_punctuation_are_found():
    assert catalogs.stray_spaces("これは ResNet である。`conv1` は、$x$ を読む。") == []
    assert len(catalogs.stray_spaces("である。 ResNet は")) == 1
    assert len(catalogs.stray_spaces("`conv1` 、`conv2`")) == 1
    assert len(catalogs.stray_spaces("**修正。** ReLU を")) == 1 and catalogs.stray_spaces("**修正**：ReLU を") == []
    assert len(catalogs.stray_spaces("步幅为 2 ，所以")) == 1
    # a line break is joined by the site, so it is no space; code and table pipes are not prose
    assert catalogs.stray_spaces("である。\nResNet は\n\n```\na。 b\n```\n| 層。 | 出力 |\n") == []
    assert any("space beside full-width punctuation" in p
               for p in catalogs.translation_problems("ja", "It is. ResNet is", "である。 ResNet は"))


def test_line_breaks_beside_full_width_punctuation_are_joined_within_a_paragraph():
    assert translate.join_cjk_lines("である。\nResNet は") == "である。ResNet は"
    assert translate.join_cjk_lines("次の通り：\n`conv1`、\n$x$ と\n**ReLU**") == "次の通り：`conv1`、$x$ と\n**ReLU**"
    assert translate.join_cjk_lines("ResNet\n。") == "ResNet。"
    assert translate.join_cjk_lines("ストライド\n2 の") == "ストライド\n2 の"  # CJK, then Latin: a space belongs there
    # CJK inside an inline link, code span or emphasis on either side; full-width brackets
    assert translate.join_cjk_lines("コードは\n[よくある落とし穴](pitfalls.md)に") == "コードは[よくある落とし穴](pitfalls.md)に"
    assert translate.join_cjk_lines("[結果](results.md)\nにまとめ") == "[結果](results.md)にまとめ"
    assert translate.join_cjk_lines("见\n`块`和") == "见`块`和"
    assert translate.join_cjk_lines("ResNet\n（He ら）\nResNet") == "ResNet（He ら）ResNet"
    assert translate.join_cjk_lines("见\n[ResNet](x.md)") == "见\n[ResNet](x.md)"  # Latin link text: the space stays
    for block in ["* 項目", "1. 項目", "| 表 |", "<div>", "```", "$$x$$", "## 見出し", "!!! note", ""]:
        assert translate.join_cjk_lines(f"である。\n{block}") == f"である。\n{block}", block
    assert translate.join_cjk_lines("## 演習。\nResNet\n## 演習\n本文") == "## 演習。\nResNet\n## 演習\n本文"


def test_line_breaks_between_cjk_characters_are_joined_outside_code():
    text = ("形状确实相同，\n  这时是**恒等\n映射**。\n* 选项 A\n  全零\n\n```\n中文\n中文\n```\n"
            "结尾是中文\nResNet 开头\n**加粗**\n继续")
    assert translate.join_cjk_lines(text) == ("形状确实相同，这时是**恒等映射**。\n* 选项 A\n  全零\n\n```\n中文\n中文\n```\n"
                                         "结尾是中文\nResNet 开头**加粗**继续")


def test_spaces_between_cjk_pieces_of_generated_html_are_dropped_outside_code():
    """A generated figure translates its words one element at a time; the space the English needs
    between them is a stray one between two CJK characters (not in `<pre>`, not beside Latin)."""
    caption = '<figcaption><span>猫</span><br><span>✗ 予測：</span> <span>犬</span></figcaption>'
    assert translate.join_cjk_html(caption) == caption.replace("</span> <span>", "</span><span>")
    assert translate.join_cjk_html("<p>ResNet の <code>x</code> と y</p>") == "<p>ResNet の <code>x</code> と y</p>"
    code = "<pre><code># 残差 ブランチ</code></pre>"
    assert translate.join_cjk_html("<p>残差 ブランチ</p>" + code) == "<p>残差ブランチ</p>" + code


def test_line_breaks_in_a_chapters_code_block_are_kept():
    """A chapter's code goes into the page as raw `<pre>` HTML: a translated comment that ends in
    full-width punctuation keeps its line break (the next line is code)."""
    code = '<pre id="L3"><code>x = 1  # 値（V = 0）\ny = 2  # 終わり。\nz = 3</code></pre>'
    assert translate.join_cjk_lines("段落の\n続き\n\n" + code) == "段落の続き\n\n" + code

"""The translations: complete, not stale, faithful to what must not change, true to the glossary.

The checks themselves live in `docs/hooks/i18n.py` (`python docs/hooks/i18n.py check` runs the
same ones); these tests call them per language and test the machinery on small examples.
"""

import re
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import i18n  # noqa: E402
import literate  # noqa: E402

LANGS = [pytest.param(lang, marks=pytest.mark.xfail(reason=f"{lang} translation in progress", strict=False))
         if lang in i18n.IN_PROGRESS else lang for lang in i18n.LANGUAGES]


def entries(lang):
    """(domain, entry) for every live catalog entry of `lang`."""
    for domain in i18n.CHAPTERS:
        path = i18n.catalog_path(lang, domain)
        if path.exists():
            for entry in polib.pofile(str(path)):
                if not entry.obsolete:
                    yield domain, entry


# --- the real catalogs and pages ------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_catalogs_complete_and_not_fuzzy(lang):
    problems = [p for p in i18n.check([lang]) if ".po:" in p or "LC_MESSAGES" in p]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_pages_translated_from_current_english(lang):
    problems = [p for p in i18n.check([lang]) if ".po" not in p]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_catalogs_cover_every_chapter(lang):
    """Every chapter has a catalog, and every section's notes are in it (extraction is up to date)."""
    for domain, rel_path in i18n.CHAPTERS.items():
        assert i18n.catalog_path(lang, domain).exists(), f"run `python docs/hooks/i18n.py extract`"
        ids = {e.msgid for d, e in entries(lang) if d == domain}
        missing = [m.anchors[0] for m in i18n.messages(rel_path) if m.msgid not in ids]
        assert not missing, f"{domain}: sections not extracted: {missing}"


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_translations_keep_math_code_links_and_directives(lang):
    """Whatever is translated so far keeps every `$…$`, `code`, link target and directive."""
    bad = []
    for domain, entry in entries(lang):
        if entry.msgstr:
            lost = i18n.placeholders(entry.msgid) - i18n.placeholders(entry.msgstr)
            if lost:
                bad.append(f"{domain}: {entry.msgid[:50]!r}: {sorted(lost)}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_glossary_terms_used_consistently(lang):
    """Translated text avoids the glossary's forbidden variants (残余, 残留, …) everywhere."""
    texts = [e.msgstr for _, e in entries(lang) if e.msgstr]
    texts += [p.read_text(encoding="utf-8") for p in i18n.DOCS.glob(f"*.{lang}.md")]
    without_terms = []
    for text in texts:
        for term in i18n.GLOSSARY:
            text = text.replace(getattr(term, lang), "")
        without_terms.append(text)
    for variant in i18n.AVOID[lang]:
        assert not any(variant in text for text in without_terms), f"{variant!r} used in {lang}"


def test_glossary_has_every_term_in_three_languages():
    table = i18n.glossary_markdown()
    for term in i18n.GLOSSARY:
        assert f"| {term.en} | {term.ja} | {term.zh} |" in table
    assert {t.en for t in i18n.GLOSSARY} >= {
        "residual learning", "identity mapping", "shortcut connection", "projection shortcut",
        "zero-padding shortcut", "bottleneck block", "degradation problem", "pre-activation",
        "feature map", "stride", "downsampling", "global average pooling", "batch normalization"}
    assert (i18n.DOCS / "glossary.md").read_text().count("<!-- md: i18n.glossary_markdown() -->") == 1


# --- the machinery, on small examples --------------------------------------------------------

def test_placeholders_find_math_code_links_and_directives():
    text = ("A $1 \\times 1$ conv, `bias=False`, [paper](https://arxiv.org/abs/1512.03385).\n\n"
            "$$y = \\mathcal{F}(x) + x$$\n\n<!-- figure: residual-block -->\n\n"
            "```python\nx = 1  # a comment\n```\n")
    found = i18n.placeholders(text)
    assert "$1 \\times 1$" in found and "`bias=False`" in found
    assert "](https://arxiv.org/abs/1512.03385" in found
    assert "$$y = \\mathcal{F}(x) + x$$" in found
    assert "<!-- figure: residual-block -->" in found
    assert "```python\nx = 1  # a comment\n```" in found


def test_problems_caught():
    english = "The **degradation problem**: see $x$ and `conv1` in [the paper](https://a.b/c)."
    good = "**劣化問題**：[論文](https://a.b/c)の $x$ と `conv1` を見よ。"
    assert i18n.translation_problems("ja", english, good) == []
    assert any("conv1" in p for p in i18n.translation_problems("ja", english, good.replace("`conv1`", "conv1")))
    assert any("$x$" in p for p in i18n.translation_problems("ja", english, good.replace("$x$", "$ x $")))
    assert any("https://a.b/c" in p for p in i18n.translation_problems("ja", english, good.replace("c)", "d)")))
    assert any("劣化問題" in p for p in i18n.translation_problems("ja", english, good.replace("劣化問題", "退化")))
    assert any("残余" in p for p in i18n.translation_problems("ja", "A residual block.", "残余ブロック。"))
    assert i18n.translation_problems("ja", "Pre-activation.", "事前活性化。") == []


def test_extract_marks_changed_english_fuzzy_and_keeps_the_translation(tmp_path, monkeypatch):
    source = tmp_path / "chapter.py"
    source.write_text('r"""\n---\ntitle: T\n---\n# Title\n\nIntro text.\n"""\n\n'
                      '# Adds one\nx = 1\n\n# Removed later\ny = 2\n')
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "LOCALES", tmp_path / "locales")
    monkeypatch.setattr(i18n, "CHAPTERS", {"chapter": "chapter.py"})
    monkeypatch.setattr(i18n, "DOCS", tmp_path / "docs")
    (tmp_path / "docs").mkdir()
    i18n.extract(["ja"])
    path = i18n.catalog_path("ja", "chapter")
    po = polib.pofile(str(path))
    assert [e.msgid for e in po] == ["T", "# Title\n\nIntro text.", "Adds one", "Removed later"]
    for entry, text in zip(po, ["題", "# 題\n\n導入。", "1 を足す", "後で消える"]):
        entry.msgstr = text
    po.save()
    assert i18n.check(["ja"]) == []

    source.write_text(source.read_text().replace("Adds one", "Adds one to x").replace(
        "# Removed later\ny = 2\n", ""))
    stats = i18n.extract(["ja"])["ja/chapter"]
    assert stats == {"fuzzy (English changed)": 1, "obsolete": 1}
    po = polib.pofile(str(path))
    changed = po.find("Adds one to x")
    assert changed.msgstr == "1 を足す" and "fuzzy" in changed.flags and changed.previous_msgid == "Adds one"
    assert po.find("Removed later", include_obsolete_entries=True).obsolete
    problems = i18n.check(["ja"])
    assert len(problems) == 1 and "fuzzy" in problems[0]

    # The site shows the English of a fuzzy entry, with a note, and the translation of the rest.
    i18n.clear_cache()
    translate = i18n.translator("ja", "chapter.py")
    assert translate("# Title\n\nIntro text.") == "# 題\n\n導入。"
    shown = translate("Adds one to x")
    assert "Adds one to x" in shown and i18n.LANGUAGES["ja"][1] in shown and 'lang="en"' in shown
    assert translate("T") == "題"
    i18n.clear_cache()


def test_stale_page_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "DOCS", tmp_path)
    english = tmp_path / "page.md"
    english.write_text("# Page\n\nText with `code`.\n")
    translated = tmp_path / "page.ja.md"
    translated.write_text(f"---\nsource_sha: {i18n.source_sha(english)}\n---\n# ページ\n\n`code` のある文。\n")
    assert i18n.page_problems(english, "ja") == []
    english.write_text("# Page\n\nText with `code`, changed.\n")
    assert any("older" in p for p in i18n.page_problems(english, "ja"))


def test_japanese_pages_are_japanese():
    """Each Japanese page and catalog is written in Japanese, not left in English."""
    kana = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji
    for page in i18n.english_pages():
        text = i18n.translated_page(page, "ja").read_text(encoding="utf-8")
        english_words = re.findall(r"[A-Za-z]+", i18n.prose(page.read_text(encoding="utf-8")))
        assert len(kana.findall(i18n.prose(text))) >= min(50, len(english_words)), page.name


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_chapter_pages_have_their_own_words_in_every_language(lang):
    """The words a chapter page adds ("Source", the links' titles) exist in every language."""
    assert set(i18n.PAGE_LABELS[lang]) == set(literate.LABELS)
    assert all(i18n.PAGE_LABELS[lang].values())


def test_line_breaks_between_cjk_characters_are_joined_outside_code():
    text = ("形状确实相同，\n  这时是**恒等\n映射**。\n* 选项 A\n  全零\n\n```\n中文\n中文\n```\n"
            "结尾是中文\nResNet 开头\n**加粗**\n继续")
    assert i18n.join_cjk_lines(text) == ("形状确实相同，这时是**恒等映射**。\n* 选项 A\n  全零\n\n```\n中文\n中文\n```\n"
                                         "结尾是中文\nResNet 开头**加粗**继续")

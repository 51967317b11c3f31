r"""What the engine knows of the project it builds: read once from `mkdocs.yml`.

The chapters are the nav's pages that have no Markdown file in `docs_dir`: each is made from a
Python file, found by a rule (`NAME.md` is `<package>/NAME.py`, `DIR/index.md` is
`<package>/DIR/__init__.py`) or named in the plugin's `sources` where the rule doesn't fit. So
the nav is the one list of chapters; the catalogs, the notebooks and the tests read it from
here (`Project.load()`), never from a list of their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# Catalogs that are not chapters: the words of the figures (docs_dir/figures/*.svg) and of the
# generated tables (`translate.translate_tables`).
FIGURES = "figures"
TABLES = "tables"


class ProjectError(Exception):
    """mkdocs.yml names a page that is neither a Markdown file nor a Python file."""


@dataclass(frozen=True)
class Project:
    root: Path  # the folder of mkdocs.yml; sources are relative to it
    docs_dir: Path
    chapters: dict[str, str]  # chapter page ("blocks.md") -> source ("labml_resnet/blocks.py"), nav order
    pages: list[str]  # every page of the nav, in order (chapters and Markdown pages)
    languages: list[str]  # the translated editions (the i18n plugin's languages but the default)
    repo_url: str = ""
    site_url: str = ""
    writer_registry: str = ""  # "module.NAME" of the dict of functions pages may call
    writer_modules: tuple[str, ...] = ()  # modules that fill it when imported
    untranslated: tuple[str, ...] = ()  # Markdown pages that stay English in every edition
    no_notebooks: tuple[str, ...] = ()  # chapter pages (or folders, `experiments/`) without a notebook
    cache_dir: Path = field(default_factory=lambda: Path(".cache"))

    @property
    def locales(self) -> Path:
        return self.docs_dir / "locales"

    @property
    def figures(self) -> Path:
        return self.docs_dir / FIGURES

    @staticmethod
    def domain(page: str) -> str:
        """A chapter's catalog name: its page path, `experiments/cifar10.md` -> `experiments-cifar10`."""
        return page.removesuffix(".md").replace("/", "-")

    @property
    def domains(self) -> dict[str, str]:
        """Catalog name -> what it translates: each chapter's source, then the figures and tables."""
        return {**{self.domain(page): source for page, source in self.chapters.items()},
                FIGURES: str(self.figures.relative_to(self.root)), TABLES: "<!-- md: … --> tables"}

    def source_domain(self, source: str) -> str | None:
        return next((self.domain(page) for page, path in self.chapters.items() if path == source), None)

    @classmethod
    def from_config(cls, config) -> "Project":
        """The project of a loaded MkDocs config (the plugin's `on_config`)."""
        options = config.plugins["literate"].config
        root = Path(config.config_file_path).resolve().parent
        docs_dir = Path(config.docs_dir).resolve()
        pages = _nav_pages(config.nav or [])
        chapters = {}
        for page in pages:
            if (docs_dir / page).is_file():
                continue
            source = options.sources.get(page) or _by_rule(page, options.package)
            if source is None or not (root / source).is_file():
                raise ProjectError(f"mkdocs.yml: the nav names {page}, which is neither {docs_dir.name}/{page} "
                                   f"nor a module ({source or 'no package to look in'})")
            chapters[page] = source
        i18n = config.plugins.get("i18n")
        languages = [lang.locale for lang in i18n.config.languages if not lang.default] if i18n else []
        cache = Path(options.cache_dir)
        return cls(root, docs_dir, chapters, pages, languages, config.repo_url or "", config.site_url or "",
                   options.writers, tuple(options.writer_modules), tuple(options.untranslated),
                   tuple(options.no_notebooks), cache if cache.is_absolute() else root / cache)

    @classmethod
    def load(cls, config_file: str | Path = "mkdocs.yml") -> "Project":
        """The project of `mkdocs.yml` outside a build (the command line, the tests)."""
        from mkdocs.config import load_config

        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's banner about MkDocs 2
        config = load_config(str(config_file))
        return cls.from_config(config)


def _nav_pages(nav) -> list[str]:
    """The Markdown pages of a nav (nested lists and `title: page` mappings), in order."""
    found = []
    for item in nav if isinstance(nav, list) else [nav]:
        if isinstance(item, str):
            if item.endswith(".md"):
                found.append(item)
        elif isinstance(item, dict):
            for value in item.values():
                found += _nav_pages(value)
        elif isinstance(item, list):
            found += _nav_pages(item)
    return found


def _by_rule(page: str, package: str) -> str | None:
    if not package:
        return None
    stem = page.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return f"{package}/{stem.removesuffix('index')}__init__.py"
    return f"{package}/{stem}.py"


# The project being built or checked: set by the plugin's `on_config` and by `Project.load` callers
# (`use`), read by the modules that need it (`current`).
_current: Project | None = None


def use(project: Project) -> Project:
    global _current
    _current = project
    return project


def current() -> Project:
    global _current
    if _current is None:
        _current = Project.load(Path.cwd() / "mkdocs.yml")
    return _current

r"""mkdocs_literate: a MkDocs plugin that makes a site out of literate Python modules.

Each chapter is a Python file; its comments and docstrings are the notes, shown beside the code
they explain, in every language of the site, with a Jupyter notebook of the same chapter. The
package is one module per job:

    plugin.py      the MkDocs plugin: its config schema and the build's events
    project.py     what it reads from mkdocs.yml: the chapters (the nav), languages, options
    splitter.py    a Python file -> sections (notes, code, a stable anchor), with ast and tokenize
    page.py        sections -> the chapter's page (notes beside highlighted code)
    notebooks.py   sections -> the chapter's notebook
    directives.py  `<!-- md: module.function(args) -->` and `<!-- figure: NAME -->`
    cache.py       the writers' results, kept across builds until their code or data change
    translate.py   build time: notes, tables and figures in the edition's language
    catalogs.py    the translators' catalogs: extract, check, the glossary
    katex.py       math rendered at build time
    search.py      one search index per edition
    griffe_summary.py  a module's summary in the API reference: its front matter's description
    __main__.py    `python -m mkdocs_literate extract|check|chapters`

Nothing here imports the project; the project's modules are imported only to call the Markdown
writers a page names.
"""

r"""A griffe extension for the API reference: a module's docstring becomes its one-line summary.

A chapter's module docstring is the whole chapter intro, with front matter on top. The chapter
page shows it; the API reference shows the `description:` line of its front matter instead.
"""

import griffe


class ModuleSummary(griffe.Extension):
    def on_module(self, *, mod: griffe.Module, **kwargs) -> None:
        if mod.docstring is None:
            return
        lines = mod.docstring.value.strip().split("\n")
        if lines[0].strip() != "---" or "---" not in [line.strip() for line in lines[1:]]:
            return  # no front matter: keep the docstring as written
        end = 1 + [line.strip() for line in lines[1:]].index("---")
        fields = dict(line.partition(":")[::2] for line in lines[1:end])
        description = fields.get("description", "").strip().strip("'\"")
        mod.docstring.value = description

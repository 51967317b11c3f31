r"""The closed list of functions that the site's `<!-- md: module.function(args) -->` lines may call.

A page (or a translated catalog) names a function; the site's build hook looks the name up here
and calls it only if it is registered, with literal arguments only. Nothing a page says is
imported or evaluated: a name that is not in `MARKDOWN_WRITERS` fails the build with the page
and line (`mkdocs_literate/directives.py`, the site engine). A function joins the list with `@markdown_writer`, in
the module that defines it, so the list is the set of decorated functions of the modules the
hook imports.
"""

from typing import Callable

# "labml_resnet.shapes.parameter_table_markdown" -> the function
MARKDOWN_WRITERS: dict[str, Callable[..., str]] = {}


def markdown_writer(function: Callable[..., str]) -> Callable[..., str]:
    r"""Register `function` as `module.function`, the name that `<!-- md: … -->` lines use."""
    MARKDOWN_WRITERS[f"{function.__module__}.{function.__qualname__}"] = function
    return function

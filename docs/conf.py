"""Sphinx configuration: the documentation site (``sphinx-build -W -n docs docs/_build/html``).

The API reference is made at build time from the package's own registry of public names
(``digicert_async._HOMES``), so a name added there is documented without editing a page.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document the checkout, whatever is installed

import digicert_async  # noqa: E402
import digicert_async.testing  # noqa: E402

project = "digicert-async"
author = "digicert-async maintainers"
copyright = "digicert-async maintainers"
release = digicert_async.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx_autodoc_typehints",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples"]
html_theme = "furo"
html_title = f"digicert-async {release}"
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
always_use_bars_union = True
typehints_fully_qualified = False

nitpicky = True
# sphinx-autodoc-typehints (the older one pip picks on Python 3.10 and 3.11) cannot
# evaluate a few annotations written for type checkers only: it leaves them as written,
# which is what they say; a reference it does make must still resolve.
suppress_warnings = [
    "sphinx_autodoc_typehints.guarded_import",
    "sphinx_autodoc_typehints.forward_reference",
]
# ...and it uses a Sphinx API that Sphinx 9 deprecates: its concern, not the site's.
warnings.filterwarnings(
    "ignore", message=".*set_application' is deprecated", module="sphinx_autodoc_typehints"
)
# Offline builds (no intersphinx): references to the standard library and to the libraries
# underneath are left unlinked, by module; every reference into this package must resolve.
nitpick_ignore_regex = [
    (r"py:.*", r"(typing|collections\.abc|enum|datetime|os|copy|pathlib|asyncio)(\..+)?"),
    (r"py:.*", r"(aiohttp|attrs|attr|cattrs|redis|yarl|multidict)(\..+)?"),
]
# What a public name's signature or bases name in a private module (a private base class,
# a type variable, a protocol), when it is not a public name under another path: private
# modules are not on the site by design. A reference to anything else in the package,
# and any unqualified one, must resolve.
nitpick_ignore_regex.append((r"py:(class|obj)", r"digicert_async(\.\w+)*\._\w+(\.\w+)*"))
# Private helpers that public docstrings name by their module's own name for them: their
# docstrings are read in the code, not on the site.
nitpick_ignore = [
    ("py:class", "LimiterBackendFactory"),
    ("py:meth", "LimiterBackendFactory.for_key"),
    ("py:data", "LISTED_PROBLEMS"),
    ("py:data", "MIN_CHECK_INTERVAL"),
    ("py:func", "check_for_product"),
    ("py:func", "fill_route"),
    ("py:func", "list_problems"),
    ("py:func", "make_converter"),
]

# The sections of the API reference: each private home module of the registry, titled.
API_SECTIONS = {
    "._client": "The client",
    ".resources._base": "The client",
    "._errors": "Errors",
    ".bulk": "Bulk jobs",
    "._dcv": "Domain control validation",
    "._dcv_driver": "Domain control validation",
    "._ratelimit": "Rate limits and shared budgets",
    "._retry": "Retries",
    "._pipeline": "Requests, responses and transports",
    "._hooks": "Events (hooks)",
    ".models": "Models",
    "._converter": "Models",
}
API_MARKER = "%%public-names%%"
CLI_MARKER = "%%cli-help%%"


def public_names_rst() -> str:
    """The reference of every public name, as autodoc directives grouped by section."""
    sections: dict[str, list[str]] = {}
    for home, names in digicert_async._HOMES.items():
        # a new home module (webhooks, say) gets a section named after it until titled here
        title = API_SECTIONS.get(home) or home.strip("._").replace("_", " ").capitalize()
        sections.setdefault(title, []).extend(names)
    lines: list[str] = []
    for title, names in sections.items():
        lines += [title, "-" * len(title), ""]
        for name in sorted(names, key=str.lower):
            value = getattr(digicert_async, name)
            options = []
            if isinstance(value, type):
                kind = "autoexception" if issubclass(value, BaseException) else "autoclass"
                options = [f"   :inherited-members: {foreign_bases(value)}"]
            elif callable(value):
                kind = "autofunction"
            else:
                kind = "autodata"
            lines += [f".. {kind}:: digicert_async.{name}", *options, ""]
    return "\n".join(lines)


def foreign_bases(cls: type) -> str:
    """The bases of ``cls`` from outside this package: what it inherits from them (str's
    methods, Exception's) is theirs to document; what it inherits from a private base of
    this package (a bulk job's ``report``) is documented on the class."""
    names = {base.__name__ for base in cls.__mro__[1:] if not _ours(base)}
    return ",".join(sorted(names | {"object"}))


def _ours(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "digicert_async"


def cli_help_md() -> str:
    """Every command's ``--help``, as the command line prints it, in Markdown."""
    from digicert_async.cli._parser import COMMANDS, PROG, build_parser

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal: the same on every build
    try:
        parser = build_parser()
        (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sections = [f"## `{PROG} --help`\n\n```text\n{parser.format_help()}```\n"]
        for name in COMMANDS:
            text = commands.choices[name].format_help()
            sections.append(f"## `{PROG} {name}`\n\n```text\n{text}```\n")
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return "\n".join(sections)


def _fill_api(app: Any, docname: str, source: list[str]) -> None:
    if API_MARKER in source[0]:
        source[0] = source[0].replace(API_MARKER, public_names_rst())
    if CLI_MARKER in source[0]:
        source[0] = source[0].replace(CLI_MARKER, cli_help_md())


def _public_home(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``digicert_async.models.StrFlag`` (a private or subpackage path to a public
    name, as type hints and docstrings spell it) to where it is documented:
    ``digicert_async.StrFlag``, or ``digicert_async.CancelJob.report`` for a member."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py":
        return None
    candidates = []
    if target.startswith("digicert_async."):
        parts = target.split(".")
        candidates = [
            f"{namespace.__name__}." + ".".join(parts[at:])
            for namespace in (digicert_async.testing, digicert_async)
            for at in range(1, len(parts))
            if parts[at] in namespace.__all__
        ]
    elif node.get("py:class"):  # a member named bare in its class's docstring
        for base in getattr(digicert_async, node["py:class"].rsplit(".", 1)[-1], int).__mro__:
            if target in vars(base) and base.__name__ in digicert_async.__all__:
                candidates.append(f"digicert_async.{base.__name__}.{target}")
    domain = env.get_domain("py")
    for candidate in candidates:
        node["reftarget"] = candidate
        # a type hint names StrFlag as a class; it is documented as data (an alias)
        for reftype in (node["reftype"], "obj"):
            found = domain.resolve_xref(
                env, node["refdoc"], app.builder, reftype, candidate, node, contnode
            )
            if found is not None:
                return found
    node["reftarget"] = target
    return None


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _fill_api)
    app.connect("missing-reference", _public_home)
    return {"parallel_read_safe": True}

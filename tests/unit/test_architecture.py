"""The package map, checked: one package per responsibility, one public face each, one direction.

Parses every module's imports with ``ast`` (nothing is imported) and enforces what
docs/architecture.md promises:

* every module lives in a known package (``cli.py`` and ``__main__.py`` are the shell);
* the pure packages import no adapter library, no adapter package and no environment;
* only ``github.transport`` and ``github.failures`` import PyGithub, only
  ``registry.tracking`` and ``registry.mlflow_backend`` import MLflow;
* no import cycle between packages, nor between the modules of one package;
* a module imports from another package only what that package's ``__init__`` lists in
  ``__all__`` (a name, or a module it makes public as a namespace), never a ``_private`` name;
* no module is longer than ``MAX_LINES``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "cml_bot"
PACKAGES = {
    "core",
    "config",
    "stats",
    "compare",
    "report",
    "ml",
    "registry",
    "github",
    "bot",
    "deploy",
    "app",
    "doctor",
    "scaffold",
}
SHELL = {"cml_bot", "cml_bot.cli", "cml_bot.__main__"}
MAX_LINES = 400
# Pure by path: a package, or one module of a package.
PURE = [
    "core",
    "stats",
    "compare",
    "report",
    "bot.events",
    "bot.commands",
    "bot.payload",
    "bot.comment_line",
]
FORBIDDEN = {
    "click",
    "github",
    "mlflow",
    "sklearn",
    "requests",
    "cml_bot.github",
    "cml_bot.registry",
    "cml_bot.ml",
    "cml_bot.app",
    "cml_bot.cli",
    "cml_bot.bot.runner",
}
# core.git is the one core module that runs a program (the git CLI); it reads no environment.
OWNERS = {
    "github": {"github.transport", "github.failures"},
    "mlflow": {
        "registry.tracking",
        "registry.mlflow_backend",
        "registry.mlflow_models",
        "registry.health",
    },
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "cml_bot.stats.engine"
    target: str  # the imported module, e.g. "cml_bot.core"
    names: tuple[str, ...]  # the names imported from it ("" for `import x`)
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def package_of(module: str) -> str:
    """``cml_bot.stats.engine`` -> ``stats``; the shell modules -> ``""``."""
    return "" if module in SHELL else module.split(".")[1]


def imports_of(module: str) -> Iterator[Import]:
    path = MODULES[module]
    is_init = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, ("",), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_init else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield Import(module, target, tuple(a.name for a in node.names), node.lineno)


def public_face(package: str) -> set[str]:
    tree = ast.parse(MODULES[f"cml_bot.{package}"].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return set(value)
    return set()


def internal_edges() -> Iterator[tuple[str, str, Import]]:
    """(importer, imported module) for every cml_bot-internal import, submodules resolved."""
    for module in MODULES:
        for imp in imports_of(module):
            if not imp.target.startswith("cml_bot"):
                continue
            for name in imp.names:
                sub = f"{imp.target}.{name}"
                yield module, (sub if sub in MODULES else imp.target), imp


def is_pure(module: str) -> bool:
    rest = module.removeprefix("cml_bot.")
    return any(rest == p or rest.startswith(p + ".") for p in PURE)


def uses_environ(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv") for n in ast.walk(tree)
    )


def test_every_module_is_in_a_known_package() -> None:
    stray = [m for m in MODULES if m not in SHELL and package_of(m) not in PACKAGES]
    assert not stray, f"modules outside the package map: {stray}"
    missing = [p for p in PACKAGES if f"cml_bot.{p}" not in MODULES]
    assert not missing, f"packages without an __init__: {missing}"
    faceless = [p for p in sorted(PACKAGES) if not public_face(p)]
    assert not faceless, f"packages whose __init__ has no __all__: {faceless}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if is_pure(m)))
def test_pure_modules_import_no_adapter(module: str) -> None:
    bad = {
        imp.target
        for imp in imports_of(module)
        if any(imp.target == f or imp.target.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{module} imports {sorted(bad)}"
    assert not uses_environ(MODULES[module]), f"{module} reads the environment"


def test_pure_paths_exist() -> None:
    for pure in PURE:
        assert any(m.removeprefix("cml_bot.") == pure for m in MODULES), pure


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_only_the_adapter_imports_its_library(library: str) -> None:
    assert {f"cml_bot.{m}" for m in OWNERS[library]} <= set(MODULES)
    offenders = sorted(
        {
            imp.module
            for module in MODULES
            if module.removeprefix("cml_bot.") not in OWNERS[library]
            for imp in imports_of(module)
            if imp.target == library or imp.target.startswith(library + ".")
        }
    )
    assert not offenders, f"{library} imported outside its adapter: {offenders}"


def test_no_cross_package_private_or_hidden_imports() -> None:
    faces = {p: public_face(p) for p in PACKAGES}
    bad = []
    for module, target, imp in internal_edges():
        source, dest = package_of(module), package_of(target) if target != "cml_bot" else ""
        if not dest or source == dest:
            continue
        via = imp.target.split(".")
        for name in imp.names:
            if name.startswith("_") and not name.startswith("__"):
                bad.append(f"{module}:{imp.line} imports private {imp.target}.{name}")
            elif len(via) == 2 and name not in faces[dest]:
                bad.append(f"{module}:{imp.line} imports {name}, not in cml_bot.{dest}.__all__")
            elif len(via) > 2 and via[2] not in faces[dest]:
                bad.append(f"{module}:{imp.line} reaches into {imp.target} (not in __all__)")
    assert not bad, "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for module, target, _ in internal_edges():
        source, dest = package_of(module), package_of(target) if target != "cml_bot" else ""
        if source and dest and source != dest:
            graph.setdefault(source, set()).add(dest)
    assert not _cycles(graph)


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for module, target, _ in internal_edges():
        if target in MODULES and target != module:
            graph.setdefault(module, set()).add(target)
    assert not _cycles(graph)


def test_no_module_is_too_long() -> None:
    long = {
        m: n
        for m, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"over {MAX_LINES} lines: {long}"

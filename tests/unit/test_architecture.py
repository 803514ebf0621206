"""The dependency rule, checked: the pure core imports no adapter library and no environment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "cml_bot"
PURE = [
    "config",
    "events",
    "commands",
    "metrics",
    "predictions",
    "stats",
    "stats_pair",
    "stats_intervals",
    "stats_labels",
    "stats_delong",
    "stats_rowloss",
    "stats_bootstrap",
    "compare",
    "compare_format",
    "compare_results",
    "compare_gates",
    "compare_values",
    "compare_breakdowns",
    "report",
    "report_text",
    "report_context",
    "report_sections",
    "errors",
    "redact",
]
FORBIDDEN = {
    "click",
    "github",
    "mlflow",
    "sklearn",
    "requests",
    "cml_bot.github",
    "cml_bot.tracking",
    "cml_bot.registry",
    "cml_bot.actions",
    "cml_bot.app",
    "cml_bot.cli",
}
# Only these modules may import PyGithub / MLflow at all (paths relative to cml_bot; a package's
# __init__ is the package's own name). PyGithub stays inside the cml_bot.github package, and there
# only in its transport and the classification of its exceptions.
OWNERS = {
    "github": {"github.transport", "github.failures"},
    "mlflow": {"tracking", "registry.mlflow_backend"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def uses_environ(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv") for n in ast.walk(tree)
    )


@pytest.mark.parametrize("name", PURE)
def test_pure_core_imports_no_adapter(name: str) -> None:
    path = PACKAGE / f"{name}.py"
    bad = {m for m in imports(path) if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{name}.py imports {sorted(bad)}"
    assert not uses_environ(path), f"{name}.py reads the environment"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_only_the_adapter_imports_its_library(library: str) -> None:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    assert OWNERS[library] <= set(modules), f"no such module: {OWNERS[library] - set(modules)}"
    offenders = []
    for module, path in sorted(modules.items()):
        if module in OWNERS[library]:
            continue
        if any(m == library or m.startswith(library + ".") for m in imports(path)):
            offenders.append(module)
    assert not offenders, f"{library} imported outside its adapter: {offenders}"

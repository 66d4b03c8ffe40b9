"""The package's structure: no import cycle, no oversized module, data flows one way.

The imports are read from the source (``ast``), module-level and function-local alike; only
imports under ``if TYPE_CHECKING:`` are left out, because they never run. An import of
``woonvoorraad`` itself (the package's face, ``__version__``) or of a module's own parent
package is not an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import woonvoorraad

PKG_DIR = Path(woonvoorraad.__file__).parent
PKG = PKG_DIR.name
MAX_LINES = 800

#: The stages, in the order data flows through them. A module may import from its own stage
#: and from earlier ones, never from a later one.
STAGES: dict[str, int] = {
    "core": 0,  # settings, config, errors, layout and the private helpers
    "sources": 1,
    "stock": 2,
    "classify": 3,
    "pipeline": 4,
    "scenarios": 5,
    "report": 6,
    "demo": 7,
    "cli": 8,
}


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for path in sorted(PKG_DIR.rglob("*.py")):
        parts = list(path.relative_to(PKG_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _targets(module: str, node: ast.AST, mods: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PKG]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        anchor = parts if mods[module].name == "__init__.py" else parts[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([base] if base else []))
    if base.split(".")[0] != PKG:
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]


def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (anywhere in its body)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            for name in _targets(module, node, mods):
                target = name
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target not in (module, PKG) and not module.startswith(target + "."):
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root, targets in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(targets)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def stage_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    name = "cli" if parts[1] == "__main__" else parts[1]
    return name if name in STAGES else "core"


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_local_imports() -> None:
    graph = import_graph()
    assert f"{PKG}.pipeline" in graph
    # pipeline imports the readers, some of them inside functions
    assert any(t.startswith(f"{PKG}.sources.") for t in graph[f"{PKG}.pipeline"])


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, f"import cycles: {found}"


def test_no_module_over_800_lines() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in _modules().items()}
    big = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


@pytest.mark.parametrize("stage", ["sources", "stock", "classify", "scenarios", "report",
                                   "demo"])
def test_stage_is_a_subpackage(stage: str) -> None:
    assert (PKG_DIR / stage / "__init__.py").is_file()


def test_data_flows_one_way() -> None:
    """sources → stock → classify → pipeline → report; no arrow runs back up."""
    back = []
    for module, targets in import_graph().items():
        for target in targets:
            if STAGES[stage_of(target)] > STAGES[stage_of(module)]:
                back.append(f"{module} -> {target}")
    assert not back, "imports against the data flow:\n" + "\n".join(sorted(back))

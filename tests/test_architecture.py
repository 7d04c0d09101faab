"""The package layout stays acyclic and layered: walk every import (module level and function level) of the
project's own modules and fail on a cycle or on an arrow that runs back up, naming it. A package's __init__ is its own
node; a submodule does not depend on it. Layers, bottom to top: the core (rlvr, rlvr_verify, data_gen), the tools
(rlvr.tools, reached from the core only through the thin `python -m rlvr.<tool>` entry points), the verifier's
development tools (rlvr_verify.dev), the benchmarks (bench)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rlvr", "rlvr_verify", "data_gen", "bench")
# `python -m rlvr.<tool>`: the entry points that may import rlvr.tools
TOOL_ENTRY_POINTS = {"rlvr.evaluate", "rlvr.extrapolate", "rlvr.report"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for t in targets:
                # the longest project module the import names (a.b.c -> a.b.c, else a.b, ...)
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_graph_walker_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 40 and graph["rlvr.loop"], "the walker found too few modules or edges"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _arrows_into(graph: dict[str, set[str]], prefix: str, allowed) -> list[str]:
    inside = lambda m: m == prefix or m.startswith(prefix + ".")  # noqa: E731
    return sorted(f"{m} -> {t}" for m, targets in graph.items() if not inside(m) and not allowed(m)
                  for t in targets if inside(t))


def test_the_core_never_imports_the_tools():
    arrows = _arrows_into(import_graph(), "rlvr.tools", lambda m: m in TOOL_ENTRY_POINTS or m.startswith("bench"))
    assert not arrows, "the core imports rlvr.tools (move the shared piece down into the core): " + ", ".join(arrows)


def test_nothing_imports_the_benchmarks_or_the_verifier_dev_tools():
    graph = import_graph()
    assert graph["bench.learner"], "the walker found no bench modules"
    arrows = _arrows_into(graph, "bench", lambda m: False)
    arrows += _arrows_into(graph, "rlvr_verify.dev", lambda m: m == "rlvr_verify.__main__" or m.startswith("bench"))
    assert not arrows, "arrows running back up: " + ", ".join(arrows)


def test_the_layering_check_sees_a_planted_arrow():
    graph = {"rlvr.loop": {"rlvr.tools.report"}, "rlvr.tools.report": set(), "rlvr.report": {"rlvr.tools.report"}}
    assert _arrows_into(graph, "rlvr.tools", lambda m: m in TOOL_ENTRY_POINTS) == ["rlvr.loop -> rlvr.tools.report"]

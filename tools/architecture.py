"""The project's architecture, read from its code: rooms, what each imports, and the path of one frame.

    python -m tools.architecture            # rewrite the generated sections of docs/architecture.md
    python -m tools.architecture --check    # exit 1 when an import breaks the rules or the doc is stale

The rooms and what each may import are the table ``ROOMS``; every ``import`` of every module (at the
top and inside functions: a lazy import still ties two modules together) is parsed with ``ast``.
``check`` reports an import that points the wrong way, an import cycle between modules, and any module
over ``MAX_LINES`` lines. The frame path comes from a real pipeline run on one demo frame: the stages
and consumers in the order they ran, with their times.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"
MAX_LINES = 350
PACKAGES = ("semgcn", "engines", "calibration", "realtime", "tools", "tests")
#: Room -> the rooms its modules may import (besides itself), bottom of the house first.
ROOMS: dict[str, tuple[str, ...]] = {
    "semgcn": (),
    "engines": ("semgcn",),
    "realtime.demo": ("semgcn",),
    "realtime.core": ("semgcn", "engines", "realtime.demo"),
    "calibration": ("semgcn", "realtime.core"),
    "realtime.stream": ("semgcn", "realtime.core"),
    "realtime.recording": ("semgcn", "realtime.core", "realtime.stream"),
    "realtime.viewer": ("semgcn", "realtime.core", "realtime.stream", "realtime.recording"),
    "realtime.bridges": ("semgcn", "engines", "realtime.core", "realtime.stream", "realtime.recording"),
    "realtime": ("realtime.stream", "realtime.recording"),
    "realtime.app": ("semgcn", "engines", "calibration", "realtime.demo", "realtime.core", "realtime.stream",
                     "realtime.recording", "realtime.viewer", "realtime.bridges", "realtime"),
    "run_live": ("realtime.app",),
    "realtime.batch": ("semgcn", "engines", "calibration", "realtime.core", "realtime.stream", "realtime.recording",
                       "realtime.app"),
    "tools": ("semgcn", "engines", "calibration", "realtime.demo", "realtime.core", "realtime.stream",
              "realtime.recording", "realtime.viewer", "realtime.bridges", "realtime", "realtime.app",
              "realtime.batch"),
    "tests": tuple(r for r in ("semgcn", "engines", "calibration", "realtime.demo", "realtime.core",
                               "realtime.stream", "realtime.recording", "realtime.viewer", "realtime.bridges",
                               "realtime", "realtime.app", "realtime.batch", "tools")),
}
WHAT = {
    "semgcn": "the science: skeleton, codec, SemGConv, models, losses, metrics, datasets, BVH, training, export",
    "engines": "what runs in production: the BlazePose detector and the SemGCN lifter on ONNX Runtime / TensorRT / torch",
    "realtime.demo": "the built-in animated figure with exact ground truth",
    "realtime.core": "capture sources, the typed per-frame record, the pipeline and its stages, stats, overlay",
    "calibration": "intrinsics, undistortion, metric scale, position, world frame; the calibration stage",
    "realtime.stream": "the ZeroMQ wire format, publisher and subscriber",
    "realtime.recording": "MCAP sessions: recorder, reader, replay, exports",
    "realtime.viewer": "the Open3D viewer, a subscriber in its own process",
    "realtime.bridges": "consumers that speak other protocols, and the feed of their command lines",
    "realtime": "the published names realtime.subscriber and realtime.recorder",
    "realtime.app": "run_live.py: options, building the parts, running them",
    "run_live": "the launcher",
    "realtime.batch": "offline: videos and image folders to sessions and exports, in one process or on Ray",
    "tools": "command-line tools: training, benchmarks, figures, checks",
    "tests": "the tests, mirroring the packages (only tests/test_tools imports tools)",
}


@dataclass
class Graph:
    """Every project module (dotted name -> file) and its imports of other project modules."""

    files: dict[str, Path] = field(default_factory=dict)
    imports: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_files() -> list[Path]:
    files = [REPO / "run_live.py"]
    for package in PACKAGES:
        files += sorted(p for p in (REPO / package).rglob("*.py") if "__pycache__" not in p.parts)
    return files


def read_graph() -> Graph:
    graph = Graph()
    for path in project_files():
        graph.files[module_name(path)] = path
    for name, path in graph.files.items():
        for target in _imported_names(name, path):
            resolved = _resolve(target, graph.files)
            if resolved is not None and resolved != name:
                graph.imports[name].add(resolved)
    return graph


def _imported_names(module: str, path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names += [f"{base}.{alias.name}" for alias in node.names] + [base]
    return names


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (``from a.b import c``: a.b.c if it is a module, else a.b)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def room_of(module: str) -> str:
    """The room a module lives in: the longest room name that prefixes it."""
    if module.startswith("tests"):
        return "tests"
    matches = [room for room in ROOMS if module == room or module.startswith(room + ".")]
    return max(matches, key=len) if matches else module.split(".")[0]


def check(graph: Graph) -> list[str]:
    """Every broken rule, one line each (empty: the house is in order)."""
    problems = []
    for module, targets in sorted(graph.imports.items()):
        room = room_of(module)
        for target in sorted(targets):
            other = room_of(target)
            if other == room:
                continue
            if other == "tools" and not module.startswith(("tools", "tests.test_tools")):
                problems.append(f"{module} imports {target}: nothing but tools and tests/test_tools imports tools")
            elif other not in ROOMS.get(room, ()):
                problems.append(f"{module} ({room}) imports {target} ({other}): {room} may import only "
                                f"{', '.join(ROOMS.get(room, ())) or 'nothing of ours'}")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    for module, path in sorted(graph.files.items()):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            problems.append(f"{_shown(path)} has {lines} lines (at most {MAX_LINES})")
    return problems


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle per strongly connected group of modules that import each other (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.imports.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group) + [sorted(group)[0]])

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph.files):
        if node not in index:
            visit(node)
    return found


def room_edges(graph: Graph) -> dict[tuple[str, str], int]:
    """How many module imports go from each room to each other room."""
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for module, targets in graph.imports.items():
        for target in targets:
            a, b = room_of(module), room_of(target)
            if a != b and a != "tests":
                edges[(a, b)] += 1
    return dict(edges)


def rooms_section(graph: Graph) -> str:
    counts = defaultdict(int)
    for module in graph.files:
        counts[room_of(module)] += 1
    ids = {room: room.replace(".", "_") for room in ROOMS}
    lines = ["```mermaid", "flowchart BT"]
    for room in ROOMS:
        if room != "tests":
            lines.append(f'  {ids[room]}["{room}<br/>{counts[room]} modules"]')
    for (a, b), n in sorted(room_edges(graph).items()):
        lines.append(f"  {ids[a]} -->|{n}| {ids[b]}")
    lines += ["```", "", "| room | modules | what it holds | may import |", "|---|---|---|---|"]
    for room, allowed in ROOMS.items():
        lines.append(f"| `{room}` | {counts[room]} | {WHAT[room]} | {', '.join(f'`{r}`' for r in allowed) or 'nothing of ours'} |")
    return "\n".join(lines)


def frame_path_section() -> str:
    """The stages and consumers of one real demo frame, in the order they ran (run_live's wiring)."""
    from realtime.app.build import make_lifter
    from calibration.stage import CalibrationStage
    from engines.detector import PoseDetector
    from realtime.core.evaluation import Evaluator
    from realtime.core.pipeline import Pipeline
    from realtime.core.smoothing import SmoothingStage
    from realtime.core.sources import DemoSource, SourceOptions
    from realtime.stream.publisher import Publisher, PublisherOptions
    import tempfile

    from realtime.recording.recorder import Recorder

    source = DemoSource(SourceOptions(realtime=False))
    evaluator = Evaluator.for_source(source)
    with tempfile.TemporaryDirectory() as tmp:
        consumers = [Publisher(PublisherOptions(address="tcp://127.0.0.1:*")), Recorder(tmp, {"source": "demo"}),
                     evaluator]
        pipeline = Pipeline(PoseDetector(threads=1), make_lifter("onnxruntime", None), consumers,
                            calibration=lambda size: CalibrationStage(source.camera_matrix, None, size, True),
                            smoother=SmoothingStage(), stages=[evaluator.truth_stage])
        source.start()
        try:
            results = [pipeline.process(source.get(timeout=10.0)) for _ in range(3)]
        finally:
            source.stop()
            pipeline.close()
    steps = list(results[-1].timings_ms)
    lines = ["```mermaid", "flowchart LR", '  capture(["capture thread: CapturedFrame"])']
    previous = "capture"
    for step in steps[1:]:
        lines.append(f'  {step}["{step}"]')
        lines.append(f"  {previous} --> {step}")
        previous = step
    lines += ["```", "", "Stage and consumer times of that frame (ms, this machine, one run): " +
              ", ".join(f"{k} {v:.2f}" for k, v in results[-1].timings_ms.items()) + "."]
    return "\n".join(lines)


def _replace(text: str, marker: str, body: str) -> str:
    start, end = f"<!-- generated: {marker} -->", f"<!-- end: {marker} -->"
    if start not in text or end not in text:
        raise SystemExit(f"docs/architecture.md lacks the markers {start} ... {end}")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.architecture", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the rules and that the doc's rooms are current")
    args = parser.parse_args(argv)
    graph = read_graph()
    problems = check(graph)
    for line in problems:
        print(f"architecture: {line}", file=sys.stderr)
    text = DOC.read_text(encoding="utf-8")
    rooms = _replace(text, "rooms", rooms_section(graph))
    if args.check:
        if rooms != text:
            print("architecture: docs/architecture.md is stale: run python -m tools.architecture", file=sys.stderr)
            return 1
        return 1 if problems else 0
    DOC.write_text(_replace(rooms, "frame path", frame_path_section()), encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)} ({len(graph.files)} modules, {len(problems)} problems)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

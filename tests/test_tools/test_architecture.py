"""The house rules, read from the code: imports point down the rooms of docs/architecture.md, no
module imports itself round a cycle (lazy imports count), and no module is over 350 lines."""
from __future__ import annotations

from tools.architecture import MAX_LINES, ROOMS, Graph, check, cycles, read_graph, room_of


def test_the_code_keeps_the_house_rules():
    graph = read_graph()
    assert len(graph.files) > 100 and "realtime.core.pipeline" in graph.files
    assert "realtime.core.records" in graph.imports["realtime.stream.wire"]  # the parser sees real imports
    assert check(graph) == []


def test_a_wrong_way_import_a_cycle_and_a_long_module_are_each_reported(tmp_path):
    long_file = tmp_path / "long.py"
    long_file.write_text("x = 1\n" * (MAX_LINES + 1))
    short = tmp_path / "short.py"
    short.write_text("x = 1\n")
    graph = Graph(files={"semgcn.codec": short, "realtime.core.pipeline": short, "realtime.stream.wire": long_file,
                         "engines.lifter": short, "tools.train": short})
    graph.imports["semgcn.codec"] = {"realtime.core.pipeline"}        # the science importing the app's core
    graph.imports["realtime.core.pipeline"] = {"realtime.stream.wire"}  # core above the stream
    graph.imports["realtime.stream.wire"] = {"realtime.core.pipeline"}  # ... and back: a cycle
    graph.imports["engines.lifter"] = {"tools.train"}                   # a product module importing a tool
    problems = check(graph)
    assert any(p.startswith("semgcn.codec (semgcn) imports realtime.core.pipeline") for p in problems)
    assert any(p.startswith("realtime.core.pipeline (realtime.core) imports realtime.stream.wire") for p in problems)
    assert any("nothing but tools and tests/test_tools imports tools" in p for p in problems)
    assert cycles(graph) == [["realtime.core.pipeline", "realtime.stream.wire", "realtime.core.pipeline"]]
    assert any(f"has {MAX_LINES + 1} lines" in p for p in problems)


def test_every_module_lives_in_a_known_room():
    rooms = {room_of(module) for module in read_graph().files}
    assert rooms <= set(ROOMS), rooms - set(ROOMS)

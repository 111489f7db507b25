"""Fuzz the stream's decoder: hostile messages must give ``WireError`` and nothing else.

    python -m tools.fuzz_wire --examples 100000          # property-based (hypothesis), with a summary

The messages are structured mutations of real ``semgcn.pose/1`` messages (a person, nobody,
calibration fields, ground-truth arrays) and random bytes: header fields set to numeric extremes,
NaN / inf, wrong types, deep nesting, huge strings, or removed; array entries with wrong shapes,
dtypes, names or counts; array bytes cut, extended, random, NaN or absurd; parts dropped, repeated,
reordered, added; foreign topics; headers that are not UTF-8, not JSON, cut short or too large.
``mutate(parts, rnd)`` is a plain function of a ``random.Random``, so the same hostile messages feed
the consumer tests (tests/test_tools/test_fuzz_wire.py) reproducibly.
"""
from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import time
from collections import Counter

import numpy as np

from realtime.core.records import FrameResult, PersonPose
from realtime.stream.wire import WireError, decode, encode

KNOWN_FIELDS = ("schema", "frame_index", "t_capture", "t_publish", "image_size", "source", "has_person", "arrays",
                "seq", "timings_ms", "dropped", "backends", "smoothing", "error", "latency_ms", "camera",
                "world_frame", "scale", "position", "joint_names", "units")


def real_messages() -> list[list[bytes]]:
    """Genuine messages of every kind the pipeline sends."""
    rng = np.random.default_rng(0)
    messages = []
    for i in range(6):
        frame = FrameResult(frame_index=i, t_capture=1.7e9 + i / 30, image_size=(640, 480), source="fuzz",
                            t_publish=1.7e9 + i / 30 + 0.02, seq=i, timings_ms={"detect": 9.0, "lift": 0.8},
                            dropped_at_source=0, backends={"detector": "onnxruntime"}, smoothing=True,
                            latency_ms=20.0, camera={"fx": 600.0, "fy": 600.0, "cx": 320.0, "cy": 240.0})
        if i % 3:
            person = PersonPose(keypoints_2d=rng.uniform(0, 480, (16, 2)).astype(np.float32),
                                confidence=rng.uniform(0, 1, 16).astype(np.float32),
                                joints_3d=rng.normal(0, 0.3, (16, 3)).astype(np.float32),
                                scale={"method": "height", "factor": 1.1}, position={"ok": True})
            if i % 3 == 2:
                person.root_translation = np.array([0.1, 0.0, 3.0], np.float32)
                person.extra_arrays["gt_joints_3d"] = person.joints_3d.copy()
            frame.people.append(person)
        else:
            frame.error = "lifter failed: x"
        messages.append(encode(frame))
    return messages


def hostile_value(rnd: random.Random):
    """A JSON value that a careless reader would choke on."""
    depth = rnd.choice((5, 20, 300))
    nested = value = []
    for _ in range(depth):
        value.append([])
        value = value[0]
    return rnd.choice([
        None, True, False, 0, -1, -(2**31), 2**53 + 1, 2**63, 10**400, 1e308, -1e308, 5e-324,
        float("nan"), float("inf"), float("-inf"), "", "x" * rnd.choice((10, 70_000)), "\u0000\ufffd",
        [], {}, [1, 2, 3], [640, -480], [1e308, 2], [0, 0], {"a": {"b": [None]}}, nested,
        rnd.random() * 10 ** rnd.randint(-10, 30), rnd.randint(-(2**70), 2**70), "NaN", "1e999",
    ])


def _set_field(header: dict, rnd: random.Random) -> None:
    key = rnd.choice(KNOWN_FIELDS + tuple(header) + ("unknown_" + str(rnd.randint(0, 9)),))
    if rnd.random() < 0.2:
        header.pop(key, None)
    else:
        header[key] = hostile_value(rnd)


def _mutate_specs(header: dict, rnd: random.Random) -> None:
    specs = header.get("arrays")
    if not isinstance(specs, list) or not specs or rnd.random() < 0.2:
        header["arrays"] = hostile_value(rnd)
        return
    spec = rnd.choice(specs)
    if not isinstance(spec, dict):
        return
    what = rnd.choice(("name", "dtype", "shape", "shape", "drop", "dup"))
    if what == "drop":
        specs.remove(spec)
    elif what == "dup":
        specs.append(dict(spec))
    elif what == "shape":
        spec["shape"] = rnd.choice([[-1, 3], [16, 3, 0], [2**31, 2**31], [10**9], [], [16] * 9, [16.5, 2], "16x3",
                                    [rnd.randint(0, 70_000)], [True, 3]])
    else:
        spec[what] = hostile_value(rnd)


def _mutate_blobs(parts: list[bytes], rnd: random.Random) -> list[bytes]:
    if len(parts) < 3:
        return parts + [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))]
    i = rnd.randrange(2, len(parts))
    blob = bytearray(parts[i])
    what = rnd.choice(("cut", "extend", "random", "nan", "inf", "huge"))
    if what == "cut":
        blob = blob[: rnd.randrange(len(blob) + 1)]
    elif what == "extend":
        blob += bytes(rnd.randint(1, 16))
    elif what == "random":
        blob = bytearray(rnd.getrandbits(8) for _ in range(len(blob)))
    elif len(blob) >= 4:
        value = {"nan": float("nan"), "inf": float("inf"), "huge": 3e38}[what]
        at = 4 * rnd.randrange(len(blob) // 4)
        blob[at:at + 4] = struct.pack("<f", value)
    return parts[:i] + [bytes(blob)] + parts[i + 1:]


def _mutate_parts(parts: list[bytes], rnd: random.Random) -> list[bytes]:
    what = rnd.choice(("drop", "dup", "swap", "add", "many", "topic", "header_bytes"))
    parts = list(parts)
    if what == "drop" and parts:
        parts.pop(rnd.randrange(len(parts)))
    elif what == "dup" and parts:
        parts.insert(rnd.randrange(len(parts)), parts[rnd.randrange(len(parts))])
    elif what == "swap" and len(parts) > 2:
        a, b = rnd.sample(range(len(parts)), 2)
        parts[a], parts[b] = parts[b], parts[a]
    elif what == "add":
        parts.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 32))))
    elif what == "many":
        parts += [b"\x00" * 4] * rnd.choice((60, 70, 1000))
    elif not parts:
        return [b"pose"]
    elif what == "topic":
        parts[0] = rnd.choice((b"", b"pos", b"pose\x00", b"POSE", bytes(rnd.getrandbits(8) for _ in range(8))))
    elif len(parts) > 1:
        parts[1] = rnd.choice((b"", b"{", b"\xff\xfe", b"[" * 100_000, b"{}" * 40_000, b'{"schema": NaN}',
                               parts[1][: rnd.randrange(len(parts[1]) + 1)],
                               parts[1].replace(b'"t_capture":', b'"t_capture":1e999,"x":'),
                               bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200)))))
    return parts


def mutate(parts: list[bytes], rnd: random.Random) -> list[bytes]:
    """One to three hostile changes to a message (or a message of random bytes)."""
    if rnd.random() < 0.1:
        return [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 40))) for _ in range(rnd.randint(0, 5))]
    parts = list(parts)
    for _ in range(rnd.randint(1, 3)):
        kind = rnd.choice(("field", "field", "specs", "blobs", "parts"))
        if kind in ("field", "specs"):
            try:
                header = json.loads(parts[1])
            except (ValueError, IndexError, RecursionError):
                continue
            if not isinstance(header, dict):
                continue
            (_set_field if kind == "field" else _mutate_specs)(header, rnd)
            parts[1] = json.dumps(header, allow_nan=True, default=str).encode("utf-8", "surrogatepass")
        elif kind == "blobs":
            parts = _mutate_blobs(parts, rnd)
        else:
            parts = _mutate_parts(parts, rnd)
    return parts


def classify(parts) -> str:
    """"accepted", "rejected" (WireError) or "escaped: <type>" (a bug)."""
    try:
        decode(parts)
        return "accepted"
    except WireError:
        return "rejected"
    except Exception as exc:  # noqa: BLE001 - exactly what this tool looks for
        return f"escaped: {type(exc).__name__}: {exc}"


def run_property(examples: int) -> Counter:
    """``examples`` hypothesis-generated hostile messages through ``decode``; the outcome counts."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    base = real_messages()
    counts: Counter = Counter()

    @settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(base), st.randoms(use_true_random=False))
    def property_(parts, rnd):
        outcome = classify(mutate(parts, rnd))
        counts[outcome.split(":")[0]] += 1
        assert not outcome.startswith("escaped"), outcome

    property_()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz_wire", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000, help="hostile messages to try (default: %(default)s)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        counts = run_property(args.examples)
    except AssertionError as exc:
        print(f"fuzz_wire: an exception other than WireError escaped decode: {exc}", file=sys.stderr)
        return 1
    total = sum(counts.values())
    print(f"{total} hostile messages in {time.perf_counter() - started:.0f} s: {counts['rejected']} rejected with "
          f"WireError, {counts['accepted']} accepted as valid frames, {counts['escaped']} other exceptions escaped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

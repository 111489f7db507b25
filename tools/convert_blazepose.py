"""Convert MediaPipe's BlazePose networks (.tflite, from the mediapipe wheel) to ONNX.

Tool-only dependencies: ``tensorflow-cpu`` and ``tf2onnx`` (plus ``onnx`` and ``onnxruntime`` for the
check). They conflict with mediapipe's protobuf pin, so install them into a separate venv::

    python3 -m venv /work/venv-tf
    /work/venv-tf/bin/pip install tensorflow-cpu==2.19.1 tf2onnx==1.17.0 onnx onnxruntime
    /work/venv-tf/bin/python -m tools.convert_blazepose \\
        --mediapipe-dir /work/venv/lib/python3.11/site-packages/mediapipe

Users never need this: the converted files are committed under engines/models/blazepose/.

Why the detector needs an extra step: ``pose_detection.tflite`` stores its weights sparse and fp16
(38 DENSIFY ops feeding DEQUANTIZE ops), which tf2onnx cannot convert. We fold every DENSIFY and
DEQUANTIZE whose input is a constant into a plain fp32 constant: the dense values are read from the
TFLite interpreter run once with ``experimental_preserve_all_tensors=True`` and without the default
XNNPACK delegate (with XNNPACK those intermediate tensors read as zeros), written into the tensors'
buffers, and the folding ops are removed from the flatbuffer. The fp16 -> fp32 cast is exact, so the
folded model computes the same function. The landmark model gets the same folding (its fp16 weights
are DEQUANTIZE'd at run time too) so both ONNX files carry fp32 weights and no Cast nodes.
"""
from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np

from semgcn.checksums import file_sha256

MODELS = {
    # our ONNX name: path of the .tflite inside the mediapipe package
    "pose_detection.onnx": "modules/pose_detection/pose_detection.tflite",
    "pose_landmark_full.onnx": "modules/pose_landmark/pose_landmark_full.tflite",
}
#: Outputs kept per model (None: all). The landmark model's segmentation mask (Identity_2) is dropped:
#: the product never uses it, and pruning its decoder saves run time.
KEEP_OUTPUTS = {
    "pose_detection.onnx": None,
    "pose_landmark_full.onnx": ["Identity", "Identity_1", "Identity_3", "Identity_4"],
}
FOLDABLE_OPS = ("DENSIFY", "DEQUANTIZE")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "engines" / "models" / "blazepose"


def _require_tools():
    """Import TensorFlow and tf2onnx or exit with a message that says what to install."""
    try:
        import tensorflow as tf  # noqa: F401
        import tf2onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        sys.exit(
            f"convert_blazepose needs tool-only packages that are missing ({exc.name}).\n"
            "Install them into a SEPARATE venv (they conflict with mediapipe's protobuf pin):\n"
            "  python3 -m venv /work/venv-tf\n"
            "  /work/venv-tf/bin/pip install tensorflow-cpu==2.19.1 tf2onnx==1.17.0 onnx onnxruntime\n"
            "and run this tool with /work/venv-tf/bin/python -m tools.convert_blazepose")
    return tf, tf2onnx


def _find_mediapipe_dir(given: str | None) -> Path:
    """The mediapipe package folder: --mediapipe-dir, or the one importable here."""
    if given:
        path = Path(given)
    else:
        import importlib.util
        spec = importlib.util.find_spec("mediapipe")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("mediapipe is not importable from this interpreter; pass --mediapipe-dir "
                     "(e.g. /work/venv/lib/python3.11/site-packages/mediapipe)")
        path = Path(list(spec.submodule_search_locations)[0])
    if not (path / MODELS["pose_detection.onnx"]).is_file():
        sys.exit(f"{path} holds no {MODELS['pose_detection.onnx']}: is it mediapipe 0.10.14's package?")
    return path


def _op_name(model, op, names: dict[int, str]) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    return names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")


def fold_constant_weights(tflite_path: Path, out_path: Path) -> int:
    """Fold DENSIFY/DEQUANTIZE of constants into fp32 constants; returns how many ops were folded.

    Args:
        tflite_path: the source .tflite.
        out_path: where the folded .tflite is written.
    """
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(tflite_path))
    graph = model.subgraphs[0]
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}

    # Dense values of every intermediate tensor; XNNPACK off, else the preserved tensors are zeros.
    interpreter = tf.lite.Interpreter(
        model_path=str(tflite_path), experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()

    def is_constant(index: int) -> bool:
        buffer = model.buffers[graph.tensors[index].buffer]
        return buffer.data is not None and len(buffer.data) > 0

    kept, folded = [], 0
    for op in graph.operators:  # operators are topologically sorted, so one pass suffices
        if _op_name(model, op, names) in FOLDABLE_OPS and all(is_constant(i) for i in op.inputs):
            out_index = op.outputs[0]
            value = np.ascontiguousarray(interpreter.get_tensor(out_index).astype(np.float32))
            tensor = graph.tensors[out_index]
            tensor.type = schema.TensorType.FLOAT32
            tensor.sparsity = None
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(value.tobytes(), dtype=np.uint8)
            model.buffers.append(buffer)
            tensor.buffer = len(model.buffers) - 1
            folded += 1
        else:
            kept.append(op)
    graph.operators = kept
    _drop_unused_tensors(graph, model)
    flatbuffer_utils.write_model(model, str(out_path))
    return folded


def _drop_unused_tensors(graph, model) -> None:
    """Remove tensors no op uses any more (the sparse fp16 originals) and renumber the rest.

    tf2onnx reads every tensor that has a buffer, and cannot read a sparse one.
    """
    used = set(graph.inputs) | set(graph.outputs)
    for op in graph.operators:
        used.update(i for i in op.inputs if i >= 0)
        used.update(op.outputs)
    new_index = {old: new for new, old in enumerate(sorted(used))}
    for old, tensor in enumerate(graph.tensors):
        if old not in used and tensor.buffer > 0:
            model.buffers[tensor.buffer].data = None  # keep buffer numbering, drop the bytes
    graph.tensors = [graph.tensors[old] for old in sorted(used)]
    remap = lambda indices: [new_index[i] if i >= 0 else i for i in indices]  # noqa: E731
    graph.inputs, graph.outputs = remap(graph.inputs), remap(graph.outputs)
    for op in graph.operators:
        op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)


def convert(tflite_path: Path, onnx_path: Path, opset: int, outputs: list[str] | None) -> None:
    """Fold the weights of ``tflite_path`` and convert it to ``onnx_path`` with tf2onnx.

    Args:
        tflite_path: the source .tflite.
        onnx_path: the ONNX file to write.
        opset: ONNX opset for tf2onnx.
        outputs: names of the outputs to keep (None: all of them).
    """
    import tf2onnx

    with tempfile.TemporaryDirectory() as tmp:
        dense = Path(tmp) / "dense.tflite"
        folded = fold_constant_weights(tflite_path, dense)
        print(f"  folded {folded} DENSIFY/DEQUANTIZE ops of constants into fp32 weights")
        tf2onnx.convert.from_tflite(str(dense), opset=opset, output_names=outputs,
                                    output_path=str(onnx_path))


def check(tflite_path: Path, onnx_path: Path, seed: int = 0) -> float:
    """Largest relative |TFLite - ONNX Runtime| over the ONNX outputs on one random input.

    The difference of each output is divided by max(1, largest |TFLite value|), and the input is
    uniform in [0, 1], a valid input of both models (TFLite runs the model as shipped).

    Args:
        tflite_path: the original .tflite (run by TensorFlow Lite with its default delegate).
        onnx_path: the converted model (run by ONNX Runtime on the CPU).
        seed: seed of the random input.
    """
    import onnxruntime as ort
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(tflite_path))
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    x = np.random.default_rng(seed).uniform(0, 1, detail["shape"]).astype(np.float32)
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    reference = {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: x})
    worst = 0.0
    for meta, value in zip(session.get_outputs(), outputs):
        ref = reference[meta.name]
        diff = float(np.max(np.abs(value - ref)) / max(1.0, float(np.max(np.abs(ref)))))
        print(f"  {meta.name:12s} {str(value.shape):18s} relative max |tflite - onnx| = {diff:.2e}")
        worst = max(worst, diff)
    return worst


def write_notice(out_dir: Path, mp_dir: Path, command: str, versions: dict[str, str]) -> None:
    """Write NOTICE: licence, origin of each model, checksums and the exact command."""
    lines = [
        "BlazePose models converted to ONNX",
        "==================================",
        "",
        "The ONNX files in this folder are conversions of the pose models shipped in the MediaPipe",
        f"Python wheel (mediapipe {versions['mediapipe']}), Copyright The MediaPipe Authors,",
        "licensed under the Apache License, Version 2.0: https://www.apache.org/licenses/LICENSE-2.0",
        "Origin: https://github.com/google-ai-edge/mediapipe (mediapipe/modules/pose_detection,",
        "mediapipe/modules/pose_landmark). Model card: BlazePose GHUM 3D (full).",
        "",
        "Changes: the sparse fp16 weights were densified and cast to fp32 (an exact cast), then the",
        f"graphs were converted with tf2onnx {versions['tf2onnx']} (TensorFlow {versions['tensorflow']}).",
        "The landmark model keeps the outputs Identity (landmarks), Identity_1 (pose presence),",
        "Identity_3 (heatmap) and Identity_4 (world landmarks); its segmentation output is pruned.",
        "",
        "Files:",
    ]
    for onnx_name, rel in MODELS.items():
        lines += [f"  {onnx_name}  sha256 {file_sha256(out_dir / onnx_name)}",
                  f"    from mediapipe/{rel}  sha256 {file_sha256(mp_dir / rel)}"]
    lines += ["", "Made by (repo root, on " + datetime.date.today().isoformat() + "):", "  " + command,
              "Re-running it gives files with the same weights and check figures, but tf2onnx's",
              "node naming makes their bytes (and checksums) differ from run to run.", ""]
    (out_dir / "NOTICE").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.convert_blazepose",
        description="Convert mediapipe's pose_detection and pose_landmark_full .tflite models to ONNX "
                    "(needs tensorflow-cpu + tf2onnx, in a separate venv).")
    parser.add_argument("--mediapipe-dir", default=None,
                        help="the installed mediapipe package folder (default: the importable one)")
    parser.add_argument("--out-dir", default=str(DEFAULT_OUT),
                        help="where the .onnx files and NOTICE go (default: engines/models/blazepose)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--tolerance", type=float, default=1e-3,
                        help="largest allowed relative |TFLite - ONNX| on the check input (default 1e-3)")
    args = parser.parse_args(argv)

    tf, tf2onnx = _require_tools()
    mp_dir = _find_mediapipe_dir(args.mediapipe_dir)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    worst = 0.0
    for onnx_name, rel in MODELS.items():
        print(f"{rel} -> {out_dir / onnx_name}")
        convert(mp_dir / rel, out_dir / onnx_name, args.opset, KEEP_OUTPUTS[onnx_name])
        worst = max(worst, check(mp_dir / rel, out_dir / onnx_name))
    version_file = next(mp_dir.parent.glob("mediapipe-*.dist-info"), None)
    versions = {"mediapipe": version_file.name.removeprefix("mediapipe-").removesuffix(".dist-info")
                if version_file else "unknown",
                "tf2onnx": tf2onnx.__version__, "tensorflow": tf.__version__}
    command = f"{sys.executable} -m tools.convert_blazepose " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    write_notice(out_dir, mp_dir, command, versions)
    print(f"worst |tflite - onnx| = {worst:.2e} (tolerance {args.tolerance})")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())

"""A generic TensorRT 10 engine: ONNX -> FP16 plan (cached on disk) -> run on numpy arrays.

    engine = TrtEngine("model.onnx", fp16=True, input_shapes={"keypoints": ((1, 16, 2), (1, 16, 2), (256, 16, 2))})
    outputs = engine(keypoints=x)            # {"joints_3d": np.ndarray}

Used by the lifter (``engines/backends/lifter_tensorrt.py``) and the detector. Written against the
TensorRT 10 Python API with named tensors (``num_io_tensors``, ``set_input_shape``,
``set_tensor_address``, ``execute_async_v3``); CUDA memory and streams come from NVIDIA's
``cuda-python`` runtime bindings (``cuda.bindings.runtime``, as in TensorRT's own Python samples),
which is small and needs no PyTorch. Install on a machine with an NVIDIA GPU and CUDA:
``pip install "tensorrt>=10,<11" cuda-python``. TensorRT 11 removed ``BuilderFlag.FP16``: there the
engine is built in the ONNX file's own precision (FP32), with a warning.

The serialized plan is cached under ``cache_dir`` keyed by the GPU name, the TensorRT version, the
ONNX file's SHA-256, the precision and the shape profiles: a plan is only valid for the GPU and
TensorRT version that built it, and building takes seconds to minutes.

Everything up to the TensorRT calls (the cache key, the shape profiles, the error when TensorRT is
missing) is pure Python and tested everywhere; the GPU path itself has not run on the development
machines (no GPU there).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from semgcn.checksums import file_sha256

#: Shown when ``tensorrt`` (or the CUDA bindings) cannot be imported.
INSTALL_HINT = (
    "TensorRT backend unavailable: {what}. It needs an NVIDIA GPU with a CUDA driver and the Python "
    "packages `tensorrt` (10 or later) and `cuda-python`: `pip install tensorrt cuda-python` "
    "(TensorRT 10.x builds FP16 engines from our FP32 ONNX files: `pip install \"tensorrt>=10,<11\" cuda-python`; "
    "11.x builds them in FP32). Use backend='onnxruntime' on machines without them."
)
#: Default folder for built plans (ignored by git); override with $SEMGCN_TRT_CACHE or cache_dir=.
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / ".trt_cache"

ShapeTriple = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
log = logging.getLogger(__name__)


class TensorRTUnavailable(ImportError):
    """TensorRT or the CUDA runtime bindings are not installed (the message says what to install)."""


def import_tensorrt():
    """``import tensorrt`` (version 10 or later), or raise :class:`TensorRTUnavailable`."""
    try:
        import tensorrt as trt
    except Exception as exc:  # ImportError, or OSError when libnvinfer is missing
        raise TensorRTUnavailable(INSTALL_HINT.format(what=f"cannot import tensorrt ({exc})")) from exc
    major = int(str(trt.__version__).split(".")[0])
    if major < 10:
        raise TensorRTUnavailable(INSTALL_HINT.format(what=f"tensorrt {trt.__version__} is older than 10"))
    return trt


def import_cudart():
    """The CUDA runtime bindings of ``cuda-python`` (new and old module layout)."""
    try:
        from cuda.bindings import runtime as cudart
    except Exception:
        try:
            from cuda import cudart  # cuda-python < 12.6
        except Exception as exc:
            raise TensorRTUnavailable(INSTALL_HINT.format(what=f"cannot import cuda-python ({exc})")) from exc
    return cudart


def engine_cache_key(model_sha256: str, gpu_name: str, trt_version: str, fp16: bool,
                     profiles: dict[str, ShapeTriple]) -> str:
    """Cache key of a plan: changes with the model, the GPU, TensorRT, the precision or the profiles.

    Args:
        model_sha256: hash of the ONNX file.
        gpu_name: CUDA device name (e.g. "NVIDIA GeForce RTX 3060").
        trt_version: ``tensorrt.__version__``.
        fp16: FP16 allowed.
        profiles: input name -> (min, opt, max) shapes.
    Returns:
        24 hex characters.
    """
    blob = json.dumps({"model": model_sha256, "gpu": gpu_name, "trt": str(trt_version), "fp16": bool(fp16),
                       "profiles": {k: [list(s) for s in v] for k, v in sorted(profiles.items())}},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def plan_path(cache_dir, onnx_path, key: str) -> Path:
    """Where the plan of ``onnx_path`` with cache ``key`` lives."""
    return Path(cache_dir) / f"{Path(onnx_path).stem}-{key}.plan"


def resolve_profiles(network_inputs: dict[str, tuple[int, ...]], input_shapes: dict | None = None,
                     default_batch: tuple[int, int, int] = (1, 1, 256)) -> dict[str, ShapeTriple]:
    """Optimisation-profile shapes for every network input.

    Args:
        network_inputs: input name -> shape with -1 for dynamic dimensions (as TensorRT reports).
        input_shapes: input name -> ``(min, opt, max)`` shapes given by the caller; inputs not
            listed get ``default_batch`` on a dynamic axis 0 and their static size elsewhere.
        default_batch: (min, opt, max) of a dynamic leading (batch) dimension.
    Returns:
        input name -> ``(min, opt, max)`` tuples of ints.
    Raises:
        ValueError: unknown input names, rank or static-size mismatches, min <= opt <= max broken,
            or a dynamic non-batch dimension without a given range.
    """
    input_shapes = dict(input_shapes or {})
    unknown = set(input_shapes) - set(network_inputs)
    if unknown:
        raise ValueError(f"input_shapes names {sorted(unknown)} are not inputs of the model "
                         f"({sorted(network_inputs)})")
    profiles: dict[str, ShapeTriple] = {}
    for name, dims in network_inputs.items():
        dims = tuple(int(d) for d in dims)
        if name in input_shapes:
            triple = tuple(tuple(int(v) for v in s) for s in input_shapes[name])
            if len(triple) != 3 or any(len(s) != len(dims) for s in triple):
                raise ValueError(f"{name}: give (min, opt, max) shapes of rank {len(dims)}, got {input_shapes[name]}")
            for axis, d in enumerate(dims):
                if d >= 0 and any(s[axis] != d for s in triple):
                    raise ValueError(f"{name}: axis {axis} is fixed at {d} in the model, got {triple}")
        else:
            if any(d < 0 for d in dims[1:]):
                raise ValueError(f"{name} has dynamic non-batch dimensions {dims}: pass input_shapes={{'{name}': (min, opt, max)}}")
            if dims and dims[0] < 0:
                triple = tuple((b,) + dims[1:] for b in default_batch)
            else:
                triple = (dims, dims, dims)
        lo, opt, hi = triple
        if not all(a <= b <= c and a >= 1 for a, b, c in zip(lo, opt, hi)):
            raise ValueError(f"{name}: need 1 <= min <= opt <= max on every axis, got {triple}")
        profiles[name] = triple
    return profiles


def fp16_builder_flag(trt, fp16: bool):
    """The builder flag that allows FP16 kernels, or None (with a warning) where there is none.

    TensorRT 10 builds "weakly typed" networks and takes ``BuilderFlag.FP16``; TensorRT 11 removed
    that flag (networks are strongly typed: precision comes from the ONNX graph's own types). There
    the engine is built in the ONNX file's precision (FP32 for our exports).
    """
    if not fp16:
        return None
    flag = getattr(getattr(trt, "BuilderFlag", None), "FP16", None)
    if flag is None:
        msg = (f"TensorRT {getattr(trt, '__version__', '?')} has no BuilderFlag.FP16 (strongly typed networks): "
               "building in the ONNX model's own precision (FP32). For FP16 convert the ONNX file to mixed "
               "precision first (NVIDIA ModelOpt AutoCast) or install tensorrt 10.x.")
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        log.warning(msg)
    return flag


def check_call(result):
    """Unpack a ``cuda-python`` call result ``(err, *values)``; raise on a CUDA error."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(getattr(err, "value", err)) != 0:
        raise RuntimeError(f"CUDA error {err}")
    return values[0] if len(values) == 1 else (tuple(values) or None)


def gpu_name(cudart, device: int = 0) -> str:
    """Name of CUDA device ``device`` (part of the cache key)."""
    props = check_call(cudart.cudaGetDeviceProperties(device))
    name = props.name
    return (name.decode(errors="replace") if isinstance(name, bytes) else str(name)).strip("\x00 ")


class _DeviceBuffer:
    """A growable CUDA allocation (freed on :meth:`free` or garbage collection)."""

    def __init__(self, cudart):
        self._cudart, self.ptr, self.nbytes = cudart, None, 0

    def ensure(self, nbytes: int) -> int:
        if nbytes > self.nbytes:
            self.free()
            self.ptr = check_call(self._cudart.cudaMalloc(max(int(nbytes), 256)))
            self.nbytes = int(nbytes)
        return int(self.ptr)

    def free(self) -> None:
        if self.ptr is not None:
            self._cudart.cudaFree(self.ptr)
            self.ptr, self.nbytes = None, 0

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass  # interpreter shutdown: the driver frees it anyway


class TrtEngine:
    """Build (or load from the cache) a TensorRT engine from an ONNX file and run it.

    Args:
        onnx_path: the ONNX model.
        fp16: allow FP16 kernels (``BuilderFlag.FP16``); outputs stay in the model's dtypes.
        cache_dir: folder of cached plans (default ``$SEMGCN_TRT_CACHE`` or ``<repo>/.trt_cache``).
        input_shapes: input name -> ``(min, opt, max)`` shapes for the optimisation profile; inputs
            left out get batch range ``default_batch`` on a dynamic axis 0.
        default_batch: (min, opt, max) of dynamic batch axes not given in ``input_shapes``.
        workspace_bytes: builder workspace limit.
        device: CUDA device index.
        verbose: TensorRT log level INFO instead of WARNING.
    Raises:
        TensorRTUnavailable: tensorrt or cuda-python missing (the message says what to install).
        FileNotFoundError: no ONNX file.
        RuntimeError: parsing or building failed (with TensorRT's messages).
    """

    def __init__(self, onnx_path, fp16: bool = True, cache_dir=None, input_shapes: dict | None = None,
                 default_batch: tuple[int, int, int] = (1, 1, 256), workspace_bytes: int = 1 << 30,
                 device: int = 0, verbose: bool = False):
        self.onnx_path = Path(onnx_path)
        if not self.onnx_path.is_file():
            raise FileNotFoundError(f"ONNX model not found: {self.onnx_path}")
        trt = self._trt = import_tensorrt()
        cudart = self._cudart = import_cudart()
        check_call(cudart.cudaSetDevice(device))
        self._logger = trt.Logger(trt.Logger.INFO if verbose else trt.Logger.WARNING)
        self.cache_dir = Path(cache_dir or os.environ.get("SEMGCN_TRT_CACHE") or DEFAULT_CACHE_DIR)
        self.gpu_name = gpu_name(cudart, device)
        self.model_sha256 = file_sha256(self.onnx_path)
        self.fp16 = fp16
        self.workspace_bytes = int(workspace_bytes)
        network_inputs = self._network_input_shapes()
        self.profiles = resolve_profiles(network_inputs, input_shapes, default_batch)
        key = engine_cache_key(self.model_sha256, self.gpu_name, trt.__version__, fp16, self.profiles)
        self.plan_path = plan_path(self.cache_dir, self.onnx_path, key)
        self.built_now = not self.plan_path.is_file()
        plan = self._build_plan() if self.built_now else self.plan_path.read_bytes()
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise RuntimeError(f"TensorRT could not load the plan {self.plan_path}; delete it to rebuild")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        is_input = {n: self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self.input_names = [n for n in names if is_input[n]]
        self.output_names = [n for n in names if not is_input[n]]
        self._dtypes = {n: np.dtype(trt.nptype(self.engine.get_tensor_dtype(n))) for n in names}
        self._buffers = {n: _DeviceBuffer(cudart) for n in names}
        self._stream = check_call(cudart.cudaStreamCreate())

    # -- building ---------------------------------------------------------------------------
    def _parse(self, builder):
        trt = self._trt
        network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
        parser = trt.OnnxParser(network, self._logger)
        if not parser.parse(self.onnx_path.read_bytes()):
            errors = "\n".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise RuntimeError(f"TensorRT could not parse {self.onnx_path}:\n{errors}")
        return network, parser

    def _network_input_shapes(self) -> dict[str, tuple[int, ...]]:
        builder = self._trt.Builder(self._logger)
        network, _parser = self._parse(builder)
        return {network.get_input(i).name: tuple(network.get_input(i).shape) for i in range(network.num_inputs)}

    def _build_plan(self) -> bytes:
        trt = self._trt
        builder = trt.Builder(self._logger)
        network, _parser = self._parse(builder)  # keep the parser alive while building
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, self.workspace_bytes)
        flag = fp16_builder_flag(trt, self.fp16)
        if flag is not None:
            config.set_flag(flag)
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in self.profiles.items():
            profile.set_shape(name, lo, opt, hi)
        config.add_optimization_profile(profile)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise RuntimeError(f"TensorRT failed to build an engine from {self.onnx_path} (see its log above)")
        plan = bytes(serialized)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.plan_path.with_suffix(".tmp")
        tmp.write_bytes(plan)
        tmp.replace(self.plan_path)  # atomic: a half-written plan is never picked up
        return plan

    # -- running ----------------------------------------------------------------------------
    def __call__(self, **inputs) -> dict[str, np.ndarray]:
        """Run the engine on host arrays; returns ``{output name: np.ndarray}``.

        Raises:
            ValueError: missing / unknown input names, or a shape outside the profile.
        """
        cudart = self._cudart
        if set(inputs) != set(self.input_names):
            raise ValueError(f"inputs must be exactly {self.input_names}, got {sorted(inputs)}")
        host_inputs = {}
        for name in self.input_names:
            arr = np.ascontiguousarray(inputs[name], dtype=self._dtypes[name])
            lo, _, hi = self.profiles[name]
            if arr.ndim != len(lo) or any(not a <= s <= b for a, s, b in zip(lo, arr.shape, hi)):
                raise ValueError(f"{name}: shape {arr.shape} is outside the engine's profile {lo}..{hi}")
            self.context.set_input_shape(name, arr.shape)
            ptr = self._buffers[name].ensure(arr.nbytes)
            check_call(cudart.cudaMemcpyAsync(ptr, arr.ctypes.data, arr.nbytes,
                                              cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, self._stream))
            self.context.set_tensor_address(name, ptr)
            host_inputs[name] = arr  # keep alive until the copy is done
        outputs = {}
        for name in self.output_names:
            shape = tuple(self.context.get_tensor_shape(name))
            out = np.empty(shape, dtype=self._dtypes[name])
            self.context.set_tensor_address(name, self._buffers[name].ensure(out.nbytes))
            outputs[name] = out
        if not self.context.execute_async_v3(int(self._stream)):
            raise RuntimeError("TensorRT execute_async_v3 failed")
        for name, out in outputs.items():
            check_call(cudart.cudaMemcpyAsync(out.ctypes.data, self._buffers[name].ptr, out.nbytes,
                                              cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost, self._stream))
        check_call(cudart.cudaStreamSynchronize(self._stream))
        return outputs

    def describe(self) -> dict:
        """GPU, TensorRT version, plan path and profiles (for ``info`` fields and logs)."""
        return {"gpu": self.gpu_name, "tensorrt": self._trt.__version__, "plan": str(self.plan_path),
                "fp16": self.fp16, "profiles": {k: [list(s) for s in v] for k, v in self.profiles.items()},
                "built_now": self.built_now}

    def close(self) -> None:
        """Free device memory and the stream."""
        for buf in self._buffers.values():
            buf.free()
        if getattr(self, "_stream", None) is not None:
            self._cudart.cudaStreamDestroy(self._stream)
            self._stream = None

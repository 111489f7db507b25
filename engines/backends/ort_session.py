"""One ``onnxruntime.InferenceSession`` factory for the detector and lifter backends.

Both want the same things: a thread count, ONNX Runtime's own log quiet, only the providers that
exist here (falling back to the CPU), and one warning that says so when a requested provider (CUDA)
could not be used.
"""
from __future__ import annotations

import logging
import warnings

log = logging.getLogger(__name__)

CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"


def _name(provider) -> str:
    """A provider's name; ONNX Runtime also takes ``(name, options)`` pairs."""
    return provider[0] if isinstance(provider, tuple) else provider


def create_session(model_path, providers, threads: int | None, user: str, hint: str = "",
                   spinning: bool = True):
    """An InferenceSession on the usable ones of ``providers``, warning about those left out.

    Args:
        model_path: the .onnx file.
        providers: execution providers in order of preference (names or ``(name, options)``).
        threads: intra-op threads (0 / None: ONNX Runtime's default, all cores).
        user: what runs the model, for the warning ("detector", "lifter").
        hint: extra advice appended to the warning.
        spinning: let idle worker threads busy-wait (ONNX Runtime's default).
    Raises:
        whatever ``onnxruntime.InferenceSession`` raises for a missing or unreadable file.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    options.log_severity_level = 3  # our own warning below says what matters
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    available = ort.get_available_providers()
    usable = [p for p in providers if _name(p) in available]
    session = ort.InferenceSession(str(model_path), sess_options=options, providers=usable or [CPU])
    used = session.get_providers()
    missing = [_name(p) for p in providers if _name(p) not in used]
    if missing:
        msg = (f"ONNX Runtime could not use {missing} (available here: {available}); the {user} runs on "
               f"{used}. For CUDA install onnxruntime-gpu with a matching CUDA / cuDNN{hint}.")
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
        log.warning(msg)
    return session

"""Inference backends of the engines (one module per engine and runtime, imported lazily).

The backend names, defined once for both engines and every command line. A name says the runtime and,
where it matters, the device: ``-cuda`` runs on an NVIDIA GPU and falls back to the CPU with a
warning when CUDA cannot be used; ``tensorrt`` always needs a GPU.
"""

import os

#: The most CPU threads an engine may be given: more than the machine's cores only slows inference down,
#: and a typo (``threads=6400``) must not create threads until no process on the machine can fork.
MAX_THREADS = os.cpu_count() or 1
#: ``engines.detector.PoseDetector`` backends.
DETECTOR_BACKENDS = ("onnxruntime", "onnxruntime-cuda", "tensorrt", "mediapipe")
#: ``engines.lifter.Lifter`` backends.
LIFTER_BACKENDS = ("onnxruntime", "onnxruntime-cuda", "tensorrt", "torch", "torch-cuda")

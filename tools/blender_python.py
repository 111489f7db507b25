"""A Python that can ``import bpy`` (Blender as a module, from PyPI), in a throwaway venv, for the checks
that run Blender's own code (``tools.check_bvh_blender``, ``tools.check_vmc_blender``).

bpy wheels exist only for the Python version each Blender release was built with (bpy 4.2: Python
3.11, the project's). The first call makes the venv and downloads bpy (about 350 MB); later calls
reuse it. Nothing here is part of the live app or of CI.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEFAULT_VENV = Path("/tmp/bpy-venv")
BPY_VERSION = "4.2.0"


def blender_python(venv: Path = DEFAULT_VENV, version: str = BPY_VERSION) -> str:
    """The venv's interpreter, made (and bpy installed into it) if needed.

    Raises:
        RuntimeError: when the venv cannot be made or bpy not installed (the pip output's last lines).
    """
    python = venv / "bin" / "python"
    if python.exists() and _has_bpy(python):
        return str(python)
    if sys.version_info[:2] != (3, 11):
        raise RuntimeError(f"bpy {version} needs Python 3.11 (this is {sys.version.split()[0]}); "
                           "pass --blender-python with one that has bpy")
    steps = [[sys.executable, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", f"bpy=={version}"]]
    for step in steps:
        run = subprocess.run(step, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(step)} failed: {(run.stderr or run.stdout).strip()[-400:]}")
    return str(python)


def _has_bpy(python: Path) -> bool:
    return subprocess.run([str(python), "-c", "import bpy"], capture_output=True).returncode == 0


def run_blender_script(python: str, script: str, *args: str, timeout_s: float = 600) -> dict:
    """Run ``script`` (``python -c``) with the bpy interpreter ``python``; returns the JSON of the line
    it prints as ``RESULT <json>``.

    Raises:
        RuntimeError: when it fails or prints no result (the exit code and its stderr's last lines).
    """
    run = subprocess.run([python, "-c", script, *args], capture_output=True, text=True, timeout=timeout_s)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if run.returncode != 0 or line is None:
        raise RuntimeError(f"Blender run failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
    return json.loads(line[len("RESULT "):])

"""The built-in ``demo`` source: a procedurally animated, software-rendered person with ground truth.

    from realtime.demo import DemoScene, DemoFrame
    scene = DemoScene(width=640, height=480, fps=30.0, seed=0, hfov_deg=60.0)
    frame = scene.render(index)  # deterministic for (seed, index); frame.t = index / fps

See docs/demo.md.
"""
from realtime.demo.scene import DemoFrame, DemoScene

__all__ = ["DemoFrame", "DemoScene"]

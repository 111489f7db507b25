"""The Open3D live skeleton viewer, a subscriber in its own process (docs/viewer.md).

Modules: ``geometry`` (meshes and lines), ``scene`` (placement, trail, smoothing), ``render`` (Open3D
drawing, offscreen rendering), ``camera`` (view maths), ``receiver`` (the ZeroMQ side), ``window``
(the live loop) and ``cli`` (``python -m realtime.viewer``).
"""

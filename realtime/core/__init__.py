"""The pipeline core: capture sources, the typed per-frame record, the pipeline loop and its stages
(smoothing, evaluation), timing statistics and the on-screen overlay.

Everything else in ``realtime`` (stream, recording, viewer, bridges, app) builds on this room;
this room imports none of them (docs/architecture.md).
"""

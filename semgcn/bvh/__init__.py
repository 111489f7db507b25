"""BVH, both directions: ``read`` (motion-capture clips, any rig, vectorised forward kinematics) and
``write`` (the 16-joint skeleton with per-frame rotations, from recorded or lifted joints).

The reading API is re-exported here (``from semgcn.bvh import read_bvh``), as it was before the
writer joined it; the writer is imported from ``semgcn.bvh.write``.
"""
from semgcn.bvh.read import (BvhError, BvhMotion, BvhSkeleton, bone_length_spread, detect_position_mode,
                             forward_kinematics, guess_unit, local_rotation, read_bvh, unit_scale)

__all__ = ["BvhError", "BvhMotion", "BvhSkeleton", "bone_length_spread", "detect_position_mode",
           "forward_kinematics", "guess_unit", "local_rotation", "read_bvh", "unit_scale"]

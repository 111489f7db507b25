"""The skeleton solver: from per-frame 3D joints to a constant-bone humanoid with joint rotations.

Every rotation consumer uses it: the live ``solve`` stage (``realtime.core.skeleton_stage``) for VMC,
Live Link and ROS 2, and the BVH exporter (``semgcn.bvh.write``). numpy and scipy only.

* ``rig``: the 19-bone humanoid (Unity ``HumanBodyBones`` names), T-pose rest, hinges and limits;
* ``lengths``: bone lengths estimated online, robust, then held (``BoneLengthEstimator``);
* ``parts``: head, hand and foot orientations from BlazePose's 33 landmarks;
* ``solve``: one frame's local rotations (``SkeletonSolver``);
* ``pose``: the result type ``SkeletonPose`` and forward kinematics;
* ``clip``: a whole recording at once (for BVH and evaluation);
* ``axes``: solver frame <-> camera, world, Unity, Unreal, Blender.

Conventions and maths: docs/skeleton_solver.md.
"""
from semgcn.solver.lengths import BoneLengthEstimator, LengthOptions
from semgcn.solver.pose import SkeletonPose, forward_kinematics
from semgcn.solver.rig import BONE_NAMES, BONE_PARENTS, NUM_BONES, RIG_NAME
from semgcn.solver.solve import SkeletonSolver, SolvedPose

__all__ = ["BONE_NAMES", "BONE_PARENTS", "BoneLengthEstimator", "LengthOptions", "NUM_BONES", "RIG_NAME",
           "SkeletonPose", "SkeletonSolver", "SolvedPose", "forward_kinematics"]

"""Training and evaluation data for the lifter.

* :mod:`semgcn.datasets.mocap`: BVH collections on the canonical skeleton, split by person, cached.
* :mod:`semgcn.datasets.cameras`: randomised virtual webcams, OpenCV projection.
* :mod:`semgcn.datasets.augment`: bone-length scaling, mirroring, detector-like 2D noise, dropped joints.
* :mod:`semgcn.datasets.builder`: poses -> (2D pixels, 3D camera-frame metres) samples and npz files.
* :mod:`semgcn.datasets.lifting`: the above put together for ``tools.train`` / ``evaluate`` / ``ablation``.
* :mod:`semgcn.datasets.h36m`: the standard Human3.6M npz files (SemGCN / VideoPose3D format).
"""

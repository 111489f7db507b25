"""The skeleton module must agree with shared/SKELETON.md, the single source of the joint layout."""
import re

import numpy as np

from semgcn import skeleton as sk


def test_parents_and_names_match_skeleton_md(shared_dir):
    text = (shared_dir / "SKELETON.md").read_text()
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*(\w+)\s*\|\s*([-\d]+)\s*\|", text, flags=re.M)
    assert len(rows) == sk.NUM_JOINTS
    for idx, name, parent in rows:
        assert sk.JOINT_NAMES[int(idx)] == name
        assert sk.PARENTS[int(idx)] == (-1 if parent == "-" else int(parent))
    listed = re.search(r"Parents, as a list: `\[([^\]]*)\]`", text).group(1)
    assert [int(p) for p in listed.split(",")] == list(sk.PARENTS)
    pairs = {tuple(map(int, p)) for p in re.findall(r"\((\d+),(\d+)\)", text)}
    assert pairs == set(sk.FLIP_PAIRS)


def test_adjacency_is_symmetric_tree_with_self_loops():
    adj = sk.adjacency_matrix()
    assert np.array_equal(adj, adj.T)
    assert np.all(np.diag(adj) == 1)
    assert (adj.sum() - sk.NUM_JOINTS) / 2 == sk.NUM_JOINTS - 1  # a tree: K-1 edges


def test_flip_permutation_is_an_involution_that_swaps_sides():
    perm = np.array(sk.FLIP_PERMUTATION)
    assert np.array_equal(perm[perm], np.arange(sk.NUM_JOINTS))
    for a, b in sk.FLIP_PAIRS:
        names = {sk.JOINT_NAMES[a], sk.JOINT_NAMES[b]}
        assert {n.replace("right_", "left_").replace("left_", "") for n in names} == {sk.JOINT_NAMES[a].split("_", 1)[1]}
        assert {n.split("_")[0] for n in names} == {"left", "right"}
        assert perm[a] == b
    for j in sk.CENTRE_JOINTS:
        assert perm[j] == j


def test_bone_lengths_of_a_known_pose():
    pose = np.zeros((sk.NUM_JOINTS, 3))
    pose[1] = [0.3, 0.4, 0.0]  # right hip 0.5 from the pelvis
    lengths = sk.bone_lengths(pose)
    assert lengths[sk.BONES.index((1, 0))] == 0.5
    assert sk.bone_side(12) == "left" and sk.bone_side(3) == "right" and sk.bone_side(9) == "centre"

"""Shared helpers of the viewer tests: a T-pose, frames, pixel classes, a loopback publisher."""
from __future__ import annotations

import threading
import time

import numpy as np
import zmq

from realtime.viewer.geometry import FRUSTUM_COLOUR, JOINT_COLOUR, SIDE_COLOURS, TRAIL_COLOUR
from realtime.core.records import FrameResult, PersonPose
from realtime.stream.wire import encode
from semgcn.skeleton import JOINT_INDEX as J


def t_pose() -> np.ndarray:
    """A standing T-pose facing the camera: camera frame (x right, y down), pelvis at the origin."""
    p = np.zeros((16, 3))
    p[J["right_hip"]], p[J["left_hip"]] = (-0.13, 0.0, 0.0), (0.13, 0.0, 0.0)
    p[J["right_knee"]], p[J["left_knee"]] = (-0.15, 0.45, 0.0), (0.15, 0.45, 0.0)
    p[J["right_ankle"]], p[J["left_ankle"]] = (-0.16, 0.88, 0.04), (0.16, 0.88, 0.04)
    p[J["spine"]], p[J["thorax"]], p[J["head"]] = (0.0, -0.24, 0.0), (0.0, -0.50, 0.0), (0.0, -0.72, -0.02)
    p[J["right_shoulder"]], p[J["left_shoulder"]] = (-0.19, -0.47, 0.0), (0.19, -0.47, 0.0)
    p[J["right_elbow"]], p[J["left_elbow"]] = (-0.46, -0.47, 0.0), (0.46, -0.47, 0.0)
    p[J["right_wrist"]], p[J["left_wrist"]] = (-0.72, -0.47, 0.0), (0.72, -0.47, 0.0)
    return p.astype(np.float32)


def make_frame(index=0, joints=None, root_translation=None, joints_world=None) -> FrameResult:
    people = [] if joints is None else [PersonPose(joints_3d=joints, root_translation=root_translation,
                                                   joints_world=joints_world)]
    return FrameResult(frame_index=index, t_capture=time.time(), image_size=(640, 480), source="test", people=people)


def classify(rgb) -> str:
    """Which palette entry a pixel shows: by brightness (background) and hue (bone sides, joints)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    if c.max() < 0.25:
        return "background"
    palette = dict(SIDE_COLOURS, joint=JOINT_COLOUR, frustum=FRUSTUM_COLOUR, trail=TRAIL_COLOUR)
    norm = c / c.max()
    return min(palette, key=lambda k: np.linalg.norm(norm - np.asarray(palette[k]) / max(palette[k])))


def bind_pub(ctx, address=None):
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    if address is None:
        port = pub.bind_to_random_port("tcp://127.0.0.1")
        address = f"tcp://127.0.0.1:{port}"
    else:
        pub.bind(address)
    return pub, address


def receive_until(receiver, pub, message, deadline_s=5.0):
    """Send ``message`` until the receiver decodes a frame (PUB/SUB drops until the link is up)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        pub.send_multipart(message)
        frame = receiver.poll(timeout_s=0.05)
        if frame is not None:
            return frame
    raise AssertionError("no frame received within the deadline")


class StreamingPublisher(threading.Thread):
    """Publishes the T-pose at ~30 fps on a random loopback port until stopped (at ``root`` if set)."""

    def __init__(self, person=True):
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.pub, self.address = bind_pub(self.ctx)
        self.person, self.stop, self.root = person, threading.Event(), None

    def run(self):
        i = 0
        while not self.stop.is_set():
            root = None if self.root is None else np.asarray(self.root, np.float32)
            self.pub.send_multipart(encode(make_frame(i, t_pose() if self.person else None, root)))
            i += 1
            time.sleep(1 / 30)
        self.pub.close()
        self.ctx.term()



def make_people_frame(index=0, ids=(3, 4, 9), roots=((-1.1, 0.0, 3.2), (0.0, 0.0, 3.6), (1.1, 0.0, 3.2)),
                      t_capture=None) -> FrameResult:
    """A frame of a several-people stream (schema semgcn.pose/2): T-poses with the given track ids at
    the given camera-frame pelvis positions."""
    people = []
    for i, root in zip(ids, roots):
        cam = t_pose().astype(np.float64) + root
        keypoints = (500.0 * cam[:, :2] / cam[:, 2:] + [320.0, 240.0]).astype(np.float32)
        people.append(PersonPose(id=i, keypoints_2d=keypoints, confidence=np.ones(16, np.float32), joints_3d=t_pose(),
                                 root_translation=np.asarray(root, np.float32)))
    return FrameResult(frame_index=index, t_capture=time.time() if t_capture is None else t_capture,
                       image_size=(640, 480), source="test", people=people, wire_major=2)

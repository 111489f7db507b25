"""Several people in the viewer (schema semgcn.pose/2): placement, group follow and the trail of one
person; offscreen pixels in each person's colour with their id above the head; meshes made and removed
as people come and go, in a real window fed by a real stream."""
from __future__ import annotations

import colorsys
import time

import numpy as np
import zmq

from realtime.core.palette import person_colours
from realtime.stream.wire import encode
from realtime.viewer.camera import look_at_view
from realtime.viewer.render import render_frame_to_image
from realtime.viewer.scene import SceneOptions, SceneState
from realtime.viewer.text import LINE_PX
from semgcn.skeleton import BONES, JOINT_INDEX as J, bone_side
from tests.test_realtime.test_viewer.viewer_fixtures import bind_pub, make_frame, make_people_frame, t_pose

IDS = (3, 4, 9)
ROOTS = ((-1.6, 0.0, 3.3), (0.0, 0.0, 3.6), (1.6, 0.0, 3.3))  # far enough apart that no arms overlap


def _hue(rgb) -> float:
    return 360.0 * colorsys.rgb_to_hsv(*(np.asarray(rgb, float) / 255.0))[0]


def _nearest_id(rgb, ids) -> int:
    """The id whose hue is nearest to the pixel's (shading changes brightness, not hue)."""
    hue = _hue(rgb)
    own = {i: 360.0 * colorsys.rgb_to_hsv(*person_colours(i).centre)[0] for i in ids}
    return min(ids, key=lambda i: abs((hue - own[i] + 180) % 360 - 180))


def test_scene_places_everybody_follows_the_group_and_trails_one_person():
    state = SceneState(SceneOptions(trail_joint="right_wrist", trail_seconds=1.0))
    for i in range(10):
        state.update(make_people_frame(i, IDS, ROOTS, t_capture=1000.0 + i / 30))
    assert [p.id for p in state.people] == list(IDS) and state.several
    for person, root in zip(state.people, ROOTS):
        assert np.allclose(person.joints[J["pelvis"]], np.array(root) * [1, -1, -1], atol=1e-6)
        assert person.colours == person_colours(person.id)
    assert np.allclose(state.look_at, np.mean(ROOTS, axis=0) * [1, -1, -1], atol=1e-6)  # the group's centre
    wrist = state.people[0].joints[J["right_wrist"]]
    assert state.trail_id == 3 and np.allclose(state.trail_points(), wrist)  # the first person's wrist
    # Person 3 leaves: their path is kept until it ages out, then the trail takes the first in view.
    state.update(make_people_frame(10, IDS[1:], ROOTS[1:], t_capture=1000.0 + 10 / 30))
    assert state.trail_id == 3 and not state.trail_visible and [p.id for p in state.people] == [4, 9]
    state.update(make_people_frame(11, IDS[1:], ROOTS[1:], t_capture=1002.0))
    assert state.trail_id == 4 and np.allclose(state.trail_points(), state.people[0].joints[J["right_wrist"]])
    chosen = SceneState(SceneOptions(trail_joint="right_wrist", trail_person=9))
    chosen.update(make_people_frame(0, IDS, ROOTS, t_capture=1000.0))
    assert chosen.trail_id == 9 and np.allclose(chosen.trail_points(), chosen.people[2].joints[J["right_wrist"]])
    # One person of a single-person stream: side colours, no ids shown, as before.
    single = SceneState()
    single.update(make_frame(0, t_pose()))
    assert not single.several and [p.id for p in single.people] == [0]


def test_snapshot_draws_each_person_in_their_colour_with_their_id_above_the_head():
    frame = make_people_frame(0, IDS, ROOTS)
    width, height = 640, 400
    centre = np.array([0.0, 0.0, -3.4])
    view = look_at_view(centre + [0.0, 0.5, 4.4], centre + [0, 0.1, 0], width, height, fov_deg=55)
    image = render_frame_to_image(frame, width, height, camera_view=view, show_grid=False, show_frustum=False)
    state = SceneState()
    state.update(frame)
    for person in state.people:
        brightness = {"left": [], "centre": [], "right": []}
        for child, parent in BONES:
            u, v = np.round(view.project((person.joints[[child]] + person.joints[[parent]]) / 2)[0]).astype(int)
            pixel = image[v, u]
            assert _nearest_id(pixel, IDS) == person.id, (person.id, child, pixel)
            brightness[bone_side(child)].append(int(pixel.astype(int).sum()))
        left, centre_line, right = (np.median(brightness[s]) for s in ("left", "centre", "right"))
        assert left > centre_line > right, (person.id, left, centre_line, right)  # left light, right dark
        # "id N" in the person's colour in the band of one text line above the head
        u, v = np.round(view.project(person.joints[[J["head"]]])[0]).astype(int)
        band = image[max(0, v - int(2 * LINE_PX)):v - 4, u - 40:u + 40].reshape(-1, 3)
        lit = [p for p in band if p.max() > 90 and _nearest_id(p, IDS) == person.id]
        assert len(lit) > 30, (person.id, len(lit))
    # The same frame from a single-person stream has no labels: only background above the heads.
    frame.wire_major = 1
    frame.people = frame.people[1:2]
    plain = render_frame_to_image(frame, width, height, camera_view=view, show_grid=False, show_frustum=False)
    u, v = np.round(view.project(state.people[1].joints[[J["head"]]])[0]).astype(int)
    assert plain[max(0, v - int(2 * LINE_PX)):v - 8, u - 40:u + 40].max() < 60


def test_live_window_adds_and_removes_people_as_they_come_and_go():
    from realtime.viewer.window import LiveViewer, WindowOptions

    ctx = zmq.Context()
    pub, address = bind_pub(ctx)
    viewer = LiveViewer(WindowOptions(connect=address, width=320, height=240, show_frustum=False))  # no yellow frustum
    try:
        viewer.open()

        def show(ids, roots):
            end = time.monotonic() + 10
            while time.monotonic() < end:
                pub.send_multipart(encode(make_people_frame(0, ids, roots)))
                viewer.step()
                if [p.id for p in viewer.state.people] == list(ids):
                    viewer.step()
                    return
            raise AssertionError(f"the viewer never showed {ids}")

        show(IDS, ROOTS)
        assert viewer.geometries.people_shown == list(IDS) and viewer.geometries.labels_shown == list(IDS)
        assert "people in view: id 3, id 4, id 9" in viewer.status_text()
        show((3, 9), (ROOTS[0], ROOTS[2]))  # person 4 left: their mesh and label are gone
        assert viewer.geometries.people_shown == [3, 9] and viewer.geometries.labels_shown == [3, 9]
        image = (viewer.capture() * 255).astype(np.uint8).reshape(-1, 3)
        seen = {_nearest_id(p, IDS) for p in image if p.max() > 90 and np.ptp(p.astype(int)) > 60}
        assert seen == {3, 9}
        show((4,), (ROOTS[1],))  # somebody new in the place of both
        assert viewer.geometries.people_shown == [4]
    finally:
        viewer.close()
        pub.close()
        ctx.term()


def test_cli_snapshot_of_a_recorded_session_of_several_people(tmp_path, capsys):
    from realtime.recording.recorder import Recorder
    from realtime.viewer.cli import main

    path = tmp_path / "people.mcap"
    with Recorder(path, metadata={"source": "test"}) as recorder:
        for i in range(15):
            recorder.consume(make_people_frame(i, IDS, ROOTS, t_capture=1000.0 + i / 30))
    out = tmp_path / "people.png"
    assert main(["--session", str(path), "--snapshot", str(out), "--width", "480", "--height", "320",
                 "--trail", "right_wrist", "--trail-person", "9", "--frame", "14", "--no-frustum"]) == 0
    assert "frame 14" in capsys.readouterr().out
    import cv2

    image = cv2.imread(str(out))[..., ::-1].reshape(-1, 3)
    coloured = [p for p in image[::3] if p.max() > 90 and np.ptp(p.astype(int)) > 60]
    seen = {i: sum(_nearest_id(p, IDS) == i for p in coloured) for i in IDS}
    assert all(count > 20 for count in seen.values()), seen

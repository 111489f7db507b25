"""The viewer's receiving loop on real sockets: malformed messages, a publisher restart, newest-wins."""
from __future__ import annotations

import time

import zmq

from realtime.viewer.receiver import StreamReceiver, StreamStats
from realtime.stream.wire import encode
from tests.test_realtime.test_viewer.viewer_fixtures import bind_pub, receive_until, make_frame, t_pose


# ---------------------------------------------------------------- receiving on real sockets

def test_receiver_skips_malformed_messages_and_survives_a_publisher_restart():
    ctx = zmq.Context()
    pub, address = bind_pub(ctx)
    logged: list[str] = []
    receiver = StreamReceiver(address, log=logged.append)
    try:
        assert receive_until(receiver, pub, encode(make_frame(1, t_pose()))).frame_index == 1
        bad_header = [b"pose", b"{not json", b""]
        good = encode(make_frame(2, t_pose()))
        wrong_shape = encode(make_frame(3, t_pose()))
        wrong_shape[2] = wrong_shape[2][:10]
        for message in (bad_header, bad_header, wrong_shape, good):
            pub.send_multipart(message)
        time.sleep(0.3)
        frames = receiver.poll_all(timeout_s=1.0)
        assert [f.frame_index for f in frames] == [2]
        assert receiver.malformed == 3
        assert len(logged) == 2 and "not UTF-8 JSON" in logged[0]  # each distinct reason once

        pub.close()  # the publisher goes away ...
        stats = StreamStats(stale_after_s=1.0)
        stats.add(frames[-1], now=100.0)
        assert "waiting for stream" in stats.status_text(address, now=101.5)
        assert receiver.poll(timeout_s=0.2) is None
        pub, _ = bind_pub(ctx, address)  # ... and comes back on the same address
        frame = receive_until(receiver, pub, encode(make_frame(100, t_pose())))
        assert frame.frame_index == 100 and frame.has_person
    finally:
        receiver.close()
        pub.close()
        ctx.term()


def test_receiver_hands_over_only_the_newest_of_queued_frames():
    ctx = zmq.Context()
    pub, address = bind_pub(ctx)
    receiver = StreamReceiver(address)
    try:
        receive_until(receiver, pub, encode(make_frame(0, t_pose())))
        for i in range(1, 6):
            pub.send_multipart(encode(make_frame(i, t_pose())))
        time.sleep(0.3)
        skipped = receiver.skipped
        assert receiver.poll(timeout_s=1.0).frame_index == 5
        assert receiver.skipped - skipped == 4
    finally:
        receiver.close()
        pub.close()
        ctx.term()

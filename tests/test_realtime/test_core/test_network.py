"""One loopback test for every listener and sender (``realtime.core.network``), and the three warnings
that use it agreeing at the edges (real sockets on this machine)."""
from __future__ import annotations

import logging

import pytest

from realtime.core.network import is_loopback_host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "LOCALHOST", "::1",
                                  "[::1]", " 127.0.0.1 "])
def test_this_machine_only(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "*", "", "::", "192.168.1.4", "10.0.0.1", "127.example.com",
                                  "127.0.0.1.nip.io", "localhost.example.com", "[::1", "::ffff:8.8.8.8"])
def test_other_machines_or_every_interface(host):
    assert not is_loopback_host(host)


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_publisher_udp_and_foxglove_agree_on_127_0_0_2(caplog):
    """127.0.0.2 is loopback on every Linux machine: none of the three warns (Foxglove's own list of
    three names used to warn here, the publisher's prefix test passed any name starting with 127.)."""
    from realtime.bridges.foxglove_ws import FoxgloveBridge
    from realtime.bridges.udp import UdpSender
    from realtime.stream.publisher import Publisher, PublisherOptions

    with caplog.at_level("WARNING"):
        with Publisher(PublisherOptions(address="tcp://127.0.0.2:*")):
            pass
        UdpSender("127.0.0.2", 39539, "vmc").close()
        FoxgloveBridge(port=0, host="127.0.0.2").close()
    assert _warnings(caplog) == []
    with caplog.at_level("WARNING"):
        UdpSender("192.0.2.1", 39539, "vmc").close()  # TEST-NET-1: never routed, nothing is sent
    assert any("off this machine" in m for m in _warnings(caplog))

"""The live stream: the wire format (``wire``), the ZeroMQ publisher and the subscriber (docs/stream_format.md).

``python -m realtime.subscriber`` is the subscriber's command line.
"""

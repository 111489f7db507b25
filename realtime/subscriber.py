"""``realtime.subscriber``: the stream's client API and command line, at their published name.

    python -m realtime.subscriber --connect tcp://127.0.0.1:5555 [--csv poses.csv --count 300]

Everything lives in ``realtime.stream.subscriber`` (and the wire format in ``realtime.stream.wire``);
this module keeps the name that the README and users' programs import.
"""
import sys

from realtime.stream.subscriber import (Frame, FrameResult, PersonPose, Subscriber, WireError, csv_header, csv_row,
                                        decode, iterate, main)

__all__ = ["Frame", "FrameResult", "PersonPose", "Subscriber", "WireError", "csv_header", "csv_row", "decode",
           "iterate", "main"]

if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m calibration {intrinsics,floor,board,show} ...`` (see docs/calibration.md).

Examples::

    python -m calibration board --board 9x6 --square 0.025 --out board.png
    python -m calibration intrinsics --images shots/ --board 9x6 --square 0.025 --out cam.json
    python -m calibration intrinsics --camera 0 --board 7x5 --board-type charuco --square 0.03 --out cam.json
    python -m calibration floor --image floor.jpg --calibration cam.json --board 9x6 --square 0.025
    python -m calibration show cam.json

Errors print one line (``error: ...``) on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

import cv2
import numpy as np

from calibration import camera_file
from calibration.boards import BoardDetector, BoardSpec
from calibration.capture import from_camera, from_images, from_video
from calibration.intrinsics import IntrinsicsOptions, calibrate
from calibration.world import floor_from_board
from realtime.core.cli import OneLineParser, bounded


def _add_board_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--board", required=True, metavar="COLSxROWS",
                   help="board size: INNER corners for a chessboard (9x6 = 10x7 squares), SQUARES for ChArUco")
    p.add_argument("--square", type=bounded(float, 0.001, 1.0), required=True, metavar="METRES", help="side of one square in metres, as printed")
    p.add_argument("--board-type", choices=("chessboard", "charuco"), default="chessboard", help="board kind (default chessboard)")
    p.add_argument("--marker", type=bounded(float, 0.0005, 1.0), default=None, metavar="METRES",
                   help="ChArUco marker side in metres (default 0.75 x square)")
    p.add_argument("--dictionary", default="5X5_100", help="ChArUco ArUco dictionary, cv2.aruco.DICT_<name> (default 5X5_100)")


def _board(args) -> BoardSpec:
    return BoardSpec.parse(args.board, args.square, args.board_type, args.marker, args.dictionary)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m calibration", description="Camera calibration for the pose pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("intrinsics", help="camera matrix and distortion from board views",
                       description="Calibrate a camera from views of a printed board; writes a semgcn.camera/1 JSON.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", metavar="DIR", help="folder of board photos (png/jpg/...), one camera, one resolution")
    src.add_argument("--video", metavar="FILE", help="video of the board moved around in front of the camera")
    src.add_argument("--camera", type=bounded(int, 0, 99), metavar="INDEX", help="live camera (OpenCV index): interactive capture")
    _add_board_args(p)
    p.add_argument("--out", required=True, metavar="FILE.json", help="calibration file to write")
    p.add_argument("--min-views", type=bounded(int, 3, 1000), default=8, help="fewest usable views accepted (default 8)")
    p.add_argument("--fix-k3", action="store_true", help="keep the k3 radial term at 0 (few or central views)")
    p.add_argument("--rational", action="store_true", help="8-coefficient rational distortion model (wide-angle lenses)")
    p.add_argument("--every", type=bounded(int, 1, 10000), default=5, help="video: look at every N-th frame (default 5)")
    p.add_argument("--max-views", type=bounded(int, 3, 1000), default=40, help="video: keep at most this many distinct views (default 40)")
    p.add_argument("--no-display", action="store_true", help="camera: no window; auto-capture and print progress")
    p.add_argument("--max-seconds", type=bounded(float, 1, 3600), default=180.0, help="camera: stop after this many seconds (default 180)")
    p.add_argument("--size", default=None, metavar="WxH", help="camera: requested resolution, e.g. 1280x720")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("floor", help="floor plane from one photo of the board lying on the floor",
                       description="Add the floor plane (camera frame) to a calibration file, from a board on the floor "
                                   "seen by the calibrated camera in its final position.")
    p.add_argument("--image", required=True, help="photo (from the calibrated camera, in place) of the board on the floor")
    p.add_argument("--calibration", required=True, metavar="FILE.json", help="the camera's calibration file")
    _add_board_args(p)
    p.add_argument("--out", default=None, metavar="FILE.json", help="file to write (default: update --calibration in place)")

    p = sub.add_parser("board", help="write a printable board image", description="Write a board image to print.")
    _add_board_args(p)
    p.add_argument("--out", required=True, metavar="FILE.png", help="image to write")
    p.add_argument("--dpi", type=bounded(float, 50, 2400), default=300.0, help="printer resolution; sets pixels per square (default 300)")

    p = sub.add_parser("show", help="check a calibration file and print its summary")
    p.add_argument("file", help="calibration JSON")
    return parser


def cmd_intrinsics(args) -> int:
    board = _board(args)
    detector = BoardDetector(board)
    if args.images:
        got = from_images(args.images, detector, progress=not args.quiet)
    elif args.video:
        got = from_video(args.video, detector, args.every, args.max_views, progress=not args.quiet)
    else:
        size = _parse_size(args.size) if args.size else None
        got = from_camera(args.camera, detector, display=False if args.no_display else None,
                          max_seconds=args.max_seconds, size=size)
    if not got.detections:
        raise ValueError(f"{board.kind} {args.board} ({'inner corners' if board.kind == 'chessboard' else 'squares'}) "
                         f"not found in any of {len(got.skipped)} views; check --board, --board-type and the photos")
    for line in got.skipped:
        print(f"  skipped {line}", file=sys.stderr)
    print(f"board found in {len(got.detections)} views; {got.coverage.status()}")
    result = calibrate(got.detections, got.image_size, board,
                       IntrinsicsOptions(min_views=args.min_views, fix_k3=args.fix_k3, rational_model=args.rational))
    cam = result.camera
    camera_file.save(cam, args.out)
    K = cam.camera_matrix
    for i in result.dropped_views:
        print(f"  dropped outlier view {got.names[i]}")
    print(f"fx {K[0, 0]:.2f} fy {K[1, 1]:.2f} cx {K[0, 2]:.2f} cy {K[1, 2]:.2f} px; "
          f"dist {np.array2string(cam.dist_coeffs, precision=4)}")
    print(f"reprojection error {cam.rms_px:.3f} px RMS over {cam.n_views} views "
          f"(worst view {max(result.per_view_rms_px):.3f} px) -> wrote {args.out}")
    if cam.rms_px > 1.0:
        print("warning: reprojection error above 1 px; check the square size, blur and board flatness", file=sys.stderr)
    return 0


def cmd_floor(args) -> int:
    cam = camera_file.load(args.calibration)
    image = cv2.imread(args.image, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"{args.image} is not a readable image")
    if (image.shape[1], image.shape[0]) != tuple(cam.image_size):
        raise ValueError(f"{args.image} is {image.shape[1]}x{image.shape[0]} but the calibration is for "
                         f"{cam.image_size[0]}x{cam.image_size[1]}")
    det = BoardDetector(_board(args)).detect(image)
    if det is None:
        raise ValueError(f"board {args.board} not found in {args.image}")
    cam.floor = floor_from_board(det.image_points, det.object_points, cam.camera_matrix, cam.dist_coeffs)
    out = args.out or args.calibration
    camera_file.save(cam, out)
    print(f"floor normal {np.round(cam.floor.normal, 4).tolist()}, camera {cam.floor.offset_m:.3f} m above it -> wrote {out}")
    return 0


def cmd_board(args) -> int:
    board = _board(args)
    pixels_per_square = max(20, int(round(args.square / 0.0254 * args.dpi)))
    image = board.image(pixels_per_square)
    try:
        written = cv2.imwrite(args.out, image)
    except cv2.error:
        written = False
    if not written:
        raise ValueError(f"could not write {args.out} (unknown image extension or unwritable folder)")
    print(f"wrote {args.out}: {image.shape[1]}x{image.shape[0]} px; print at {args.dpi:g} dpi, no scaling, "
          f"so that a square measures {args.square * 1000:g} mm")
    return 0


def cmd_show(args) -> int:
    cam = camera_file.load(args.file)
    K = cam.camera_matrix
    print(f"{args.file}: {cam.image_size[0]}x{cam.image_size[1]}, fx {K[0, 0]:.2f} fy {K[1, 1]:.2f} "
          f"cx {K[0, 2]:.2f} cy {K[1, 2]:.2f}, rms {cam.rms_px:.3f} px, {cam.n_views} views, "
          f"board {cam.board or '?'}, {cam.date or 'no date'}"
          + (f", floor {cam.floor.offset_m:.3f} m below the camera" if cam.floor else ""))
    return 0


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like WxH (e.g. 1280x720), got {text!r}") from None
    return w, h


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the live capture's coverage lines
    # OpenCV's and FFmpeg's own log lines (camera probing, "moov atom not found") would bury our one-line
    # error message; FFmpeg reads its variable when the first capture opens, which is after this.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    handler = {"intrinsics": cmd_intrinsics, "floor": cmd_floor, "board": cmd_board, "show": cmd_show}[args.command]
    try:
        return handler(args)
    except (ValueError, OSError, cv2.error) as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)  # always one line
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

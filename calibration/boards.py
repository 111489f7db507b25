"""Calibration boards: a printed chessboard or a ChArUco board, their detection and printable images.

Sizes follow OpenCV: a chessboard is named by its INNER corners (``9x6`` = 10 x 7 squares); a ChArUco
board by its SQUARES (``5x7`` = 5 x 7 squares, 4 x 6 inner corners), with the square and marker sides in
metres. ChArUco uses OpenCV 5's ``cv2.aruco.CharucoBoard`` / ``cv2.aruco.CharucoDetector``; its corners
are found even when part of the board is hidden or out of the image.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

_SB_FLAGS = cv2.CALIB_CB_NORMALIZE_IMAGE


@dataclass
class Detection:
    """Board corners found in one image.

    Attributes:
        image_points: (N, 2) float32 pixels.
        object_points: (N, 3) float32 metres on the board plane (z = 0).
    """

    image_points: np.ndarray
    object_points: np.ndarray


@dataclass
class BoardSpec:
    """A calibration board.

    Attributes:
        kind: "chessboard" or "charuco".
        cols, rows: chessboard inner corners, or ChArUco squares, across and down.
        square_m: side of one square in metres.
        marker_m: ChArUco marker side in metres (default 0.75 of the square).
        dictionary: ChArUco ArUco dictionary name (``cv2.aruco.DICT_*`` without the prefix).
    """

    kind: str
    cols: int
    rows: int
    square_m: float
    marker_m: float | None = None
    dictionary: str = "5X5_100"

    def __post_init__(self):
        if self.kind not in ("chessboard", "charuco"):
            raise ValueError(f"board type must be 'chessboard' or 'charuco', got {self.kind!r}")
        if self.cols < 2 or self.rows < 2 or (self.kind == "charuco" and min(self.cols, self.rows) < 3):
            raise ValueError(f"board {self.cols}x{self.rows} is too small")
        if not self.square_m > 0:
            raise ValueError(f"square size must be positive metres, got {self.square_m!r}")
        if self.kind == "charuco":
            self.marker_m = self.marker_m or 0.75 * self.square_m
            if not 0 < self.marker_m < self.square_m:
                raise ValueError(f"marker side {self.marker_m} must be smaller than the square {self.square_m}")
            if not hasattr(cv2.aruco, f"DICT_{self.dictionary}"):
                raise ValueError(f"unknown ArUco dictionary {self.dictionary!r} (e.g. 5X5_100, 4X4_50, 6X6_250)")

    @classmethod
    def parse(cls, text: str, square_m: float, kind: str = "chessboard", marker_m: float | None = None,
              dictionary: str = "5X5_100") -> "BoardSpec":
        """Build from ``"COLSxROWS"`` (e.g. "9x6"); ValueError with the reason otherwise."""
        match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(text))
        if not match:
            raise ValueError(f"board size must look like COLSxROWS (e.g. 9x6), got {text!r}")
        return cls(kind, int(match.group(1)), int(match.group(2)), float(square_m), marker_m, dictionary)

    @property
    def n_corners(self) -> int:
        return self.cols * self.rows if self.kind == "chessboard" else (self.cols - 1) * (self.rows - 1)

    def to_json(self) -> dict:
        data = {"type": self.kind, "cols": self.cols, "rows": self.rows, "square_m": self.square_m}
        if self.kind == "charuco":
            data.update(marker_m=self.marker_m, dictionary=self.dictionary)
        return data

    def object_points(self) -> np.ndarray:
        """All chessboard inner corners, (N, 3) metres, row by row (chessboard only)."""
        grid = np.mgrid[0:self.cols, 0:self.rows].T.reshape(-1, 2)
        return np.hstack([grid * self.square_m, np.zeros((len(grid), 1))]).astype(np.float32)

    def charuco_board(self):
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, f"DICT_{self.dictionary}"))
        return cv2.aruco.CharucoBoard((self.cols, self.rows), self.square_m, self.marker_m, dictionary)

    def image(self, pixels_per_square: int = 100, margin_squares: float = 0.5) -> np.ndarray:
        """A printable grayscale image of the board with a white margin."""
        margin = int(round(margin_squares * pixels_per_square))
        if self.kind == "charuco":
            size = (self.cols * pixels_per_square + 2 * margin, self.rows * pixels_per_square + 2 * margin)
            return self.charuco_board().generateImage(size, marginSize=margin)
        squares = np.indices((self.rows + 1, self.cols + 1)).sum(axis=0) % 2 == 0
        board = np.where(squares, 0, 255).astype(np.uint8)
        board = cv2.resize(board, None, fx=pixels_per_square, fy=pixels_per_square, interpolation=cv2.INTER_NEAREST)
        return cv2.copyMakeBorder(board, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)


class BoardDetector:
    """Finds a ``BoardSpec`` in images.

    Args:
        board: the board.
        min_corners: fewest ChArUco corners accepted in a view (a chessboard needs all of them).
    """

    def __init__(self, board: BoardSpec, min_corners: int = 6):
        self.board = board
        self.min_corners = min_corners
        if board.kind == "charuco":
            self._charuco = board.charuco_board()
            self._detector = cv2.aruco.CharucoDetector(self._charuco)
        else:
            self._objects = board.object_points()

    def detect(self, image: np.ndarray) -> Detection | None:
        """Corners in a BGR or grayscale image, or None when the board is not found."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if self.board.kind == "charuco":
            return self._detect_charuco(gray)
        return self._detect_chessboard(gray)

    def _detect_chessboard(self, gray: np.ndarray) -> Detection | None:
        # The sector-based detector (OpenCV's recommended one) copes with blur, low contrast and strong
        # distortion, gives sub-pixel corners directly, and gives up quickly on a wrong board size.
        found, corners = cv2.findChessboardCornersSB(gray, (self.board.cols, self.board.rows), flags=_SB_FLAGS)
        if not found:
            return None
        return Detection(corners.reshape(-1, 2).astype(np.float32), self._objects)

    def _detect_charuco(self, gray: np.ndarray) -> Detection | None:
        corners, ids, _, _ = self._detector.detectBoard(gray)
        if ids is None or len(ids) < self.min_corners:
            return None
        if self._charuco.checkCharucoCornersCollinear(ids):  # a line of corners fixes no homography
            return None
        obj, img = self._charuco.matchImagePoints(corners, ids)
        return Detection(img.reshape(-1, 2).astype(np.float32), obj.reshape(-1, 3).astype(np.float32))

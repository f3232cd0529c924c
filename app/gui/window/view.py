"""`WindowView`: everything the window's panels show at one moment, in one frozen object; and `Panel`, the one
protocol every panel follows: `show_view(view)` paints what it shows of the view, and nothing else.

The window builds one view per redraw and hands the same object to every panel in its list (`window_panels.
PANELS`), so a new panel is one module with a `show_view` and one entry there. The frame's part was
prepared off the GUI thread (`frame_view.FrameView`): a panel only paints. (Not `show`: that is QWidget's.)
`Stats` are the status bar's figures (`status.WindowFigures` measures them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sta_hands.app.gui.frame_view import FrameView
from sta_hands.app.recognizer import Prediction
from sta_hands.contract.frame import Frame


@dataclass(frozen=True)
class Stats:
    source: str
    frames_per_second: float
    predictions_per_second: float
    latency_ms: float | None  # a frame leaving its source -> its prediction ready
    display_latency_ms: float | None  # a frame leaving its source -> its prediction on screen
    frames_dropped: int  # frames the recognizer never saw: it was busy
    windows_skipped: int  # windows due while the recognizer was busy, not classified
    provider: str
    model: str
    source_problem: str | None = None  # e.g. "Kinect v2 sensor lost (...)"


@dataclass(frozen=True)
class Playback:
    """Where the replay stands: the frame shown (-1: none yet), of how many (None: live), whether it plays."""

    position: int = -1
    num_frames: int | None = None
    fps: float = 30.0
    playing: bool = False


@dataclass(frozen=True, eq=False)
class WindowView:
    shown: FrameView | None  # the frame on screen and what was prepared of it; None: nothing yet
    prediction: Prediction | None  # the newest prediction; None: none yet (or no model)
    playback: Playback = Playback()
    stats: Stats | None = None  # the status bar's figures, only when they are due (about 4 times a second)

    @property
    def frame(self) -> Frame | None:
        return self.shown.frame if self.shown is not None else None


class Panel(Protocol):
    def show_view(self, view: WindowView) -> None:
        """Paint this panel's part of `view`."""

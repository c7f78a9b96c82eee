"""Live video: every frame through `analyse_photo`, boxes, labels and Grad-CAM drawn on it, and
a smoothed history of the largest face's emotions for a strip chart.

Frames arrive on a video thread while the page reads the history on its own: one lock guards
the state. Frames stay in memory; nothing is written or logged.
"""

import threading
import time
from collections import deque

import cv2
import numpy as np

from emotion_core.labels import NUM_CLASSES
from emotion_core.photos.analyse import analyse_photo
from emotion_core.photos.annotate import annotate, draw_heatmaps

HISTORY_S = 30.0  # the strip chart's span
SMOOTHING = 0.3  # weight of the newest frame: a class sees "sad" rise over a second, not flicker per frame


class LiveAnalyser:
    """The per-frame work of the Live page's video tab, with its settings and history.

    Args:
        explainer: an explain.GradCam (its model classifies; it explains when heatmaps are on).
        heatmaps: draw each face's Grad-CAM map over it.
        paused: keep showing the last analysed frame (the history stops too).
    """

    def __init__(self, explainer, *, heatmaps=True, paused=False):
        self.explainer = explainer
        self.heatmaps = heatmaps
        self.paused = paused
        self._lock = threading.Lock()
        self._history = deque()  # (time, smoothed probabilities (7,)) of the largest face
        self._smoothed = None
        self._last = None

    def process(self, frame_bgr, *, now=None):
        """Analyse one frame; returns it annotated (uint8 BGR, same size). Paused: the last one."""
        with self._lock:
            if self.paused and self._last is not None:
                return self._last
        results = analyse_photo(self.explainer.model, frame_bgr,
                                explainer=self.explainer if self.heatmaps else None)
        drawn = draw_heatmaps(frame_bgr.copy(), results) if self.heatmaps else frame_bgr
        drawn = cv2.cvtColor(annotate(drawn, results, numbered=False), cv2.COLOR_RGB2BGR)
        with self._lock:
            self._record(results, time.time() if now is None else now)
            self._last = drawn
        return drawn

    def _record(self, results, now):
        """Smooth the largest face's probabilities and keep the last HISTORY_S seconds of them."""
        if results:
            largest = max(results, key=lambda r: r.box[2] * r.box[3])
            new = np.asarray(largest.probabilities, np.float32)
            self._smoothed = new if self._smoothed is None else SMOOTHING * new + (1 - SMOOTHING) * self._smoothed
            self._history.append((now, self._smoothed.copy()))
        while self._history and self._history[0][0] < now - HISTORY_S:
            self._history.popleft()

    def history(self, *, now=None):
        """(seconds before now, float (n,); smoothed probabilities, float (n, 7)) for the strip chart."""
        with self._lock:
            rows = list(self._history)
        if not rows:
            return np.zeros(0), np.zeros((0, NUM_CLASSES), np.float32)
        now = time.time() if now is None else now
        return np.array([t - now for t, _ in rows]), np.stack([p for _, p in rows])

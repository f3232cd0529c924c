"""Small bodies for tests: a figure of 25 joints with exact x and y spreads."""

from __future__ import annotations

import numpy as np

from sta_hands.contract.frame import NUM_JOINTS, Body


def figure(body_id: int, centre: tuple[float, float, float], width: float = 0.4, height: float = 1.6) -> Body:
    """A body whose 25 joints span `width` x `height` metres around `centre`."""
    rng = np.random.default_rng(body_id)
    unit = rng.uniform(-0.5, 0.5, (NUM_JOINTS, 3))
    unit[:2, :2] = [[-0.5, -0.5], [0.5, 0.5]]  # make the spreads exact
    joints = np.asarray(centre) + unit * [width, height, 0.3]
    return Body(
        id=body_id, joints=joints, color_px=np.zeros((NUM_JOINTS, 2)), tracking=np.full(NUM_JOINTS, 2)
    )

"""An optional loss on STA-Hands' spatial attention (not in the paper): mass on the hands that act.

The paper's spatial attention is unsupervised: only the class label trains it, through the RGB stream's
prediction. Where a clip says which hands act (synthetic clips: the sidecar's `active_hands`, the ground
truth of `models.attention_score`), training may add, with weight `TrainSettings.attention_supervision`
(0 by default: the paper's), the mean over the steps with an acting present hand of

    -log(sum of the spatial attention over the acting present hands)

It asks for the attention mass on the acting hands as a whole, not on one of them: with two acting hands
("give object", "handshake") the attention may split it as the class needs. Steps without an acting
present hand (no ground truth, a body-motion class, a moment before the action) add nothing.
"""

from __future__ import annotations

import torch
from torch import Tensor

_FLOOR = 1e-6  # the attention mass on acting hands is clamped here before the log


def attention_supervision_loss(spatial: Tensor, active_hands: Tensor, hand_mask: Tensor) -> Tensor:
    """The loss above for B x T x 4 spatial attention, acting hands and hand mask; 0 without any
    step to supervise (the graph kept, so that a batch without ground truth still backpropagates)."""
    acting = (active_hands > 0) & (hand_mask > 0)  # B x T x 4
    counted = acting.any(dim=-1)  # B x T
    if not bool(counted.any()):
        return spatial.sum() * 0.0
    mass = (spatial * acting.to(spatial.dtype)).sum(dim=-1)  # B x T
    return -torch.log(mass[counted].clamp_min(_FLOOR)).mean()

"""A random glimpse backbone whose features depend on the image, for the test models.

EfficientNet-Lite0 with PyTorch's own initialisation shrinks its input layer after layer: its features
come out below 1e-8 whatever the crop, so a test model built on it gives the same logits for any crop,
and no test comparing two ways of computing a window (cached, streamed, reused, split) could see a
wrong crop, hand, person or cache entry. `normalise_batch_norms` sets every batch norm's statistics
to those of image-like crops (textures, colour gradients, flat colours, as `contract.inputs` would
feed them), so every layer's output is of unit scale over crops and the features differ from crop
to crop (their spread across crops is of the order of their mean). Deterministic: fixed seeds.
"""

from __future__ import annotations

import numpy as np

from sta_hands.contract.inputs import CROP_SIZE, glimpse_batch


def image_like_crops(count: int, seed: int = 1) -> np.ndarray:
    """`count` uint8 BGR crops of CROP_SIZE px: noise textures blended with smooth colour gradients."""
    import cv2

    rng = np.random.default_rng(seed)
    crops = np.empty((count, CROP_SIZE, CROP_SIZE, 3), np.uint8)
    for n in range(count):
        texture = rng.integers(0, 256, (CROP_SIZE, CROP_SIZE, 3)).astype(np.float32)
        corners = rng.integers(0, 256, (3, 3, 3)).astype(np.float32)
        gradient = cv2.resize(corners, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR)
        mix = rng.uniform(0.0, 1.0)
        crops[n] = np.clip(mix * texture + (1.0 - mix) * gradient, 0, 255).astype(np.uint8)
    return crops


def normalise_batch_norms(backbone, count: int = 64) -> None:
    """Set every batch norm of `backbone` (a `models.glimpse.GlimpseBackbone`) to the mean and variance
    of its input over `count` image-like crops, layer after layer (one pass, cumulative averages)."""
    import torch

    spec = backbone.spec
    crops = torch.from_numpy(glimpse_batch(image_like_crops(count), spec.input_size, spec.mean, spec.std))
    norms = [m for m in backbone.network.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: exactly this batch's statistics
        norm.train()
    with torch.no_grad():
        backbone.network(crops)
    for norm in norms:
        norm.eval()

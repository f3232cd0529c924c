"""The optional loss on STA-Hands' spatial attention: its value, and that training with it moves the
attention onto the acting hands where training without it (the paper's) does not do as much."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from sta_hands.models import checkpoint
from sta_hands.models.attention_supervision import attention_supervision_loss
from sta_hands.models.data import evaluation_windows, find_dataset
from sta_hands.models.features.store import FeatureStore
from sta_hands.models.train import TrainSettings, predict, train_stream
from tests.models.test_data import tiny_cache, tiny_dataset
from tests.models.test_train import TINY


def test_the_loss_is_the_mean_negative_log_attention_on_the_acting_present_hands() -> None:
    spatial = torch.tensor(
        [
            [
                [0.5, 0.3, 0.2, 0.0],  # hand 0 acts
                [0.1, 0.6, 0.0, 0.3],  # hands 1 and 3 act (an interaction): their mass together
                [0.25, 0.25, 0.25, 0.25],  # nothing acts: not counted
                [0.0, 1.0, 0.0, 0.0],  # only hand 2 acts, and it is absent: not counted
            ]
        ]
    )
    active = torch.tensor([[[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0]]], dtype=torch.uint8)
    mask = torch.tensor([[[1, 1, 1, 0], [1, 1, 0, 1], [1, 1, 1, 1], [0, 1, 0, 0]]], dtype=torch.float32)
    loss = attention_supervision_loss(spatial, active, mask)
    assert float(loss) == pytest.approx((-math.log(0.5) - math.log(0.9)) / 2, rel=1e-6)


def test_without_an_acting_hand_the_loss_is_zero_and_still_backpropagates() -> None:
    spatial = torch.full((2, 3, 4), 0.25, requires_grad=True)
    loss = attention_supervision_loss(spatial, torch.zeros(2, 3, 4), torch.ones(2, 3, 4))
    loss.backward()
    assert float(loss.detach()) == 0.0 and spatial.grad is not None and float(spatial.grad.abs().sum()) == 0.0


def _mass_on_acting_hands(run: Path) -> float:
    """The mean spatial attention on the acting present hands, over the tiny clips' steps where one acts."""
    dataset = find_dataset(tiny_dataset())
    model = checkpoint.load(run)[0]
    store = FeatureStore(tiny_cache(), dataset.clips)
    windows = [evaluation_windows(c.name, store.num_frames(i), 20) for i, c in enumerate(dataset.clips)]
    masses = []
    for output in predict(model, store, range(len(dataset.clips)), windows, torch.device("cpu")):
        acting = (output["active_hands"] > 0) & (output["hand_mask"] > 0)
        counted = acting.any(axis=-1)
        masses.append((output["spatial_attention"] * acting).sum(axis=-1)[counted])
    return float(np.concatenate(masses).mean())


def test_training_with_the_supervision_puts_more_attention_on_the_acting_hands(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    settings = TrainSettings(epochs=6, learning_rate=1e-2, batch_size=4, validation_fraction=0.0)
    masses = {}
    for weight in (0.0, 1.0):
        run = train_stream(
            "rgb",
            dataset,
            tiny_cache(),
            tmp_path / str(weight),
            split=None,
            config=TINY,
            settings=dataclasses.replace(settings, attention_supervision=weight),
            progress=False,
        )
        assert checkpoint.load(run.last)[2]["train_settings"]["attention_supervision"] == weight
        masses[weight] = _mass_on_acting_hands(run.last)
    assert masses[1.0] > 0.8 and masses[1.0] > masses[0.0] + 0.1, masses

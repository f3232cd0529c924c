"""Checkpoints: safetensors weights + JSON config and metadata, no pickle."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from sta_hands.models import checkpoint
from sta_hands.models.pose_stream import DeepGRU
from sta_hands.models.rgb_stream import STAHands
from sta_hands.models.two_stream import TwoStreamModel
from tests.models.conftest import Inputs, randomise_attention, tiny_config


@pytest.mark.parametrize("kind", [TwoStreamModel, DeepGRU, STAHands])
def test_save_then_load_gives_identical_outputs(kind: type, inputs: Inputs, tmp_path: Path) -> None:
    config = tiny_config("both", "hidden_motion")
    torch.manual_seed(0)
    model = randomise_attention(kind(config)).eval()
    metadata = {"class_names": ["a", "b", "c", "d", "e"], "epoch": 3, "accuracy": 0.5}
    path = checkpoint.save(model, config, tmp_path / "model.safetensors", metadata)
    loaded, loaded_config, loaded_metadata = checkpoint.load(path)
    assert type(loaded) is kind and not loaded.training
    assert loaded_config == config and loaded_metadata == metadata
    args = (inputs.pose,) if kind is DeepGRU else tuple(inputs)
    with torch.no_grad():
        expected, got = model(*args), loaded(*args)
    if kind is DeepGRU:
        expected, got = (expected,), (got,)
    for a, b in zip(expected, got, strict=True):
        assert torch.equal(a, b)


def test_header_is_readable_without_the_weights(tmp_path: Path) -> None:
    config = tiny_config()
    path = checkpoint.save(DeepGRU(config), config, tmp_path / "pose.safetensors", {"note": "x"})
    assert checkpoint.read_header(path) == ("DeepGRU", config, {"note": "x"})
    assert not (tmp_path / "pose.safetensors.partial").exists()


def test_config_that_differs_from_the_models_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="differs"):
        checkpoint.save(DeepGRU(tiny_config()), tiny_config("sum"), tmp_path / "x.safetensors")


def test_a_foreign_safetensors_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, path)
    with pytest.raises(checkpoint.CheckpointError, match="not a sta-hands checkpoint"):
        checkpoint.load(path)


def test_a_non_safetensors_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x04not a checkpoint at all")
    with pytest.raises(checkpoint.CheckpointError, match="not a safetensors file"):
        checkpoint.load(path)

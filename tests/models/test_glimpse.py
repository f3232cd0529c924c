"""Glimpse backbones: frozen, N x 3 x S x S -> N x D, pretrained weights found offline or a clear error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from torchvision.models import inception_v3

from sta_hands.models.config import BACKBONES, RegisteredBackbone
from sta_hands.models.glimpse import (
    BackboneWeightsMissing,
    build_backbone,
    inception_v3_cache_path,
    network_builder,
)


@pytest.mark.parametrize(
    ("name", "size", "dim"), [("inception_v3", 299, 2048), ("efficientnet_lite0", 224, 1280)]
)
def test_backbone_maps_crops_to_features(name: str, size: int, dim: int) -> None:
    backbone = build_backbone(name, pretrained=False)
    assert (backbone.spec.name, backbone.spec.input_size, backbone.spec.feature_dim) == (name, size, dim)
    with torch.no_grad():
        features = backbone(torch.randn(1, 3, size, size))
    assert features.shape == (1, dim)


@pytest.mark.parametrize(("name", "size"), [("inception_v3", 75), ("efficientnet_lite0", 32)])
def test_backbone_runs_at_its_smallest_input_size(name: str, size: int) -> None:
    backbone = build_backbone(name, input_size=size, pretrained=False)
    with torch.no_grad():
        assert backbone(torch.randn(1, 3, size, size)).shape == (1, backbone.spec.feature_dim)


def test_each_registered_backbone_names_its_own_network_function() -> None:
    builders = {name: network_builder(entry) for name, entry in BACKBONES.items()}
    assert set(BACKBONES) == {"inception_v3", "efficientnet_lite0"}
    assert all(entry.spec.name == name for name, entry in BACKBONES.items())
    assert len(set(builders.values())) == len(builders)


def test_a_backbone_naming_a_missing_network_function_is_a_clear_error() -> None:
    spec = dataclasses.replace(BACKBONES["efficientnet_lite0"].spec, name="ghost")
    entry = RegisteredBackbone(spec, "sta_hands.models.glimpse:ghost_net")
    missing = r"'ghost': no network function 'sta_hands\.models\.glimpse:ghost_net'"
    with pytest.raises(ValueError, match=missing):
        network_builder(entry)


def test_backbone_is_frozen_and_stays_in_eval_mode() -> None:
    backbone = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    backbone.train()
    assert not backbone.training and not any(module.training for module in backbone.modules())
    assert not any(parameter.requires_grad for parameter in backbone.parameters())


def test_wrong_crop_size_is_a_clear_error() -> None:
    backbone = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    with pytest.raises(ValueError, match="N x 3 x 32 x 32"):
        backbone(torch.randn(1, 3, 64, 64))


def test_efficientnet_lite0_loads_its_packaged_imagenet_weights_offline() -> None:
    pretrained = build_backbone("efficientnet_lite0", input_size=64)
    random = build_backbone("efficientnet_lite0", input_size=64, pretrained=False)
    crops = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        features = pretrained(crops)
        assert torch.isfinite(features).all() and torch.equal(features, pretrained(crops))
        assert not torch.allclose(features, random(crops))
    assert torch.all(features >= 0) and torch.all(features <= 6)  # pooled ReLU6 activations


def test_inception_v3_without_cached_weights_says_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert inception_v3_cache_path().is_relative_to(tmp_path)
    with pytest.raises(BackboneWeightsMissing) as error:
        build_backbone("inception_v3")
    message = str(error.value)
    assert "--download" in message and str(inception_v3_cache_path()) in message
    with pytest.raises(BackboneWeightsMissing, match="not found"):
        build_backbone("inception_v3", weights_path=tmp_path / "missing.pth")


def test_inception_v3_reads_torchvisions_cached_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = inception_v3(weights=None, aux_logits=True, init_weights=False).eval()  # the file's layout
    cached = inception_v3_cache_path()
    cached.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), cached)
    backbone = build_backbone("inception_v3", input_size=75)  # found in the cache, AuxLogits dropped
    crops = torch.randn(2, 3, 75, 75)
    with torch.no_grad():
        reference.fc = torch.nn.Identity()
        torch.testing.assert_close(backbone(crops), reference(crops))

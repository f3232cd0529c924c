"""Every number of the model in one place: the two streams, their variants, the glimpse backbones.

Torch-free (dataclasses only), so the exported metadata and the app can share these definitions.
Numbers come from Baradel, Wolf & Mille 2017, "Human Action Recognition: Pose-based Attention draws
focus to Hands"; each comment names the part of the paper it comes from: the RGB stream (STA-Hands:
glimpses, spatial attention, temporal attention), the pose stream (Deep GRU), the experiments
(implementation details) and table 2 (ablations).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

SpatialMode = Literal["sum", "concat", "hidden", "pose", "both"]
TemporalMode = Literal["last", "mean", "motion", "hidden_motion"]
_Config = TypeVar("_Config")


@dataclass(frozen=True)
class PoseStreamConfig:
    """Deep GRU on the pose (paper: pose stream)."""

    num_layers: int = 3  # pose stream: 3 stacked GRU layers
    hidden_size: int = 150  # pose stream: 150 units each
    dropout: float = 0.5  # experiments, implementation details: dropout 0.5


@dataclass(frozen=True)
class RgbStreamConfig:
    """STA-Hands: glimpses of the hands, spatial and temporal attention (paper: RGB stream)."""

    hidden_size: int = 1024  # RGB stream, recurrent model: GRU f_h, one layer of 1024 units
    spatial_hidden: int = 256  # spatial attention: MLP f_p 450 -> 256 -> 4
    temporal_hidden: int = 32  # temporal attention: MLP f'_p 40 -> 32 -> 20
    dropout: float = 0.5  # implementation details: dropout 0.5 before the classifier
    # Table 2 ablations. spatial: "pose" = attention from the augmented pose (STA-Hands),
    # "hidden" = from the GRU's previous hidden state, "both" = from both, "sum" / "concat" = no
    # attention (sum or concatenation of the present hands' features).
    spatial: SpatialMode = "pose"
    # temporal: "motion" = attention from the augmented motion M (STA-Hands), "hidden_motion" = a
    # per-step score from [h_t, m_t], "last" = the last hidden state, "mean" = the mean over steps.
    temporal: TemporalMode = "motion"


@dataclass(frozen=True)
class ModelConfig:
    """The two-stream model: inputs, both streams, and the glimpse features it reads."""

    num_classes: int = 60  # experiments: NTU RGB+D has 60 actions
    window: int = 20  # implementation details: T = 20 sampled frames per sequence
    num_joints: int = 25  # experiments: Kinect v2 bodies, 25 joints
    num_bodies: int = 2  # spatial attention: up to two people (4 hands), a missing one is zeros
    centre_joint: int = 1  # pose input: origin at the middle of the spine (Kinect SpineMid)
    feature_dim: int = 2048  # glimpse sensor: Inception v3 pooled features per hand crop
    backbone: str = "inception_v3"  # glimpse sensor: ImageNet-pretrained Inception v3, frozen
    pose: PoseStreamConfig = field(default_factory=PoseStreamConfig)
    rgb: RgbStreamConfig = field(default_factory=RgbStreamConfig)

    def __post_init__(self) -> None:
        _check_literal("rgb.spatial", self.rgb.spatial, SpatialMode)
        _check_literal("rgb.temporal", self.rgb.temporal, TemporalMode)
        if self.window < 2:
            raise ValueError(f"window must be at least 2 frames (velocity needs two); got {self.window}")
        if not 0 <= self.centre_joint < self.num_joints:
            raise ValueError(f"centre_joint {self.centre_joint} outside 0..{self.num_joints - 1}")
        for name in ("num_classes", "num_joints", "num_bodies", "feature_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive; got {getattr(self, name)}")

    @property
    def num_hands(self) -> int:
        """Left and right hand of every body: 4 (left-1, right-1, left-2, right-2)."""
        return 2 * self.num_bodies

    @property
    def pose_dim(self) -> int:
        """x_t: bodies x joints x 3 = 150."""
        return self.num_bodies * self.num_joints * 3

    @property
    def augmented_pose_dim(self) -> int:
        """x~_t = [x_t, velocity, acceleration] = 450 (spatial attention's input)."""
        return 3 * self.pose_dim

    @property
    def motion_dim(self) -> int:
        """m_t = [sum |acceleration|, sum |velocity|] = 2 (temporal attention's input)."""
        return 2

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (nested for the streams); `from_dict` reads it back."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        """The config from `to_dict`'s output; unknown keys are an error, missing ones take defaults."""
        data = dict(data)
        pose = _from_mapping(PoseStreamConfig, data.pop("pose", {}), "pose")
        rgb = _from_mapping(RgbStreamConfig, data.pop("rgb", {}), "rgb")
        return _from_mapping(cls, {**data, "pose": pose, "rgb": rgb}, "model")


@dataclass(frozen=True)
class BackboneSpec:
    """What a glimpse backbone needs and gives: crops N x 3 x S x S (RGB in [0, 1], then (x - mean) / std)
    -> features N x feature_dim. Written into the exported metadata, so the app preprocesses alike."""

    name: str
    input_size: int  # S, the side of the square crop fed to the network
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    feature_dim: int
    min_input_size: int  # the smallest S the architecture runs at

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackboneSpec:
        spec = _from_mapping(cls, data, "backbone")
        return dataclasses.replace(spec, mean=tuple(spec.mean), std=tuple(spec.std))


@dataclass(frozen=True)
class RegisteredBackbone:
    """A backbone the package can build: its spec and the function that builds its network, named
    "module:function" rather than imported so that this module stays torch-free. The function takes
    (spec, pretrained, weights_path, download) and returns the network (`models.glimpse`)."""

    spec: BackboneSpec
    network: str


# The one registry of backbones: a new one is one entry here (and its network function).
BACKBONES: dict[str, RegisteredBackbone] = {
    entry.spec.name: entry
    for entry in (
        # glimpse sensor: Inception v3 at 299x299, 2048 features. torchvision's ImageNet weights come from
        # Google's TF model and expect (x - 0.5) / 0.5: torchvision adds that step itself
        # (transform_input=True) after ImageNet normalisation; we turn it off and normalise so directly.
        RegisteredBackbone(
            BackboneSpec(
                name="inception_v3",
                input_size=299,
                mean=(0.5, 0.5, 0.5),
                std=(0.5, 0.5, 0.5),
                feature_dim=2048,
                min_input_size=75,
            ),
            network="sta_hands.models.glimpse:inception_v3_network",
        ),
        # Not in the paper: the offline default, 10x faster on a CPU. Its weights are converted from the
        # TF EfficientNet-Lite checkpoints, trained with mean 127 / std 128 (of 255) per channel.
        RegisteredBackbone(
            BackboneSpec(
                name="efficientnet_lite0",
                input_size=224,
                mean=(127.0 / 255.0, 127.0 / 255.0, 127.0 / 255.0),
                std=(128.0 / 255.0, 128.0 / 255.0, 128.0 / 255.0),
                feature_dim=1280,
                min_input_size=32,
            ),
            network="sta_hands.models.glimpse:efficientnet_lite0_network",
        ),
    )
}
BACKBONE_SPECS: dict[str, BackboneSpec] = {name: entry.spec for name, entry in BACKBONES.items()}


def backbone_spec(name: str, input_size: int | None = None) -> BackboneSpec:
    """The spec of a registered backbone, at its default input size or the given one."""
    if name not in BACKBONE_SPECS:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONE_SPECS))}")
    spec = BACKBONE_SPECS[name]
    if input_size is None:
        return spec
    if input_size < spec.min_input_size:
        raise ValueError(f"{name} needs an input size of at least {spec.min_input_size} px; got {input_size}")
    return dataclasses.replace(spec, input_size=input_size)


def _check_literal(name: str, value: str, literal: Any) -> None:
    allowed = get_args(literal)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _from_mapping(cls: type[_Config], data: Mapping[str, Any], where: str) -> _Config:
    if isinstance(data, cls):
        return data
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {where} config keys: {', '.join(unknown)}")
    return cls(**data)

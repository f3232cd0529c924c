"""The config: the paper's numbers, the variants, JSON round trips, the backbone specs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sta_hands.models.config import BACKBONE_SPECS, BackboneSpec, ModelConfig, backbone_spec
from tests.conftest import REPO
from tests.models.conftest import SPATIAL_MODES, TEMPORAL_MODES, tiny_config


def test_defaults_are_the_papers_numbers() -> None:
    config = ModelConfig()
    assert (config.window, config.num_joints, config.num_bodies, config.num_hands) == (20, 25, 2, 4)
    assert (config.pose_dim, config.augmented_pose_dim, config.motion_dim) == (150, 450, 2)
    assert (config.pose.num_layers, config.pose.hidden_size, config.pose.dropout) == (3, 150, 0.5)
    assert (config.rgb.hidden_size, config.rgb.spatial_hidden, config.rgb.temporal_hidden) == (1024, 256, 32)
    assert (config.rgb.spatial, config.rgb.temporal, config.rgb.dropout) == ("pose", "motion", 0.5)
    assert (config.feature_dim, config.backbone, config.centre_joint) == (2048, "inception_v3", 1)


@pytest.mark.parametrize("spatial", SPATIAL_MODES)
@pytest.mark.parametrize("temporal", TEMPORAL_MODES)
def test_config_survives_a_json_round_trip(spatial: str, temporal: str) -> None:
    config = tiny_config(spatial, temporal)
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_missing_keys_take_defaults() -> None:
    assert ModelConfig.from_dict({"num_classes": 7, "rgb": {"spatial": "sum"}}) == ModelConfig(
        num_classes=7, rgb=ModelConfig().rgb.__class__(spatial="sum")
    )


@pytest.mark.parametrize(
    "data",
    [{"windw": 20}, {"rgb": {"spatial": "hands"}}, {"rgb": {"temporal": "max"}}, {"pose": {"layers": 2}}],
)
def test_bad_config_is_rejected(data: dict) -> None:
    with pytest.raises(ValueError):
        ModelConfig.from_dict(data)


@pytest.mark.parametrize("kwargs", [{"window": 1}, {"centre_joint": 25}, {"num_classes": 0}])
def test_impossible_numbers_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ModelConfig(**kwargs)


def test_backbone_specs() -> None:
    assert backbone_spec("inception_v3") == BACKBONE_SPECS["inception_v3"]
    assert (BACKBONE_SPECS["inception_v3"].input_size, BACKBONE_SPECS["inception_v3"].feature_dim) == (
        299,
        2048,
    )
    lite = BACKBONE_SPECS["efficientnet_lite0"]
    assert (lite.input_size, lite.feature_dim) == (224, 1280)
    assert backbone_spec("inception_v3", 160).input_size == 160
    assert BackboneSpec.from_dict(json.loads(json.dumps(lite.to_dict()))) == lite


@pytest.mark.parametrize(
    ("name", "size"), [("inception_v3", 74), ("efficientnet_lite0", 16), ("resnet", None)]
)
def test_bad_backbone_request_is_rejected(name: str, size: int | None) -> None:
    with pytest.raises(ValueError):
        backbone_spec(name, size)


def test_models_package_and_config_import_no_torch() -> None:
    code = "import sys, models, models.config; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)

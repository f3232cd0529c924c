"""The bundled Shift-GCN model folders (models/shiftgcn-*): what they carry, and the ONNX files against
the PyTorch port on real NTU skeletons; the conversion's own checks."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from sta_hands.contract.errors import UserError
from sta_hands.contract.pose_clip import clip_joints, window_joints
from sta_hands.contract.pose_model_contract import (
    POSE_MODEL_FILE,
    POSE_MODEL_INPUT,
    POSE_MODEL_KIND,
    POSE_MODEL_OUTPUTS,
    PoseModelInfo,
    folder_kind,
)
from sta_hands.export.onnx_metadata import read_metadata
from sta_hands.export.shift_gcn_export import (
    CHECKPOINTS,
    TOLERANCE,
    export_pose_model,
    load_checkpoint,
    onnx_differences,
)
from sta_hands.models.shift_gcn import UNITS, ShiftGCN
from sta_hands.models.shift_gcn_input import INPUT_PIPELINE
from sta_hands.recordings.ntu.names import parse_sample_name
from sta_hands.recordings.ntu.skeleton import read_skeleton
from tests.conftest import NTU_SAMPLES, REPO
from tests.models.test_shift_gcn import WEIGHTS

BUNDLED = {"shiftgcn-ntu120-xsub": 120, "shiftgcn-ntu60-xsub": 60}


@pytest.mark.parametrize(("name", "classes"), sorted(BUNDLED.items()))
def test_bundled_folder_carries_its_licence_names_and_metadata(name: str, classes: int) -> None:
    folder = REPO / "models" / name
    assert folder_kind(folder) == POSE_MODEL_KIND
    info = PoseModelInfo.from_metadata(read_metadata(folder / POSE_MODEL_FILE), folder / POSE_MODEL_FILE)
    names = [
        parse_sample_name(f"S001C001P001R001A{action:03d}").class_name for action in range(1, classes + 1)
    ]
    assert list(info.class_names) == names  # exactly what `sta-hands info` says of each action code
    assert info.input_pipeline == INPUT_PIPELINE and info.window_length >= 1 and info.window_seconds > 0
    checkpoint = CHECKPOINTS[name]
    assert info.reported_accuracy == checkpoint.reported_accuracy and checkpoint.file in info.source
    assert "CC BY-NC 4.0" in info.licence
    assert "Attribution-NonCommercial 4.0 International" in (folder / "LICENSE").read_text(encoding="utf-8")
    notice = (folder / "NOTICE").read_text(encoding="utf-8")
    for needed in ("Ke Cheng", "CVPR 2020", "kchengiva/Shift-GCN", checkpoint.file, "non-commercial use"):
        assert needed in notice
    assert "20276b64d16775c2de33408beb32825d2f93ffa4" in notice


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_folder_runs_with_onnx_runtime(name: str) -> None:
    session = ort.InferenceSession(
        str(REPO / "models" / name / POSE_MODEL_FILE), providers=["CPUExecutionProvider"]
    )
    assert [i.name for i in session.get_inputs()] == [POSE_MODEL_INPUT]
    joints = np.zeros((3, 3, 60, 25, 2), np.float32)
    joints[:, 2] = 3.0
    logits, activation, pooled = session.run(list(POSE_MODEL_OUTPUTS), {POSE_MODEL_INPUT: joints})
    assert logits.shape == (3, BUNDLED[name]) and pooled.shape == (3, 256)
    assert activation.shape == (3, BUNDLED[name], 15, 25, 2)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_onnx_matches_the_port_on_real_skeletons(name: str) -> None:
    checkpoint = CHECKPOINTS[name]
    path = WEIGHTS / checkpoint.file
    if not path.exists():
        pytest.skip(f"Shift-GCN checkpoint not found at {path} (set STA_HANDS_SHIFT_GCN_WEIGHTS)")
    skeletons = [NTU_SAMPLES / "S017C003P020R002A055.skeleton"]  # two people
    if not all(p.exists() for p in skeletons):
        pytest.skip(f"real NTU skeletons not found under {NTU_SAMPLES}")
    model = load_checkpoint(path, checkpoint)
    for skeleton in skeletons:
        frames = read_skeleton(skeleton).frames
        whole = clip_joints(frames)[None]
        window = window_joints([tuple(bodies[:2]) for bodies in frames[10:70]])[None]
        for joints in (whole, window):
            differences = onnx_differences(model, REPO / "models" / name / POSE_MODEL_FILE, joints)
            assert max(differences.values()) < TOLERANCE, (skeleton.name, joints.shape, differences)


def test_a_checkpoint_with_another_sha256_is_refused(tmp_path) -> None:
    checkpoint = CHECKPOINTS["shiftgcn-ntu60-xsub"]
    path = tmp_path / checkpoint.file
    path.write_bytes(b"not the published file")
    with pytest.raises(UserError, match=f"sha256 .*, expected {checkpoint.sha256}"):
        load_checkpoint(path, checkpoint)


@pytest.mark.slow
def test_export_of_a_random_network_matches_pytorch(tmp_path) -> None:
    """The exporter on its own (no published weights needed): dynamic frames, metadata, parity."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    offsets = [(rng.uniform(-4, 4, cout), rng.uniform(-4, 4, cout)) for _, cout, _ in UNITS]
    model = ShiftGCN(5, offsets).eval()
    info = PoseModelInfo(("a", "b", "c", "d", "e"), 32, 1.0, INPUT_PIPELINE, "test", "nothing", "", "", "")
    joints = rng.normal(0.0, 0.3, (2, 3, 45, 25, 2)).astype(np.float32)
    joints[:, 2] += 3.0
    path = tmp_path / POSE_MODEL_FILE
    assert export_pose_model(model, info, path, joints) < TOLERANCE
    assert PoseModelInfo.from_metadata(read_metadata(path), path) == info

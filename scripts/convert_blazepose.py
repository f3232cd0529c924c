"""Convert MediaPipe's BlazePose networks (Apache-2.0) to the ONNX files in recordings/estimate/models.

Dev-time only, run once; the app never downloads anything. It needs TensorFlow and tf2onnx, which must not
enter the project's environment, so make a throwaway one:

    python3.11 -m venv /tmp/convert-venv
    /tmp/convert-venv/bin/pip install "tensorflow-cpu==2.17.*" "tf2onnx==1.17.*" "onnx==1.16.2" \
        onnxruntime opencv-python-headless
    /tmp/convert-venv/bin/python scripts/convert_blazepose.py            # convert, check, write
    (the same graphs and weights each run; tf2onnx's tensor names differ, so the files' bytes do)
    /tmp/convert-venv/bin/python scripts/convert_blazepose.py --check    # only compare the shipped files

What it does:
1. `pip download mediapipe==0.10.14 --no-deps` (the last wheels with the .tflite files; the wheel is
   never installed) and extract `pose_detection.tflite` and `pose_landmark_full.tflite` and the licence.
2. The detector stores 38 of its weights sparse (fp16, DENSIFY ops), which tf2onnx cannot convert: run the
   TFLite interpreter once with all tensors kept, take each DENSIFY output (the dense weight), write it
   into the flatbuffer as a plain constant and drop the DENSIFY ops.
3. tf2onnx (opset 17); the inputs and outputs get plain names; the landmark network keeps only the
   outputs used (landmarks, pose flag, world landmarks): the segmentation mask and the heatmap branch are
   cut (40 % of its time: 18.2 -> 11 CPU ms per run); weights that came from fp16 are stored as fp16 with a
   Cast that ONNX Runtime folds at load time (half the file, the same fp32 arithmetic).
4. Check: every output of both ONNX files against the TFLite interpreter on real NTU frames (the full
   frame letterboxed for the detector, the person's region for the landmarks), and time both: CPU time of
   one thread per run, which other work on a busy machine does not inflate as it does wall time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "recordings" / "estimate" / "models"
NTU = REPO.parent / "shared" / "samples" / "ntu"
WHEEL = "mediapipe==0.10.14"
MEMBERS = {
    "pose_detection": "mediapipe/modules/pose_detection/pose_detection.tflite",
    "pose_landmark_full": "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
}
# tflite name -> ONNX name, per network; outputs not named here are cut from the ONNX graph
RENAMES = {
    "pose_detection": {"input_1": "image", "Identity": "boxes", "Identity_1": "scores"},
    "pose_landmark_full": {
        "input_1": "image", "Identity": "landmarks", "Identity_1": "pose_flag",
        "Identity_4": "world_landmarks",
    },
}  # fmt: skip


def fetch_tflite(work: Path) -> dict[str, Path]:
    """The two .tflite files and the wheel's LICENSE, extracted from the downloaded wheel into `work`."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "--only-binary", ":all:",
         "--python-version", "3.11", "--platform", "manylinux2014_x86_64", "-d", str(work), "-q"],
        check=True,
    )  # fmt: skip
    wheel = next(work.glob("mediapipe-*.whl"))
    paths = {}
    with zipfile.ZipFile(wheel) as archive:
        for name, member in MEMBERS.items():
            paths[name] = work / f"{name}.tflite"
            paths[name].write_bytes(archive.read(member))
        licence = next(n for n in archive.namelist() if n.endswith(".dist-info/LICENSE"))
        (work / "LICENSE").write_bytes(archive.read(licence))
    return paths


def densify(source: Path, target: Path) -> int:
    """Write `source` with every DENSIFY op replaced by its dense output as a constant; returns how many."""
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(source))
    graph = model.subgraphs[0]
    codes = [max(code.builtinCode, code.deprecatedBuiltinCode) for code in model.operatorCodes]
    is_densify = [codes[op.opcodeIndex] == schema.BuiltinOperator.DENSIFY for op in graph.operators]
    interpreter = tf.lite.Interpreter(model_path=str(source), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], np.float32))
    interpreter.invoke()  # DENSIFY outputs depend on the constants only, not on the input
    for op, dense in zip(graph.operators, is_densify, strict=True):
        if not dense:
            continue
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(interpreter.get_tensor(op.outputs[0]).tobytes(), np.uint8)
        model.buffers.append(buffer)
        for tensor in (graph.tensors[op.outputs[0]], graph.tensors[op.inputs[0]]):
            tensor.buffer = len(model.buffers) - 1  # the sparse input, now unused, must still parse
            tensor.sparsity = None
    graph.operators = [op for op, dense in zip(graph.operators, is_densify, strict=True) if not dense]
    flatbuffer_utils.write_model(model, str(target))
    return sum(is_densify)


def to_onnx(tflite: Path, renames: dict[str, str], target: Path) -> None:
    """tf2onnx, then keep the renamed outputs only, plain names, fp16-stored weights."""
    import onnx
    import tf2onnx
    from onnx import utils

    proto, _ = tf2onnx.convert.from_tflite(str(tflite), opset=17)
    kept = [output.name for output in proto.graph.output if output.name in renames]
    proto = utils.Extractor(proto).extract_model([i.name for i in proto.graph.input], kept)
    for node in proto.graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    for value in [*proto.graph.input, *proto.graph.output]:
        value.name = renames.get(value.name, value.name)
    store_fp16(proto)
    proto.producer_name = "sta-hands scripts/convert_blazepose.py (tf2onnx)"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(target))


def store_fp16(proto) -> None:  # proto: onnx.ModelProto
    """Float weights that fp16 holds exactly are stored as fp16 and cast back to fp32 at load time."""
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for initializer in proto.graph.initializer:
        if initializer.data_type != TensorProto.FLOAT:
            continue
        value = numpy_helper.to_array(initializer)
        half = value.astype(np.float16)
        if value.size < 16 or not np.array_equal(half.astype(np.float32), value):
            continue
        name = initializer.name
        initializer.CopyFrom(numpy_helper.from_array(half, name + "_fp16"))
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT))
    for cast in reversed(casts):
        proto.graph.node.insert(0, cast)


def ntu_frames(count: int = 4) -> list[np.ndarray]:
    """A few RGB frames of each real NTU video in shared/samples (none when absent)."""
    frames = []
    for video in sorted(NTU.glob("*_rgb.avi")):
        capture = cv2.VideoCapture(str(video))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        for index in np.linspace(0, max(total - 1, 0), count).astype(int):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, image = capture.read()
            if ok:
                frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        capture.release()
    return frames


def network_inputs(frames: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Per network, its inputs made from `frames` the way recordings/estimate makes them."""
    from sta_hands.recordings.estimate.detector import detector_input
    from sta_hands.recordings.estimate.landmarks import landmark_input
    from sta_hands.recordings.estimate.roi import Roi

    inputs: dict[str, list[np.ndarray]] = {"pose_detection": [], "pose_landmark_full": []}
    for rgb in frames:
        tensor, _ = detector_input(rgb[..., ::-1])
        inputs["pose_detection"].append(tensor)
        height, width = rgb.shape[:2]
        for centre_x in (0.35, 0.5, 0.65):  # the person's region is not known here: three squares
            roi = Roi(centre_x * width, 0.5 * height, 0.8 * height, 0.0)
            inputs["pose_landmark_full"].append(landmark_input(rgb[..., ::-1], roi))
    return inputs


def compare(tflite: Path, onnx_path: Path, renames: dict[str, str], tensors: list[np.ndarray]) -> None:
    """Print the largest difference per output, and both runtimes' median CPU ms per run on one thread
    (the thread's own CPU time: other work on the machine does not inflate it, as it does wall time)."""
    import onnxruntime as ort
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(tflite), num_threads=1)
    interpreter.allocate_tensors()
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    worst = dict.fromkeys(names, 0.0)
    times: dict[str, list[float]] = {"tflite": [], "onnx": []}
    for tensor in tensors:
        start = time.thread_time()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor[None])
        interpreter.invoke()
        times["tflite"].append(time.thread_time() - start)
        reference = {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
        start = time.thread_time()
        outputs = session.run(None, {"image": tensor[None]})
        times["onnx"].append(time.thread_time() - start)
        for old, new in renames.items():
            if new in names:
                got = outputs[names.index(new)]
                worst[new] = max(worst[new], float(np.abs(reference[old].reshape(got.shape) - got).max()))
    print(f"{onnx_path.name}: {len(tensors)} real NTU inputs; largest |onnx - tflite| per output:")
    for name, value in worst.items():
        print(f"  {name:16s} {value:.2g}")
    medians = ", ".join(f"{runtime} {1000 * np.median(values):.1f}" for runtime, values in times.items())
    print(f"  median CPU ms on 1 thread: {medians}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the shipped .onnx files")
    parser.add_argument("--work", type=Path, help="keep the downloaded and intermediate files here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="blazepose-"))
    work.mkdir(parents=True, exist_ok=True)
    tflite = fetch_tflite(work)
    if not args.check:
        dense = work / "pose_detection_dense.tflite"
        print(f"densified {densify(tflite['pose_detection'], dense)} sparse weights of the detector")
        OUT.mkdir(parents=True, exist_ok=True)
        to_onnx(dense, RENAMES["pose_detection"], OUT / "pose_detection.onnx")
        to_onnx(tflite["pose_landmark_full"], RENAMES["pose_landmark_full"], OUT / "pose_landmark_full.onnx")
        shutil.copyfile(work / "LICENSE", OUT / "LICENSE")
    frames = ntu_frames()
    if not frames:
        print(f"no NTU videos in {NTU}: outputs not checked")
        return 0
    inputs = network_inputs(frames)
    for name in ("pose_detection", "pose_landmark_full"):
        compare(tflite[name], OUT / f"{name}.onnx", RENAMES[name], inputs[name])
    if args.work is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())

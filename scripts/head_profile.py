"""Where the split head's time goes: ONNX Runtime's profiler on `head.onnx`, per op type and per part
of the model, beside the plain time per prediction under each head-session setting, float32 and with
int8 GRU matrices (issue 14).

    nice python scripts/head_profile.py [--hidden 1024] [--calls 300] [--folder DIR ...]

The heads are exported as `sta-hands bench` exports them (random weights at the paper's sizes, 11
classes, the split head of `export.projected_head`; `export.quantize.quantize_gru_matrices` for int8),
and fed as the recognizer feeds them (batch 1, cached projections). `--folder` adds heads exported
earlier (a model folder holding head.onnx), e.g. the previous export form, to the timing table.

The profiler's own bookkeeping makes every node several times slower, so its columns are shares (of
the summed kernel time), not milliseconds; the timing table is measured without it: every setting's
session is opened once and they are timed in turn, round after round, so the load of the shared
cores falls on all of them alike (fastest call and median).
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from sta_hands.app.runtime import HeadSettings, session_options
from sta_hands.contract.onnx_contract import HEAD_FILE, HEAD_OUTPUTS
from sta_hands.export.onnx import ExportMetadata, export_model
from sta_hands.export.quantize import quantize_gru_matrices
from sta_hands.models.config import ModelConfig, RgbStreamConfig
from sta_hands.models.glimpse import build_backbone
from sta_hands.models.two_stream import TwoStreamModel

REPO = Path(__file__).resolve().parents[1]

from scripts.recurrence_bound import chain_files  # noqa: E402

SETTINGS = {  # (the head session's settings, the batch fixed at 1: tried, not the app's)
    "app before: 2 threads, not spinning": (HeadSettings(threads=2, spinning=False), False),
    "1 thread (the app's with int8 GRU matrices)": (HeadSettings(threads=1), False),
    "1 thread, batch fixed at 1": (HeadSettings(threads=1), True),
    "2 threads, spinning during the run": (HeadSettings(threads=2, spinning=True), False),
    "2 threads, spinning, batch fixed at 1": (HeadSettings(threads=2, spinning=True), True),
}


def export_heads(folder: Path, hidden: int) -> dict[str, Path]:
    """float32 and int8 split-head folders at the paper's sizes (bench's export, a small glimpse)."""
    torch.manual_seed(0)
    backbone = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    config = ModelConfig(
        num_classes=11, feature_dim=backbone.spec.feature_dim, rgb=RgbStreamConfig(hidden_size=hidden)
    )
    model = TwoStreamModel(config).eval()
    classes = tuple(f"class {i}" for i in range(config.num_classes))
    export_model(
        model, backbone, ExportMetadata(classes, 1.0, "random (head_profile)", "profile"), folder / "fp32"
    )
    int8 = folder / "int8"
    int8.mkdir()
    for path in (folder / "fp32").glob("*.onnx"):
        int8.joinpath(path.name).write_bytes(path.read_bytes())
    quantize_gru_matrices(int8)
    return {"float32": folder / "fp32" / HEAD_FILE, "int8": int8 / HEAD_FILE}


def int8_graph(path: Path) -> str:
    """ "int8" when the graph reads a matrix as int8 (`export.quantize`), else "float32"."""
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    return "int8" if ops & {"MatMulInteger", "DynamicQuantizeMatMul"} else "float32"


def head_feeds(path: Path) -> dict[str, np.ndarray]:
    """Batch-1 inputs of the head's shapes: a person's pose, three of the four hands present."""
    width = onnx.load(str(path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim[-1]
    rng = np.random.default_rng(0)
    pose = (rng.standard_normal((1, 20, 150)) * 0.3).astype(np.float32)
    pose[..., 2::3] += 3.0
    mask = np.ones((1, 20, 4), np.float32)
    mask[..., 3] = 0.0
    names = [i.name for i in onnx.load(str(path)).graph.input]
    projected = (rng.standard_normal((1, 20, 4, width.dim_value)) * 0.1).astype(np.float32)
    return dict(zip(names, (projected * mask[..., None], mask, pose), strict=True))


def open_head(path: Path, settings: HeadSettings, batch_one: bool = False, **extra) -> ort.InferenceSession:
    """The head's session as `OnnxModel` opens it, with `extra` options set; `batch_one`: ONNX Runtime
    told that the batch dimension "B" is 1, so it folds the shape arithmetic kept for a free batch."""
    options = session_options(ort, settings.threads, settings.spinning)
    if batch_one:
        options.add_free_dimension_override_by_name("B", 1)
    for name, value in extra.items():  # profiling, the optimised graph's file
        setattr(options, name, value)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def time_interleaved(calls: dict[str, Callable[[], object]], rounds: int, per_round: int) -> dict[str, dict]:
    """Each call timed per_round times in turn, for `rounds` rounds: fastest and median ms."""
    times: dict[str, list[float]] = collections.defaultdict(list)
    for call in calls.values():
        for _ in range(10):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(per_round):
                started = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - started)
    return {
        name: {"min_ms": min(t) * 1e3, "median_ms": float(np.median(t)) * 1e3} for name, t in times.items()
    }


def node_overhead_us(nodes: int = 400, calls: int = 200) -> float:
    """ONNX Runtime's cost per node when the node does next to nothing: a chain of `nodes` Adds of
    one float, fastest call / nodes (one thread)."""
    one = onnx.numpy_helper.from_array(np.ones(1, np.float32), "one")
    chain = [onnx.helper.make_node("Add", [f"x{i}", "one"], [f"x{i + 1}"]) for i in range(nodes)]
    graph = onnx.helper.make_graph(
        chain,
        "chain",
        [onnx.helper.make_tensor_value_info("x0", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info(f"x{nodes}", onnx.TensorProto.FLOAT, [1])],
        [one],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every Add
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {"x0": np.zeros(1, np.float32)}
    timing = time_interleaved({"chain": lambda: session.run(None, feeds)}, 1, calls)
    return timing["chain"]["min_ms"] * 1e3 / nodes


def part_of_model(graph: onnx.GraphProto) -> dict[str, str]:
    """Node name -> which part of the model it belongs to, from the optimised graph's structure."""
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    products = [
        n.name
        for n in graph.node
        if any(len(shapes.get(i, ())) == 2 and shapes[i][1] == 3 * shapes[i][0] for i in n.input)
    ]  # the nodes reading W_hh (H x 3H): one per recurrent step
    consumers = collections.defaultdict(list)
    producer = {}
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
        for name in node.output:
            producer[name] = node
    by_name = {n.name: n for n in graph.node}

    def walk(start: list[str], forward: bool) -> set[str]:
        seen, todo = set(), list(start)
        while todo:
            node = by_name[todo.pop()]
            if node.name in seen:
                continue
            seen.add(node.name)
            if forward:
                todo += [c.name for out in node.output for c in consumers[out]]
            else:
                todo += [producer[i].name for i in node.input if i in producer]
        return seen

    joined = [n.name for n in graph.node if n.op_type == "Concat" and len(n.input) >= 19]  # the states
    recurrence = walk(products, True) & walk(joined, False) if products and joined else set(products)
    from_pose = walk([c.name for c in consumers["pose"]], True)
    from_glimpses = walk([c.name for c in consumers[graph.input[0].name]], True)
    parts = {}
    for node in graph.node:
        if "pose_stream" in node.name:
            parts[node.name] = "pose stream (Deep GRU, classifier)"
        elif "attention" in node.name:
            parts[node.name] = "attention MLPs"
        elif node.name in recurrence:
            parts[node.name] = "RGB recurrence (20 steps)"
        elif node.name in from_pose and node.name not in from_glimpses:
            parts[node.name] = "pose features (centre, velocity, acceleration)"
        else:
            parts[node.name] = "weighted sum, pooling, classifiers"
    return parts


def profile(path: Path, settings: HeadSettings, runs: int, work: Path) -> dict:
    """Shares of the summed kernel time per op type and per part of the model, and node counts."""
    optimised = work / f"{path.parent.name}-optimised.onnx"
    session = open_head(
        path, settings, enable_profiling=True, profile_file_prefix=str(work / path.parent.name),
        optimized_model_filepath=str(optimised),
    )  # fmt: skip
    feeds = head_feeds(path)
    for _ in range(runs):
        session.run(list(HEAD_OUTPUTS), feeds)
    events = json.loads(Path(session.end_profiling()).read_text())
    parts = part_of_model(onnx.load(str(optimised)).graph)
    kernels = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    total = sum(e["dur"] for e in kernels)
    by_op, by_part = collections.Counter(), collections.Counter()
    count_op, count_part = collections.Counter(), collections.Counter()
    for event in kernels:
        op, node = event["args"]["op_name"], event["name"].removesuffix("_kernel_time")
        by_op[op] += event["dur"] / total
        count_op[op] += 1 / (runs + 1)  # the session's first run is profiled too
        part = parts.get(node, "weighted sum, pooling, classifiers")
        by_part[part] += event["dur"] / total
        count_part[part] += 1 / (runs + 1)
    return {
        "nodes": round(len(kernels) / (runs + 1)),
        "by_part": {k: (v, round(count_part[k])) for k, v in by_part.most_common()},
        "by_op": {k: (v, round(count_op[k])) for k, v in by_op.most_common(10)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--calls", type=int, default=300, help="timed calls per setting (in 10 rounds)")
    parser.add_argument("--folder", type=Path, action="append", default=[], help="another head to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="head-profile-") as tmp:
        work = Path(tmp)
        heads = export_heads(work, args.hidden)
        heads.update({str(folder): folder / HEAD_FILE for folder in args.folder})
        print(f"per-node overhead (a chain of 400 one-float Adds, 1 thread): {node_overhead_us():.2f} us")
        for name, path in heads.items():
            if name in ("float32", "int8"):
                report = profile(path, HeadSettings(threads=1), 50, work)
                print(f"\n{name} head, profiled (1 thread): {report['nodes']} nodes per prediction")
                print("| part | share of kernel time | nodes |\n| --- | --- | --- |")
                for part, (share, count) in report["by_part"].items():
                    print(f"| {part} | {share:.0%} | {count} |")
                print("| op type | share | nodes |\n| --- | --- | --- |")
                for op, (share, count) in report["by_op"].items():
                    print(f"| {op} | {share:.0%} | {count} |")
        calls, bounds = {}, {}
        chains = chain_files(work, args.hidden)  # scripts/recurrence_bound.py's 20 W_hh products
        for label, (settings, batch_one) in SETTINGS.items():
            for precision, path in chains.items():
                session = open_head(path, settings, batch_one)
                state = {"h0": np.full((1, args.hidden), 0.1, np.float32)}
                bounds[(precision, label)] = f"chain of 20 W_hh products, {precision} | {label}"
                calls[bounds[(precision, label)]] = lambda s=session, f=state: s.run(None, f)
        for name, path in heads.items():
            feeds = head_feeds(path)
            for label, (settings, batch_one) in SETTINGS.items():
                session = open_head(path, settings, batch_one)
                calls[f"{name} | {label}"] = lambda s=session, f=feeds: s.run(list(HEAD_OUTPUTS), f)
        timing = time_interleaved(calls, 10, max(1, args.calls // 10))
        print("\n| head | session setting | fastest ms | median ms | x the chain (fastest) |")
        print("| --- | --- | --- | --- | --- |")
        for name, row in timing.items():
            label = name.split(" | ")[1]
            precision = "int8" if name.startswith("chain") and "int8" in name.split(" | ")[0] else None
            path = heads.get(name.split(" | ")[0])
            precision = precision or (int8_graph(path) if path else "float32")
            chain = timing[bounds[(precision, label)]]["min_ms"]
            print(f"| {name} | {row['min_ms']:.2f} | {row['median_ms']:.2f} | {row['min_ms'] / chain:.2f} |")


if __name__ == "__main__":
    main()

"""A local Ray instance (`--engine ray` without `--address`) listens on the loopback address alone: a Ray
instance has no authentication before Ray 2.52 (docs/ntu.md), so its ports must not face the network."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

# In a fresh interpreter: Ray reads its single-machine switch once, when first imported.
PROBE = """
import json, os, subprocess
from sta_hands.models.ray_engine import connect
ray = connect(None)
listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
ours = ("gcs_server", "raylet", "ray::", f"pid={os.getpid()},")
addresses = [line.split()[3] for line in listening if any(name in line for name in ours)]
print(json.dumps({"node": ray.util.get_node_ip_address(), "gcs": ray.get_runtime_context().gcs_address,
                  "listening": addresses}))
ray.shutdown()
"""


@pytest.mark.slow
def test_a_local_ray_instance_listens_on_the_loopback_address_alone() -> None:
    pytest.importorskip("ray", reason="the Ray engines need the cluster extra")
    if shutil.which("ss") is None:
        pytest.skip("`ss` (iproute2) is needed to list the listening sockets")
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=240, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["node"] == "127.0.0.1" and seen["gcs"].startswith("127.0.0.1:"), seen
    assert len(seen["listening"]) >= 3, seen  # the GCS, the raylet, the driver at least
    for address in seen["listening"]:
        assert address.rsplit(":", 1)[0] in ("127.0.0.1", "[::ffff:127.0.0.1]", "[::1]"), seen

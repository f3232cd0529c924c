"""The live Kinect v2 source against a fake of pykinect2024's runtime (Linux, no sensor)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from sta_hands.contract.frame import Body, Frame
from sta_hands.recordings.kinect import binding as kinect_binding
from sta_hands.recordings.kinect import convert as kinect_convert
from sta_hands.recordings.kinect.binding import NO_BINDING, NO_SDK, NO_SENSOR, NOT_WINDOWS, KinectUnavailable
from sta_hands.recordings.kinect.source import BodyPairer, KinectSource, KinectStatus
from sta_hands.recordings.own.recording import RecordingWriter, open_recording
from tests.polling import until
from tests.recordings.fake_kinect import (
    FakeClock,
    FakeKinect,
    FakePerson,
    Outage,
    RealClock,
    color_pixels,
    depth_pixels,
    joint_tracking,
    person_joints,
)

ALICE = FakePerson(72057594037931101, slot=0, offset=(-0.4, 0.0, 2.5))
BOB = FakePerson(72057594037931202, slot=2, offset=(0.5, 0.1, 3.0))
CAROL = FakePerson(72057594037931303, slot=0, offset=(-0.3, 0.0, 2.2))


def make_source(
    world: FakeKinect, statuses: list[KinectStatus] | None = None, **options: float
) -> KinectSource:
    """A source on the world's virtual clock: polls advance virtual time, so tests run in no time."""
    clock = world.clock
    assert isinstance(clock, FakeClock)
    settings = {"lost_after": 0.3, "connect_timeout": 0.5, "retry_every": 0.2, **options}
    return KinectSource(
        runtime_factory=world.factory,
        on_status=None if statuses is None else statuses.append,
        clock=clock,
        sleep=clock.sleep,
        **settings,
    )


def take(source: KinectSource, count: int) -> list[Frame]:
    frames = source.frames()
    try:
        return list(islice(frames, count))
    finally:
        frames.close()


def ids(frame: Frame) -> list[int]:
    return [body.id for body in frame.bodies]


# ------------------------------------------------------------------------------------------- colour


def test_colour_is_bgr_uint8_at_full_size_without_flipping() -> None:
    world = FakeKinect(width=1920, height=1080, end=0.2)
    frames = take(make_source(world), 3)
    assert [f.index for f in frames] == [0, 1, 2]
    for number, frame in enumerate(frames):
        assert frame.image is not None
        assert frame.image.shape == (1080, 1920, 3) and frame.image.dtype == np.uint8
        expected = world.color_data(number).reshape(1080, 1920, 4)[:, :, :3]
        np.testing.assert_array_equal(frame.image, expected)  # B, G, R kept; columns not mirrored
    assert frames[0].timestamp == 0.0


def test_bgr_from_bgra_checks_the_size() -> None:
    data = np.arange(2 * 3 * 4, dtype=np.uint8)
    image = kinect_convert.bgr_from_bgra(data, 3, 2)
    np.testing.assert_array_equal(image, data.reshape(2, 3, 4)[:, :, :3])
    with pytest.raises(ValueError, match="expected 4x2x4"):
        kinect_convert.bgr_from_bgra(data, 4, 2)


# ------------------------------------------------------------------------------------------- bodies


def test_joints_tracking_ids_and_pixels_become_bodies() -> None:
    world = FakeKinect(end=0.3, people=lambda t: [ALICE, BOB], body_lag=-0.008)  # bodies just before
    frame = take(make_source(world), 4)[-1]
    assert ids(frame) == [ALICE.tracking_id, BOB.tracking_id]  # slot order, ids exact (> 2**53)
    for body, person in zip(frame.bodies, (ALICE, BOB), strict=True):
        t = world.body_time(3)
        joints = person_joints(person, t).astype(np.float64)
        np.testing.assert_array_equal(body.joints, joints)
        np.testing.assert_array_equal(body.tracking, joint_tracking(person))
        np.testing.assert_allclose(body.color_px, color_pixels(joints), rtol=1e-6)
        np.testing.assert_allclose(body.depth_px, depth_pixels(joints), rtol=1e-6)
        np.testing.assert_allclose(body.orientation[0], [0.8, 0.0, 0.6, 0.0])  # w x y z
        assert (body.hand_left_state, body.hand_right_state, body.hand_left_confidence) == (2, 3, 1)
        assert body.lean == (0.25, -0.125) and body.lean_tracking == 2


def test_the_mapper_is_called_once_per_body_and_never_per_joint() -> None:
    world = FakeKinect(end=0.5, people=lambda t: [ALICE, BOB] if t < 0.3 else [ALICE])
    take(make_source(world), 12)
    calls: dict[str, int] = {}
    for runtime in world.runtimes:
        for name, count in runtime._mapper.calls.items():
            calls[name] = calls.get(name, 0) + count
    assert world.bodies_sent() > 0
    assert calls.get("MapCameraPointsToColorSpace") == world.bodies_sent()
    assert calls.get("MapCameraPointsToDepthSpace") == world.bodies_sent()
    assert "MapCameraPointToColorSpace" not in calls


def test_map_depth_off_skips_the_depth_mapping() -> None:
    world = FakeKinect(end=0.3, people=lambda t: [ALICE])
    frame = take(make_source(world, map_depth=False), 3)[-1]
    assert "MapCameraPointsToDepthSpace" not in world.runtimes[0]._mapper.calls
    np.testing.assert_array_equal(frame.bodies[0].depth_px, np.zeros((25, 2)))


def test_points_the_sdk_cannot_map_become_nan() -> None:
    behind = FakePerson(5, offset=(0.0, 0.0, -3.0))  # z < 0: the fake maps to -inf, as the SDK does
    world = FakeKinect(end=0.3, people=lambda t: [behind])
    body = take(make_source(world), 3)[-1].bodies[0]
    assert np.isnan(body.color_px).all() and np.isfinite(body.joints).all()


def test_bodies_appear_disappear_and_change_ids() -> None:
    def people(t: float) -> list[FakePerson]:
        if t < 0.4:
            return [ALICE]
        if t < 0.8:
            return [ALICE, BOB]
        if t < 1.2:
            return [BOB]
        if t < 1.6:
            return []
        return [CAROL, BOB]  # slot 0 tracked again, under a new id

    world = FakeKinect(end=2.0, people=people)
    frames = take(make_source(world), 56)
    expected = {0.2: [ALICE], 0.6: [ALICE, BOB], 1.0: [BOB], 1.4: [], 1.8: [CAROL, BOB]}
    for t, persons in expected.items():
        frame = min(frames, key=lambda f: abs(f.timestamp + world.start - t))
        assert ids(frame) == [p.tracking_id for p in persons], t


# ------------------------------------------------------------------------------------------- pairing


def test_pairer_takes_the_nearest_body_frame_within_tolerance() -> None:
    pairer = BodyPairer(tolerance=1 / 30)
    a, b = (_body(1),), (_body(2),)
    assert pairer.match(0.0) == ()
    pairer.add(1.000, a)
    pairer.add(1.033, b)
    assert pairer.match(1.010) == a
    assert pairer.match(1.030) == b
    assert pairer.match(1.060) == b  # carried: still within tolerance
    assert pairer.match(1.070) == ()  # too old: no bodies rather than stale ones
    pairer.add(1.066, ())
    assert pairer.match(1.070) == ()  # an empty body frame is a real answer
    pairer.clear()
    assert pairer.match(1.033) == ()


def _body(seed: int) -> Body:
    return Body(id=seed, joints=np.zeros((25, 3)), color_px=np.zeros((25, 2)), tracking=np.zeros(25))


def test_colour_frames_without_a_close_body_frame_have_no_bodies() -> None:
    world = FakeKinect(end=1.2, people=lambda t: [ALICE], body_gaps=[(0.40, 0.70)])
    frames = take(make_source(world, pair_tolerance=1 / 30), 28)
    for frame in frames:
        t = frame.timestamp + world.start
        if 0.42 + 1 / 30 < t < 0.68:
            assert frame.bodies == (), t
        elif 0.11 < t < 0.38 or t > 0.75:  # the first colour frame comes before any body frame
            assert ids(frame) == [ALICE.tracking_id], t


def test_a_frame_takes_the_bodies_of_its_own_time_not_older_ones() -> None:
    world = FakeKinect(end=1.0, people=lambda t: [ALICE] if t < 0.5 else [BOB])
    for frame in take(make_source(world), 25):
        t = frame.timestamp + world.start
        if abs(t - 0.5) > 0.05 and t > 0.11:
            assert ids(frame) == [(ALICE if t < 0.5 else BOB).tracking_id], t


# ------------------------------------------------------------------------------------------ unplugging


@pytest.mark.parametrize("mode", ["silent", "raise"])
@pytest.mark.parametrize("fail_creation", [False, True])
def test_unplug_is_reported_and_frames_continue_after_reconnecting(mode: str, fail_creation: bool) -> None:
    world = FakeKinect(
        end=3.5,
        people=lambda t: [ALICE],
        outages=[Outage(1.0, 2.0, mode)],  # type: ignore[arg-type]
        fail_creation_when_unplugged=fail_creation,
    )
    statuses: list[KinectStatus] = []
    source = make_source(world, statuses)
    frames = take(source, 45)
    assert [f.index for f in frames] == list(range(45))
    times = np.array([f.timestamp for f in frames])
    assert np.all(np.diff(times) > 0)
    gap = int(np.argmax(np.diff(times)))
    assert 0.9 < times[gap + 1] - times[gap] < 1.6  # the outage, then frames again
    assert frames[gap].timestamp + world.start < 1.0 and frames[gap + 1].timestamp + world.start > 1.95
    assert ids(frames[gap + 1]) == [ALICE.tracking_id] or ids(frames[gap + 2]) == [ALICE.tracking_id]
    states = [s.state for s in statuses]
    assert states == ["starting", "streaming", "lost", "streaming", "stopped"]
    assert "lost" in statuses[2].message and "waiting" in statuses[2].message
    assert "back" in statuses[3].message and statuses[3].reconnects == 1
    assert len(world.runtimes) >= 2 and all(r.closed for r in world.runtimes)
    assert source.status.state == "stopped"


def test_lost_sensor_is_noticed_through_is_available_before_the_timeout() -> None:
    world = FakeKinect(end=3.0, outages=[Outage(1.0, 2.0)])
    statuses: list[KinectStatus] = []
    take(make_source(world, statuses, lost_after=5.0, connect_timeout=6.0), 40)
    lost = next(s for s in statuses if s.state == "lost")
    assert "unavailable" in lost.message


def test_frames_keep_going_when_status_callback_fails() -> None:
    def broken(status: KinectStatus) -> None:
        raise RuntimeError("GUI gone")

    world = FakeKinect(end=0.5)
    clock = world.clock
    assert isinstance(clock, FakeClock)
    source = KinectSource(runtime_factory=world.factory, on_status=broken, clock=clock, sleep=clock.sleep)
    assert len(take(source, 5)) == 5


# ------------------------------------------------------------------------------------------ stopping


def test_closing_the_generator_closes_the_runtime() -> None:
    world = FakeKinect(end=1.0)
    source = make_source(world)
    frames = source.frames()
    next(frames)
    frames.close()
    (runtime,) = world.runtimes
    assert runtime.closed and runtime.closed_in == runtime.created_in == threading.get_ident()
    assert source.status.state == "stopped"
    assert len(take(source, 2)) == 2  # reusable once the previous iteration ended


def test_a_generator_finalised_in_another_thread_leaves_the_runtime_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = FakeKinect(end=1.0)
    frames = make_source(world).frames()
    reader = threading.Thread(target=lambda: next(frames))
    reader.start()
    reader.join(5)
    frames.close()  # here, not in the reader thread: COM objects must not be touched from here
    (runtime,) = world.runtimes
    assert runtime.threads == {reader.ident} and not runtime.closed
    assert "not closed" in caplog.text


def test_stop_from_another_thread_closes_the_runtime_in_the_capture_thread() -> None:
    world = FakeKinect(clock=RealClock(), start=0.0, fps=100.0)
    source = KinectSource(runtime_factory=world.factory)
    received: list[Frame] = []
    reader = threading.Thread(target=lambda: received.extend(source), name="kinect-test")
    reader.start()
    assert until(lambda: len(received) >= 3), "timed out"
    source.stop()
    reader.join(5)
    assert not reader.is_alive()
    (runtime,) = world.runtimes
    assert runtime.closed
    assert runtime.created_in == runtime.closed_in == reader.ident
    assert runtime.threads == {reader.ident}  # nothing touched it from this thread
    assert [f.index for f in received] == list(range(len(received)))


def test_stop_ends_a_wait_for_the_sensor_to_come_back() -> None:
    world = FakeKinect(clock=RealClock(), start=0.0, fps=100.0, end=0.1)  # frames stop: "unplugged"
    statuses: list[KinectStatus] = []
    source = KinectSource(runtime_factory=world.factory, on_status=statuses.append, lost_after=0.1,
                          retry_every=0.05, connect_timeout=0.2)  # fmt: skip
    reader = threading.Thread(target=lambda: list(source))
    reader.start()
    assert until(lambda: len(world.runtimes) >= 2), "timed out"
    source.stop()
    reader.join(5)
    assert not reader.is_alive()
    assert "lost" in [s.state for s in statuses]
    assert all(r.closed and r.closed_in == reader.ident for r in world.runtimes)


def test_capture_thread_runs_the_source_and_closes_it_in_its_thread() -> None:
    from sta_hands.app.capture import CaptureThread
    from sta_hands.app.ring import FrameRing

    world = FakeKinect(clock=RealClock(), start=0.0, fps=100.0)
    source = KinectSource(runtime_factory=world.factory)
    ring: FrameRing[Frame] = FrameRing(1000)
    capture = CaptureThread(source, ring, name="kinect-capture").start()
    assert until(lambda: len(ring) >= 3), "timed out"
    source.stop()
    capture.stop()
    assert not capture.running
    assert capture.events.get(timeout=1).kind == "end"
    (runtime,) = world.runtimes
    assert runtime.closed and runtime.threads == {capture._thread.ident}


def test_one_iteration_at_a_time() -> None:
    world = FakeKinect(end=1.0)
    source = make_source(world)
    first = source.frames()
    next(first)
    with pytest.raises(RuntimeError, match="already"):
        next(source.frames())
    first.close()


# ------------------------------------------------------------------------------------ what is missing


def test_no_sensor_gives_one_line() -> None:
    world = FakeKinect(start=1e9)  # no frame ever
    statuses: list[KinectStatus] = []
    with pytest.raises(KinectUnavailable) as caught:
        take(make_source(world, statuses), 1)
    assert str(caught.value) == NO_SENSOR
    assert statuses[-1] == KinectStatus("failed", NO_SENSOR)
    assert world.runtimes[0].closed


def test_a_runtime_that_cannot_open_gives_the_no_sensor_line() -> None:
    def factory() -> object:
        raise OSError("[WinError -2147023728] Element not found")

    with pytest.raises(KinectUnavailable, match=f"^{NO_SENSOR}") as caught:
        take(KinectSource(runtime_factory=factory), 1)
    assert "\n" not in str(caught.value)


def test_not_windows_gives_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(KinectUnavailable) as caught:
        take(KinectSource(), 1)  # the default factory: the real binding
    assert str(caught.value) == NOT_WINDOWS
    assert kinect_binding.kinect_status() == (False, NOT_WINDOWS)


def test_missing_binding_gives_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(kinect_binding, "_find_spec", lambda name: None)
    with pytest.raises(KinectUnavailable) as caught:
        take(KinectSource(), 1)
    assert str(caught.value) == NO_BINDING
    assert "pip install 'sta-hands[kinect]' (Windows only)" in NO_BINDING
    assert kinect_binding.kinect_status() == (False, NO_BINDING)


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Write a fake `pykinect2024` package (file name -> source) importable for this test only."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(kinect_binding, "apply_shims", lambda package: [])  # leave NumPy alone here
    monkeypatch.syspath_prepend(str(tmp_path))
    package = tmp_path / "pykinect2024"
    package.mkdir()

    def write(name: str, source: str) -> None:
        (package / name).write_text(source)

    write("__init__.py", "")
    yield write
    for name in [name for name in sys.modules if name.split(".")[0] == "pykinect2024"]:
        del sys.modules[name]


def test_missing_sdk_gives_one_line(fake_package: Callable[[str, str], None]) -> None:
    error = "FileNotFoundError(\"Could not find module 'Kinect20' (or one of its dependencies).\")"
    fake_package("PyKinect2024.py", f"raise {error}\n")
    fake_package("PyKinectRuntime.py", "from pykinect2024 import PyKinect2024\n")
    with pytest.raises(KinectUnavailable) as caught:
        take(KinectSource(), 1)
    assert str(caught.value) == NO_SDK
    assert "install the Kinect for Windows SDK 2.0 from Microsoft" in NO_SDK


def test_missing_comtypes_points_at_the_extra(fake_package: Callable[[str, str], None]) -> None:
    fake_package("PyKinect2024.py", "import comtypes_not_installed_here\n")
    fake_package("PyKinectRuntime.py", "from pykinect2024 import PyKinect2024\n")
    with pytest.raises(KinectUnavailable, match=r"sta-hands\[kinect\].*comtypes_not_installed_here"):
        kinect_binding.load_binding()


def test_sdk_status_and_a_working_binding(
    fake_package: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_package("PyKinect2024.py", "FrameSourceTypes_Color = 1\nFrameSourceTypes_Body = 32\n")
    fake_package(
        "PyKinectRuntime.py",
        "from tests.recordings.fake_kinect import FakeKinect\n"
        "WORLD = FakeKinect(start=0.0)\n"
        "class PyKinectRuntime:\n"
        "    def __new__(cls, types):\n"
        "        assert types == 33\n"
        "        return WORLD.factory()\n",
    )
    monkeypatch.setattr(kinect_binding, "_find_spec", lambda name: object())

    def no_dll() -> None:
        raise FileNotFoundError("Could not find module 'Kinect20'")

    monkeypatch.setattr(kinect_binding, "_load_sdk_dll", no_dll)
    assert kinect_binding.kinect_status() == (False, NO_SDK)
    monkeypatch.setattr(kinect_binding, "_load_sdk_dll", lambda: None)
    available, reason = kinect_binding.kinect_status()
    assert available and "pykinect2024" in reason
    binding = kinect_binding.load_binding()
    assert (binding.package, binding.source_types) == ("pykinect2024", 33)
    runtime = kinect_binding.create_runtime()
    assert runtime.frame_source_types == 33
    runtime.close()


def test_shims_restore_what_the_binding_needs() -> None:
    assert "object" not in vars(np) and "clock" not in vars(time)  # NumPy >= 1.24, Python >= 3.8
    try:
        applied = kinect_binding.apply_shims("pykinect2")
        assert np.object is object  # type: ignore[attr-defined]
        assert time.clock is time.perf_counter  # type: ignore[attr-defined]
        assert {"numpy.object", "time.clock"} <= set(applied)
        assert kinect_binding.apply_shims("pykinect2024") == []  # idempotent
    finally:
        for module, name in ((np, "object"), (time, "clock")):
            if name in vars(module):
                delattr(module, name)


# ------------------------------------------------------------------------------------------ recording


def test_recording_from_the_kinect_in_the_apps_format(tmp_path: Path) -> None:
    world = FakeKinect(end=1.0, people=lambda t: [ALICE, BOB] if t < 0.5 else [BOB])
    frames = take(make_source(world), 20)
    with RecordingWriter(tmp_path / "kinect", fps=KinectSource.fps, device="kinect v2") as writer:
        for frame in frames:
            writer.write(frame)
    recording = open_recording(tmp_path / "kinect")
    assert not recording.recovered and len(recording) == 20
    assert recording.color_size == (world.width, world.height)
    np.testing.assert_allclose(recording.timestamps, [f.timestamp for f in frames])
    for original, stored in zip(frames, recording.frames(), strict=True):
        assert ids(stored) == ids(original)  # 64-bit tracking ids survive the text format
        for a, b in zip(original.bodies, stored.bodies, strict=True):
            np.testing.assert_allclose(b.joints, a.joints, rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(b.color_px, a.color_px, rtol=1e-6)
            np.testing.assert_array_equal(b.tracking, a.tracking)
        assert stored.image is not None and stored.image.shape == original.image.shape

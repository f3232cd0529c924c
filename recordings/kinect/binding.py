"""Finding and importing the Kinect v2 binding (`pykinect2024`, else `pykinect2`) and opening its runtime.

`load_binding` imports the binding after `apply_shims` has patched what current Python, NumPy and
comtypes removed; `create_runtime` initialises COM in the calling thread and makes the binding's
`PyKinectRuntime` for colour and bodies. Both belong in the capture thread (COM objects belong to
the thread that made them).

Failures to start raise `KinectUnavailable` with one line saying what to do; `kinect_status()`
answers the same question cheaply (no import of the binding, no sensor check) for a menu entry.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.metadata
import importlib.util
import logging
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sta_hands.contract.errors import UserError

log = logging.getLogger(__name__)

# One-line reasons, shown as they are by the command line and the GUI.
NOT_WINDOWS = "Kinect v2 capture needs Windows and the Kinect for Windows SDK 2.0"
NO_BINDING = "the Kinect v2 binding is not installed: pip install 'sta-hands[kinect]' (Windows only)"
NO_SDK = "Kinect20.dll did not load: install the Kinect for Windows SDK 2.0 from Microsoft"
NO_SENSOR = "no Kinect v2 sensor found: check the USB 3 connection and power"
OLD_PYKINECT2 = (
    "pykinect2 0.1.0 from PyPI does not work on 64-bit Python: "
    "pip uninstall pykinect2, then pip install 'sta-hands[kinect]'"
)

# The bindings we accept, best first: (package, module of the generated COM types).
_BINDINGS = (("pykinect2024", "PyKinect2024"), ("pykinect2", "PyKinectV2"))


class KinectUnavailable(UserError):
    """The Kinect v2 cannot be used; `str(error)` is one line saying what to do."""


@dataclass(frozen=True)
class KinectBinding:
    """An imported binding: its runtime class and the frame-source flags we open it with."""

    package: str
    runtime_class: Callable[[int], Any]
    source_types: int  # FrameSourceTypes_Color | FrameSourceTypes_Body


def _find_spec(name: str) -> Any:
    """`importlib.util.find_spec` that answers None instead of raising (nothing is imported)."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _installed_binding() -> str | None:
    return next((package for package, _ in _BINDINGS if _find_spec(package) is not None), None)


def _old_pykinect2() -> bool:
    """PyPI's pykinect2 0.1.0 asserts a 32-bit struct size at import on 64-bit Python."""
    try:
        version = importlib.metadata.version("pykinect2")
    except importlib.metadata.PackageNotFoundError:
        return False
    return version == "0.1.0" and sys.maxsize > 2**32


def _load_sdk_dll() -> None:
    """Load Kinect20.dll as the binding does; OSError when the SDK (or its runtime) is missing."""
    ctypes.WinDLL("Kinect20")  # type: ignore[attr-defined]


def _sdk_missing(error: BaseException) -> bool:
    return isinstance(error, OSError) and "kinect20" in str(error).lower()


def apply_shims(package: str) -> list[str]:
    """Patch what the binding needs and current Python/NumPy/comtypes removed; the names patched.

    - `numpy.object` (gone in NumPy 1.24): both bindings build body frames with it, and a failure
      there is swallowed by a bare `except`, so without it bodies silently never arrive.
    - `ctypes.pythonapi.PyObject_AsWriteBuffer` (gone in Python 3.13): looked up by the runtime's
      constructor for a pygame helper we never call.
    - pykinect2 (GitHub master) only: `time.clock` (gone in Python 3.8) and comtypes'
      `_check_version` ("Wrong version" at import with current comtypes).
    """
    applied = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        has_object = hasattr(np, "object")
    if not has_object:
        np.object = object  # type: ignore[attr-defined]
        applied.append("numpy.object")
    if not hasattr(ctypes.pythonapi, "PyObject_AsWriteBuffer"):
        ctypes.pythonapi.PyObject_AsWriteBuffer = ctypes.pythonapi["PyObject_GetBuffer"]
        applied.append("ctypes.pythonapi.PyObject_AsWriteBuffer")
    if package == "pykinect2":
        applied += _shim_pykinect2_master()
    return applied


def _shim_pykinect2_master() -> list[str]:
    applied = []
    if not hasattr(time, "clock"):
        time.clock = time.perf_counter  # type: ignore[attr-defined]
        applied.append("time.clock")
    with contextlib.suppress(ImportError):
        import comtypes

        comtypes._check_version = lambda *args, **kwargs: None
        applied.append("comtypes._check_version")
    return applied


def load_binding() -> KinectBinding:
    """Import the binding (call it in the capture thread); KinectUnavailable says what is missing."""
    if sys.platform != "win32":
        raise KinectUnavailable(NOT_WINDOWS)
    package = _installed_binding()
    if package is None:
        raise KinectUnavailable(NO_BINDING)
    types_module = dict(_BINDINGS)[package]
    applied = apply_shims(package)
    if applied:
        log.debug("Kinect binding shims applied: %s", ", ".join(applied))
    try:
        runtime_module = importlib.import_module(f"{package}.PyKinectRuntime")
        types = importlib.import_module(f"{package}.{types_module}")
        source_types = types.FrameSourceTypes_Color | types.FrameSourceTypes_Body
        return KinectBinding(package, runtime_module.PyKinectRuntime, source_types)
    except Exception as error:
        raise _import_failure(package, error) from error


def _import_failure(package: str, error: Exception) -> KinectUnavailable:
    if _sdk_missing(error):
        return KinectUnavailable(NO_SDK)
    if isinstance(error, ModuleNotFoundError):  # comtypes, its dependency
        return KinectUnavailable(f"{NO_BINDING} (missing: {error.name})")
    if isinstance(error, AssertionError) and package == "pykinect2":
        return KinectUnavailable(OLD_PYKINECT2)
    return KinectUnavailable(
        f"the Kinect v2 binding {package} failed to import ({_describe(error)}): "
        "pip install --force-reinstall 'sta-hands[kinect]'"
    )


_com = threading.local()


def _com_initialize() -> None:
    """Initialise COM in the calling thread once (comtypes does it only in the thread importing it)."""
    if getattr(_com, "initialised", False):
        return
    try:
        import comtypes

        comtypes.CoInitializeEx()
    except (ImportError, OSError) as error:  # OSError: already initialised in another mode
        log.debug("CoInitializeEx: %s", error)
        return
    _com.initialised = True


def _com_release() -> None:
    if getattr(_com, "initialised", False):
        _com.initialised = False
        with contextlib.suppress(ImportError, OSError):
            import comtypes

            comtypes.CoUninitialize()


def create_runtime() -> Any:
    """The default runtime factory: the binding's PyKinectRuntime for colour and bodies."""
    binding = load_binding()
    _com_initialize()
    try:
        return binding.runtime_class(binding.source_types)
    except OSError as error:
        if _sdk_missing(error):
            raise KinectUnavailable(NO_SDK) from error
        raise


def kinect_status() -> tuple[bool, str]:
    """(usable?, reason) without importing the binding or opening the sensor: for a menu entry."""
    if sys.platform != "win32":
        return False, NOT_WINDOWS
    package = _installed_binding()
    if package is None or _find_spec("comtypes") is None:
        return False, NO_BINDING
    if package == "pykinect2" and _old_pykinect2():
        return False, OLD_PYKINECT2
    try:
        _load_sdk_dll()
    except OSError:
        return False, NO_SDK
    return True, f"Kinect v2 software found ({package}); the sensor is checked when capture starts"


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__

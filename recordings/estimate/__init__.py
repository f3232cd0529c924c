"""Bodies estimated from RGB images: BlazePose (MediaPipe's networks, converted to ONNX) on ONNX Runtime,
mapped to the 25 joints of a Kinect v2 body. The one place in `recordings` that runs ONNX Runtime, which
it imports only when an estimator is made. docs/pose-estimation.md has the mapping and the measurements."""

from sta_hands.recordings.estimate.estimator import PoseEstimator
from sta_hands.recordings.estimate.models_onnx import EstimatorUnavailable, estimator_available

__all__ = ["EstimatorUnavailable", "PoseEstimator", "estimator_available"]

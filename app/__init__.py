"""sta-hands: the runtime and the GUI (ONNX Runtime, no PyTorch)."""

"""PyTorch -> ONNX: the glimpse CNN and the two-stream head, self-describing and checked for parity."""

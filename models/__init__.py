"""PyTorch side of sta-hands: networks, glimpse backbones, training, evaluation.

Importing this package imports no torch (the torch-free app imports it to find the bundled demo
files through `importlib.resources`); only the network and training modules do.
"""

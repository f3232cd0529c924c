"""The Qt window of sta-hands: one small widget class per panel, wired by `main_window.MainWindow`.

The GUI thread only draws. `session.Session` owns the source, the capture thread, the recognizer
thread and the recorder; results reach the GUI by Qt signals carrying immutable `Frame` and
`Prediction` objects. Drawing that does not need Qt (`drawing`, `explain.explain_sentence`) is plain
numpy/OpenCV so that the exported video and the tests use the same code as the window.
"""

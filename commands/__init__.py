"""The command line: `sta-hands` and the project's `python -m sta_hands.commands.NAME` programs.

The top package: it alone may import every other one (recordings, models, app, export), so that none of
those needs to reach up to the entry point. One module per subcommand (its `add_parser` and `run`),
shared options defined once in `commands.options`, the parser built in `commands.cli`.
"""

"""`python -m sta_hands.commands ...`: the `sta-hands` command without its installed script (the Teach child,
tests)."""

from sta_hands.commands.cli import main

raise SystemExit(main())

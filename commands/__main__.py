"""`python -m commands ...`: the `sta-hands` command without its installed script (the Teach child, tests)."""

from commands.cli import main

raise SystemExit(main())

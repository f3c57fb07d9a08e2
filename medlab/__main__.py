"""``python -m medlab`` is the same as the ``medlab`` command."""

from medlab.cli import main

raise SystemExit(main())

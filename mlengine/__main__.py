"""`python -m mlengine` runs the CLI."""

from mlengine.cli import main

raise SystemExit(main())

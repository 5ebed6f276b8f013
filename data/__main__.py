"""Command line: python -m data (demo | import | info | scorecard | groups | optimize | users)."""

from data.cli import main

raise SystemExit(main())

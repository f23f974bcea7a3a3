"""`python -m bench ...` runs the mnistbench CLI from a source tree without installing."""

from bench.cli import main

raise SystemExit(main())

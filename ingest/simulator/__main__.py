import sys

from ingest.simulator.cli import main

sys.exit(main())

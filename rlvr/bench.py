"""`python -m rlvr.bench`: the command-line entry point; the tool itself is rlvr.tools.bench."""
import sys

from rlvr.tools.bench import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m rlvr.evaluate`: the command-line entry point; the tool itself is rlvr.tools.evaluate."""
import sys

from rlvr.tools.evaluate import main

if __name__ == "__main__":
    sys.exit(main())

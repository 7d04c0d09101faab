"""`python -m rlvr.extrapolate`: the command-line entry point; the tool itself is rlvr.tools.extrapolate."""
import sys

from rlvr.tools.extrapolate import main

if __name__ == "__main__":
    sys.exit(main())

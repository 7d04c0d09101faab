"""`python -m rlvr.report`: the command-line entry point; the tool itself is rlvr.tools.report."""
import sys

from rlvr.tools.report import main

if __name__ == "__main__":
    sys.exit(main())

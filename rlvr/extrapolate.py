"""`python -m rlvr.extrapolate`: the command-line entry point (Hydra; `--help` lists every key); the tool itself is
rlvr.tools.extrapolate."""
import sys

from rlvr.tools.extrapolate import cli

if __name__ == "__main__":
    sys.exit(cli())

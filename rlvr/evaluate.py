"""`python -m rlvr.evaluate`: the command-line entry point (Hydra; `--help` lists every key); the tool itself is
rlvr.tools.evaluate."""
import sys

from rlvr.tools.evaluate import cli

if __name__ == "__main__":
    sys.exit(cli())

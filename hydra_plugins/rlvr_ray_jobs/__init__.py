"""Hydra launcher plugins of rlvr (Hydra discovers launchers only under the hydra_plugins namespace)."""

"""rlvr package."""

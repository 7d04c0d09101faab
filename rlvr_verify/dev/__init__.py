"""Verifier development tools, not used when scoring: the generated differential corpus, the labelled dev set, and
`python -m rlvr_verify bench` (accuracy per answer class and verdicts/s beside math-verify)."""

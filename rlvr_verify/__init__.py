"""rlvr_verify: safe math answer extraction, parsing, equivalence, and a killable process pool.

Accuracy and speed against math-verify: docs/verifier_differential.md (`python -m rlvr_verify bench`)."""
from rlvr_verify.verify import Verdict, verify, verify_batch

__all__ = ["Verdict", "verify", "verify_batch"]

"""verifiers: safe math answer extraction, parsing, equivalence, and a killable process pool."""
from rlvr_verify.verify import Verdict, verify, verify_batch

__all__ = ["Verdict", "verify", "verify_batch"]

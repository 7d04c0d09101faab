"""Ray actors, one role each: RolloutWorker (owns an engine) and LearnerActor (owns the policy and optimizer).
The verifier's actor lives with the verifier (verifiers.service.VerifierService)."""

"""The driver's handle on the verifier: a Ray actor (VerifierService) or an in-process service, one interface."""
from __future__ import annotations


def build_verifier(verifier_cfg, verifier_num_cpus: float = 0.0, resources: dict | None = None):
    """`reward.verifier` config -> an object with verify_batch(responses, golds), metrics(), close(). `resources`:
    Ray custom resources for the verifier actor (cluster.verifier_resources: where it runs)."""
    options = {"mode": verifier_cfg.mode} if verifier_cfg.mode != "default" else {}
    backend = verifier_cfg.get("backend", "rlvr")
    if backend != "rlvr":
        if verifier_cfg.num_workers < 1:
            raise ValueError(f"reward.verifier.backend={backend} runs math-verify, which may only run inside the "
                             f"killable pool: set reward.verifier.num_workers >= 1")
        options["backend"] = backend
    if verifier_cfg.use_ray_actor:
        from rlvr_verify.service import VerifierService

        actor = VerifierService.options(num_cpus=verifier_num_cpus, resources=resources or None).remote(
            num_workers=verifier_cfg.num_workers, timeout_s=verifier_cfg.timeout_s)
        return RemoteVerifier(actor, options)
    from rlvr_verify.service import LocalVerifierService

    return LocalVerifier(LocalVerifierService(num_workers=verifier_cfg.num_workers,
                                              timeout_s=verifier_cfg.timeout_s), options)


class RemoteVerifier:
    def __init__(self, actor, options):
        self.actor, self.options = actor, options

    def verify_batch(self, responses, golds):
        import ray

        return ray.get(self.actor.verify_batch.remote(responses, golds, **self.options))

    def metrics(self):
        import ray

        return ray.get(self.actor.metrics.remote())

    def state_dict(self) -> dict:
        """The verifier/* counters, for a checkpoint (load_state_dict after a resume continues them)."""
        import ray

        return ray.get(self.actor.state_dict.remote())

    def load_state_dict(self, state: dict) -> None:
        import ray

        ray.get(self.actor.load_state_dict.remote(state))

    def close(self):
        import ray

        ray.kill(self.actor)


class LocalVerifier:
    def __init__(self, service, options):
        self.service, self.options = service, options

    def verify_batch(self, responses, golds):
        return self.service.verify_batch(responses, golds, **self.options)

    def metrics(self):
        return self.service.metrics()

    def state_dict(self) -> dict:
        return self.service.state_dict() if hasattr(self.service, "state_dict") else {}

    def load_state_dict(self, state: dict) -> None:
        if hasattr(self.service, "load_state_dict"):
            self.service.load_state_dict(state)

    def close(self):
        if hasattr(self.service, "close"):
            self.service.close()

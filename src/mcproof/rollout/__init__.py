"""Release gates: roll a workload to a new release while every endpoint is observed, judge the new pods,
and roll back (``rollout undo`` through the Kubernetes API) when the release fails. See docs/rollout.md."""

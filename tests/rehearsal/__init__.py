"""Rehearsal tests.

VERDICT_KEYS: the fields the issue asks of every scenario's `--json` verdict, the traffic
scenarios' included."""

VERDICT_KEYS = frozenset(
    {
        "stack",
        "scenario",
        "verdict",
        "reasons",
        "promisedFloor",
        "lowestInService",
        "capacityBefore",
        "capacityAfter",
        "expectedCapacityAfter",
        "instancesBefore",
        "instancesAfter",
        "terminatedByRestore",
        "leftInStandby",
        "deployments",
        "outOfService",
        "apiCallsPerInstance",
        "throttledCalls",
        "peakTagsOnGroup",
        "timeScale",
        "wallSeconds",
    }
)

"""How concurrent hook runs on one group agree without compare-and-swap (README "Why it
converges"). Three rules:

1. Announce, then look. A deregister writes its instance's entry and only then reads the other
   entries; a finishing register marks its own entry `closing` and only then reads the others.
   Whichever of the two reads second sees the other's write: either the register sees the new
   entry and does not restore, or the deregister sees the `closing` entry and waits until that
   register has restored and left before it reads the group and changes anything.
2. Record before writing a bound. A deregister's own entry says the lowest MinSize it writes
   (`lo`, beside the baseline `b`) before it lowers MinSize: only this instance's hooks write
   that entry, so no concurrent writer can lose the value and nothing needs re-reading. An entry
   carrying `lo` is dropped only by the restore that reads it, or after its value was handed
   over to the group record (a finisher that is not the last; reconcile). The group record
   (written before MaxSize is raised, handed over, or a decrement given back) is shared: it is
   re-read after each write and written again if a concurrent writer lost its value. So the
   last bound written is always covered by an entry or the record.
3. Never write DesiredCapacity from a read, with one exception: the give-back of the
   decrement of an instance terminated while in Standby (its ExitStandby can never come). Only
   the restorer does it, from the snapshot it decided on, after naming the instances in the
   record, so it happens at most once per instance (README "The give-back").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from hooks.group import GroupSnapshot
from hooks.restore import plan_restore
from hooks.run import HookRun
from hooks.state import (
    GIVEN_PER_RECORD,
    LEGACY_BASELINE_TAG,
    LEGACY_STANDBY_PREFIX,
    RECORD_TAG,
    CapacityRecord,
    Entry,
    legacy_entry,
    legacy_record,
)


def members(snap: GroupSnapshot, entries: dict[str, Entry]) -> dict[str, Entry]:
    """Entries of instances that are in the group now; others do not count, nor does one the
    group still lists while it terminates (it will never finish)."""
    return {iid: e for iid, e in entries.items() if iid in snap.lifecycle and not e.ended}


def in_flight(snap: GroupSnapshot, entries: dict[str, Entry], exclude: str = "") -> dict:
    """Instances of the group between deregister and their register's restore."""
    return {iid: e for iid, e in members(snap, entries).items() if not e.closing and iid != exclude}


def closing(snap: GroupSnapshot, entries: dict[str, Entry], exclude: str = "") -> dict:
    """Registers of other instances restoring capacity right now (not killed ones), and the
    watchdogs of instances shutting down that restore for them (README "Shutdown")."""
    now = time.time()
    live = members(snap, entries)
    return {
        iid: e
        for iid, e in entries.items()
        if e.closing and (iid in live or e.ended) and not e.closing_is_stale(now) and iid != exclude
    }


# The group and its entries are read side by side (run.read_state), either a moment before the
# other: an entry younger than this on an instance the group did not list may belong to an
# instance that joined in between.
GONE_AFTER_SECONDS = 60.0


def leftovers(snap: GroupSnapshot, entries: dict[str, Entry]) -> list[str]:
    """Entries nobody will remove: instances gone from the group, killed finishers. A
    terminated instance cannot join a group again: its entry is gone at once."""
    now = time.time()
    return sorted(
        iid
        for iid, e in entries.items()
        if e.ended
        or (iid not in snap.lifecycle and e.age(now) > GONE_AFTER_SECONDS)
        or e.closing_is_stale(now)
    )


def lost_in_standby(snap: GroupSnapshot, entries: dict[str, Entry], gone: list[str]) -> list[str]:
    """Gone entries whose EnterStandby decrement the hooks still owe the group: only a restore
    gives it back (and then drops them), so other runs leave them in place."""
    return [
        i for i in gone if (i not in snap.lifecycle or entries[i].ended) and entries[i].in_standby
    ]


def baseline_of(run: HookRun) -> CapacityRecord:
    """The baseline to record: the record's (or, without one, the baselines the entries saw),
    merged with the current bounds. The hooks only lower MinSize and raise MaxSize, so a current
    MinSize above the baseline (or MaxSize below it) was set by someone else during the
    deployment: it becomes the value to come back to, before the hooks write over it."""
    assert run.snapshot is not None
    c = run.snapshot.capacity
    record = run.snapshot.record or CapacityRecord(c.min_size, c.max_size)
    for entry in members(run.snapshot, run.entries).values():
        if entry.baseline is not None:
            record = record.merged(CapacityRecord(*entry.baseline))
    return record.merged(CapacityRecord(c.min_size, c.max_size))


def migrate_legacy(run: HookRun) -> None:
    """Move an earlier version's group tags (baseline, one tag per instance) to this layout."""
    assert run.group is not None and run.snapshot is not None
    snap = run.snapshot
    legacy = snap.legacy_tags
    if not legacy:
        return
    old = legacy_record(legacy.get(LEGACY_BASELINE_TAG, ""))
    record = snap.record.merged(old) if snap.record and old else (snap.record or old)
    baseline = (record.min_size, record.max_size) if record else None
    for key, value in legacy.items():
        iid = key.removeprefix(LEGACY_STANDBY_PREFIX)
        if key != LEGACY_BASELINE_TAG and iid in snap.lifecycle and iid not in run.entries:
            run.tags.write(legacy_entry(iid, value, baseline))
    if record is not None:
        run.group.write_record(record)
    run.group.delete_tags(sorted(legacy))
    run.log(f"migrated {len(legacy)} tag(s) of an earlier version to instance entries")
    run.read_state()


def min_needed(snap: GroupSnapshot, entries: dict[str, Entry], instance_id: str) -> int | None:
    """The MinSize the pending EnterStandby calls need (AWS refuses Desired - 1 < Min): this
    instance's and those of the others in flight still InService. None when MinSize already
    allows them, or the instance is not InService."""
    if snap.lifecycle.get(instance_id) != "InService":
        return None
    pending = {i for i in in_flight(snap, entries) if snap.lifecycle.get(i) == "InService"} | {
        instance_id
    }
    needed = max(0, snap.capacity.desired - len(pending))
    return needed if snap.capacity.min_size > needed else None


def carried(entries: dict[str, Entry], ids: list[str] | None = None) -> CapacityRecord | None:
    """What the entries (`ids` only, when given) say of the group record: their baselines and
    the lowest MinSize their deregisters wrote. None when none of them lowered MinSize."""
    found = None
    for iid in sorted(entries) if ids is None else ids:
        entry = entries.get(iid)
        own = entry.record() if entry is not None else None
        if own is not None:
            found = found.merged(own) if found is not None else own
    return found


def hand_off(run: HookRun, ids: list[str]) -> bool:
    """Before entries carrying a lowered MinSize are dropped by a run that does not restore:
    make the group record say what they say (one write, when it does not yet). Returns True
    when it wrote; run.snapshot then shows the record written."""
    assert run.group is not None and run.snapshot is not None
    wanted = carried(run.entries, ids)
    current = run.snapshot.record
    if wanted is None or (current is not None and current.covers(wanted)):
        return False
    record = current.merged(wanted) if current is not None else wanted
    run.group.write_record(record)
    run.snapshot = replace(run.snapshot, tags={**run.snapshot.tags, RECORD_TAG: record.value()})
    return True


def write_record_covering(run: HookRun, wanted: CapacityRecord) -> None:
    """Rule 2, first half: make the record say at least `wanted` before the bound is written."""
    assert run.group is not None and run.snapshot is not None
    current = run.snapshot.record
    if current is None or not current.covers(wanted):
        run.group.write_record(current.merged(wanted) if current else wanted)


def confirm_record(run: HookRun, wanted: CapacityRecord) -> None:
    """Rule 2, second half: after the bound is written, re-read; repair a lost update."""
    assert run.group is not None
    after = run.read_group()
    current = after.record
    if current is None or not current.covers(wanted):
        run.group.write_record(current.merged(wanted) if current else wanted)
        run.log(f"record {RECORD_TAG} written again: a concurrent writer had replaced it")


def lower_min(run: HookRun, min_size: int) -> None:
    """Rule 2 for MinSize: this instance's entry says `min_size` (and the baseline) before the
    bound is written; usually it does already, from its announcement."""
    assert run.group is not None
    base = baseline_of(run)
    wanted = CapacityRecord(base.min_size, base.max_size, lowest_min=min_size)
    mine = run.mine
    if mine is None:  # not announced (cannot happen in a deregister): the group record
        write_record_covering(run, wanted)
        run.group.set_bounds(min_size=min_size)
        confirm_record(run, wanted)
        return
    own = mine.record()
    if own is None or not own.covers(wanted):
        mine = mine.covering(wanted)
        run.tags.write(mine)
        run.entries[run.instance_id] = mine
    run.group.set_bounds(min_size=min_size)


def raise_max(run: HookRun, max_size: int) -> None:
    assert run.group is not None
    base = baseline_of(run)
    wanted = CapacityRecord(base.min_size, base.max_size, highest_max=max_size)
    write_record_covering(run, wanted)
    run.group.set_bounds(max_size=max_size)
    confirm_record(run, wanted)


def announce(
    run: HookRun,
    beside: Callable[[], object] | None = None,
    while_looking: Callable[[], object] | None = None,
) -> None:
    """Rule 1 for a deregister: write this instance's entry (with `beside`, a call that does not
    depend on it, at the same time), then look: the group and the entries (with
    `while_looking` beside them), and wait out the registers found finishing. Leaves
    run.snapshot and run.entries read after the write."""
    assert run.snapshot is not None
    deployment = run.settings.deployment_id
    mine = run.mine
    calls: list[Callable[[], object]] = [beside] if beside is not None else []
    written = None
    if mine is None or mine.deployment != deployment or mine.closing:
        base = baseline_of(run)
        # The MinSize lower_min_size will need, as far as the group read before says (only a
        # concurrent deregister, or a scaling change, makes it write the entry again).
        lowest = min_needed(run.snapshot, {}, run.instance_id)
        written = Entry(
            run.instance_id,
            deployment,
            time.time(),
            (base.min_size, base.max_size),
            lowest_min=lowest,
        )
        earlier = mine.record() if mine is not None else None
        if earlier is not None:
            # An earlier run of this instance lowered MinSize (a deployment that failed after
            # its deregister): the new entry keeps saying so.
            written = written.covering(earlier)
        calls.insert(0, lambda: run.tags.write(written))
        run.entries[run.instance_id] = written
    run.together(*calls)

    # Only registers that marked `closing` before this entry was written may restore without
    # seeing it; one that marks `closing` later reads after this write, sees this instance in
    # flight and leaves without restoring. So wait only for the ones this first look finds
    # (until each entry is gone or changed), never for later ones: with many instances
    # finishing, there is always another `closing` entry, and waiting for none would starve.
    run.together(run.read_group, run.read_entries, *([while_looking] if while_looking else []))
    if written is not None and run.instance_id not in run.entries:
        run.entries[run.instance_id] = written  # a listing that does not show it yet
    before = closing(run.snapshot, run.entries, exclude=run.instance_id)
    if not before:
        return
    first = True

    def others_closing() -> str | None:
        nonlocal first
        if not first:
            run.read_entries()
        first = False
        # Read again each time: a run past its deadline (killed, or it gave up) restores
        # nothing any more.
        still = closing(run.snapshot, run.entries, exclude=run.instance_id)
        busy = sorted(iid for iid, e in before.items() if still.get(iid) == e)
        return ", ".join(busy) + " restoring capacity" if busy else None

    run.wait("other instances' registers to finish restoring", others_closing)
    # They restored: what the group says now is what this run decides from.
    run.read_group()


def finish(run: HookRun, step: str) -> None:
    """Rule 1 for a register: mark closing, look, and restore only if nobody else is in flight.

    Concurrent finishers may both restore: they compute the same bounds from the same record."""
    assert run.group is not None
    # No snapshot: a register that read no group (its ExitStandby succeeded: it is in it).
    if run.snapshot is None or run.instance_id in run.snapshot.lifecycle:
        # Written whether or not this run knows of an entry: register does not read it first.
        mine = run.mine or Entry(run.instance_id, run.settings.deployment_id, 0.0)
        # With this run's deadline: past it (and a grace) others no longer wait for it.
        until = time.time() + (run.deadline - time.monotonic())
        run.tags.write(mine.as_closing(until))
    snap = run.read_state()
    for look in (1, 2):
        others = in_flight(snap, run.entries, exclude=run.instance_id)
        gone = leftovers(snap, run.entries)
        if not others:
            restore(run, snap, step, gone)
            run.tags.delete([run.instance_id] if run.instance_id else [])
            return
        owed = lost_in_standby(snap, run.entries, gone)
        dropped = sorted({run.instance_id, *gone} - set(owed))
        # Entries that lowered MinSize hand it to the group record before they go. A restorer
        # that looked before that write may have restored (and found no record to delete):
        # look again, and restore if nobody is in flight any more.
        wrote = hand_off(run, dropped)
        if look == 2 or not wrote:
            break
        wanted = carried(run.entries, dropped)
        snap = run.read_state()
        if snap.record is None or (wanted is not None and not snap.record.covers(wanted)):
            # Not written yet as this look saw it, or replaced by a concurrent writer: again.
            hand_off(run, dropped)
            snap = run.snapshot
            assert snap is not None
    run.tags.delete(dropped)
    names = ", ".join(sorted(others))
    run.log(f"step {step}: still in flight: {names}; the last one restores capacity")


def restore(run: HookRun, snap: GroupSnapshot, step: str, gone: list[str]) -> None:
    """Compare-and-restore the bounds from the record, give back the decrement of instances
    lost in Standby, drop the gone entries, then the record (in that order: the record names
    the instances given back until their entries are gone)."""
    assert run.group is not None
    c = snap.capacity
    given = set(snap.record.given) if snap.record else set()
    lost = lost_in_standby(snap, run.entries, gone)
    owed = [i for i in lost if i not in given][:GIVEN_PER_RECORD]
    # The record: the group's, and what the entries say (their deregisters' lowered MinSize).
    record = snap.record
    from_entries = carried(run.entries)
    if from_entries is not None:
        record = record.merged(from_entries) if record is not None else from_entries
    if record is None and not owed:
        run.tags.delete(gone)
        run.log(f"step {step}: no record; capacity stays {c}")
        return
    record = record or CapacityRecord(c.min_size, c.max_size)
    desired = None
    if owed:
        # Named in the record before the write: a later restorer (this one re-run, or a
        # concurrent finisher whose snapshot follows this write) skips them. A concurrent
        # finisher whose snapshot precedes it computes the same Desired from the same read.
        run.group.write_record(replace(record, given=tuple(owed)))
        bound = plan_restore(c, record).max_size
        ceiling = bound if bound is not None else c.max_size
        desired = min(c.desired + len(owed), ceiling)
        if desired < c.desired + len(owed):
            run.log(
                f"step {step}: MaxSize {ceiling} caps the give-back: DesiredCapacity "
                f"{c.desired} -> {desired}, not {c.desired + len(owed)}"
            )
        run.log(
            f"step {step}: {', '.join(owed)} left the group in Standby (terminated by someone "
            f"else): DesiredCapacity {c.desired} -> {desired}, the decrement the hooks' "
            "EnterStandby took"
        )
        c = replace(c, desired=desired)
    plan = plan_restore(c, record)
    run.group.set_bounds(plan.min_size, plan.max_size, desired)
    if len(lost) > len(owed) + len(given & set(lost)):
        run.log(f"step {step}: more instances lost in Standby: the next restore gives the rest")
    run.tags.delete(sorted(set(gone) - (set(lost) - set(owed) - given)))
    if snap.record is not None or owed:
        run.group.delete_tags([RECORD_TAG])
    for note in plan.notes:
        run.log(f"step {step}: {note}")
    after = (
        plan.min_size if plan.min_size is not None else c.min_size,
        plan.max_size if plan.max_size is not None else c.max_size,
    )
    run.log(
        f"step {step}: MinSize/MaxSize {snap.capacity.min_size}/{snap.capacity.max_size} -> "
        f"{after[0]}/{after[1]} (baseline {record.min_size}/{record.max_size}); "
        f"DesiredCapacity {c.desired} is left to the group"
    )

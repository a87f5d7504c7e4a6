"""The local stack's durable state: one snapshot file of every table item, every object in
the buckets and every queued message, restored by the next ``tripwire local up``.

moto keeps its state in memory only. The snapshot reads moto's in-process backends directly
(bench/local_restore.py: ~60x faster than scanning the tables through the AWS API, whose
SQS side would also count a receive against every message's redrive limit) and stores what
it finds in AWS's own formats — DynamoDB JSON items, object bytes with their metadata,
message bodies — never pickled moto objects, so a moto upgrade reads an older snapshot.

Consistency: the capture runs under the lock that serialises moto's DynamoDB
(``atomic.py``), reading DynamoDB, then the queues, then the buckets. Writers put an object
before the item that points at it, and a worker's writes before it deletes its message, so
a snapshot never holds an item whose object is missing nor loses a message whose work is
missing; a message whose work is half-done is replayed (deterministic alert ids and
conditional writes make the replay add nothing twice).

Atomicity: the file is written beside the old one, fsynced and renamed over it, then the
folder is fsynced — a crash at any moment leaves the previous snapshot or the new one whole.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import sys
import threading
import time
import traceback
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tripwire.local import atomic
from tripwire.store.tables import BUCKETS, CATALOG, TABLES

SNAPSHOT = "snapshot.zip"
FORMAT = 1
ACCOUNT = "123456789012"  # moto's default account: the local stack's only one
WRITERS_LOCK = "writers.lock"  # shared by `tripwire` commands writing, exclusive by a snapshot
DATA_LOCK = "data.lock"  # held by the stack using a data folder
QUIET = 1.0  # seconds without a change before a snapshot is taken
MAX_AGE = 10.0  # seconds a change may wait for a snapshot while the stack keeps changing
TICK = 0.25
WRITER_PATIENCE = 300.0  # seconds snapshots wait for a `tripwire` command that is writing


class SnapshotError(RuntimeError):
    """A snapshot that cannot be read: the stack refuses to start rather than lose it."""


@dataclass
class Capture:
    """The stack's state, by logical table and bucket names and queue-name suffixes (so a
    snapshot restores into a stack with another prefix)."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    objects: dict[str, list[tuple[str, bytes, dict[str, str]]]] = field(default_factory=dict)
    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    taken_at: str = ""

    def summary(self) -> Summary:
        profiles = [i for i in self.tables.get(CATALOG.logical, []) if _is_profile(i)]
        alerts = self.tables.get("alerts", [])
        return Summary(
            tenants=len({i["pk"]["S"] for i in profiles}),
            profiles=len(profiles),
            alerts=len(alerts),
            active_alerts=sum("active_pk" in i for i in alerts),
            items=sum(len(items) for items in self.tables.values()),
            objects=sum(len(objects) for objects in self.objects.values()),
            messages=sum(len(messages) for messages in self.queues.values()),
        )


@dataclass(frozen=True)
class Summary:
    tenants: int = 0
    profiles: int = 0
    alerts: int = 0
    active_alerts: int = 0
    items: int = 0
    objects: int = 0
    messages: int = 0

    def text(self) -> str:
        return (
            f"{self.tenants} tenant(s), {self.profiles} profile(s), {self.alerts} alert(s) "
            f"({self.active_alerts} active); {self.items:,} items, {self.objects} objects, "
            f"{self.messages} queued message(s)"
        )


def _is_profile(item: Mapping[str, Any]) -> bool:
    return str(item.get("sk", {}).get("S", "")).startswith("PROFILE#")


# -- moto's backends ------------------------------------------------------------------------


def moto_backends(region: str) -> tuple[Any, Any, Any]:
    from moto.dynamodb.models import dynamodb_backends  # dev-only dependency
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends

    return (
        dynamodb_backends[ACCOUNT][region],
        s3_backends[ACCOUNT]["global"],
        sqs_backends[ACCOUNT][region],
    )


@dataclass(frozen=True)
class Names:
    """This stack's physical names: tables and buckets by logical name, and its queues'
    prefix (queues are found by name, so their declarations stay where they are)."""

    tables: dict[str, str]
    buckets: dict[str, str]
    queue_prefix: str

    @classmethod
    def of(cls, env: Mapping[str, str], prefix: str) -> Names:
        return cls(
            tables={t.logical: env.get(t.env_var, t.name) for t in TABLES},
            buckets={b.logical: env.get(b.env_var, b.name) for b in BUCKETS},
            queue_prefix=f"{prefix}-",
        )


def _queues(sqs: Any, names: Names) -> dict[str, Any]:
    return {
        name[len(names.queue_prefix) :]: queue
        for name, queue in list(sqs.queues.items())
        if name.startswith(names.queue_prefix)
    }


def capture(names: Names, region: str) -> tuple[Capture, Any]:
    """The state now, and its fingerprint (what ``fingerprint`` returns for it)."""
    dynamodb, s3, sqs = moto_backends(region)
    with atomic.dynamodb_lock():
        generation = atomic.generation()
        state = Capture(taken_at=datetime.datetime.now(datetime.UTC).isoformat())
        for logical, physical in names.tables.items():
            table = dynamodb.tables.get(physical)
            if table is not None:
                state.tables[logical] = [i.to_json()["Attributes"] for i in table.all_items()]
        queues = _queues(sqs, names)
        for suffix, queue in queues.items():
            state.queues[suffix] = [_message(m) for m in list(queue._messages)]
        for logical, physical in names.buckets.items():
            bucket = s3.buckets.get(physical)
            if bucket is not None:
                state.objects[logical] = [
                    (key, obj.value, dict(obj.metadata)) for key, obj in _objects(bucket)
                ]
        mark = (generation, _queue_mark(queues), _bucket_mark(s3, names))
    return state, mark


def _message(message: Any) -> dict[str, Any]:
    return {
        "body": message.body,
        "attributes": message.message_attributes,
        "group_id": message.group_id,
        "deduplication_id": message.deduplication_id,
    }


def _objects(bucket: Any) -> Iterator[tuple[str, Any]]:
    """The latest version of every object (older versions are not part of the state)."""
    for key in list(bucket.keys.keys()):
        obj = bucket.keys.get(key)
        if obj is not None and not getattr(obj, "is_delete_marker", False):
            yield key, obj


def _queue_mark(queues: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (suffix, tuple(m.id for m in list(q._messages))) for suffix, q in sorted(queues.items())
    )


def _bucket_mark(s3: Any, names: Names) -> tuple[tuple[str, str, str], ...]:
    marks = []
    for physical in names.buckets.values():
        bucket = s3.buckets.get(physical)
        if bucket is not None:
            marks += [(key, obj.etag, str(obj.last_modified)) for key, obj in _objects(bucket)]
    return tuple(sorted(marks))


def fingerprint(names: Names, region: str) -> Any:
    """Changes whenever a table, a bucket or a queue of the stack changes."""
    _, s3, sqs = moto_backends(region)
    return (atomic.generation(), _queue_mark(_queues(sqs, names)), _bucket_mark(s3, names))


# -- the file ---------------------------------------------------------------------------------


def write_snapshot(path: Path, state: Capture) -> int:
    """Write ``state`` to ``path`` atomically; returns the file's size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        _write_zip(handle, state)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself reaches the disk
    finally:
        os.close(folder)
    return path.stat().st_size


def _write_zip(handle: IO[bytes], state: Capture) -> None:
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        index: dict[str, list[dict[str, Any]]] = {}
        for logical, items in state.tables.items():
            lines = "".join(json.dumps(i, separators=(",", ":")) + "\n" for i in items)
            archive.writestr(f"dynamodb/{logical}.jsonl", lines)
        for logical, objects in state.objects.items():
            index[logical] = []
            for n, (key, value, metadata) in enumerate(objects):
                archive.writestr(f"s3/{logical}/{n}", value)
                index[logical].append({"key": key, "metadata": metadata})
        manifest = {
            "format": FORMAT,
            "taken_at": state.taken_at,
            "objects": index,
            "queues": state.queues,
        }
        archive.writestr("manifest.json", json.dumps(manifest))  # last: a whole archive has it


def read_snapshot(path: Path) -> Capture | None:
    """The snapshot at ``path`` (None if there is none)."""
    if not path.exists():
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise SnapshotError(f"{path}: format {manifest.get('format')!r}, not {FORMAT}")
            state = Capture(taken_at=manifest["taken_at"], queues=manifest["queues"])
            for name in archive.namelist():
                if name.startswith("dynamodb/") and name.endswith(".jsonl"):
                    logical = name[len("dynamodb/") : -len(".jsonl")]
                    lines = archive.read(name).decode().splitlines()
                    state.tables[logical] = [json.loads(line) for line in lines]
            for logical, entries in manifest["objects"].items():
                state.objects[logical] = [
                    (e["key"], archive.read(f"s3/{logical}/{n}"), e["metadata"])
                    for n, e in enumerate(entries)
                ]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise SnapshotError(f"{path} cannot be read: {error}") from error
    return state


def restore_data(state: Capture, names: Names, region: str) -> None:
    """Put the snapshot's items and objects into the (new, empty) tables and buckets."""
    dynamodb, s3, _ = moto_backends(region)
    with atomic.dynamodb_lock():
        for logical, items in state.tables.items():
            physical = names.tables.get(logical)
            if physical is None:
                print(
                    f"[restore] skipped {len(items)} items of unknown table {logical}",
                    file=sys.stderr,
                )
                continue
            table = dynamodb.get_table(physical)
            for item in items:
                table.put_item(item)
        atomic.bump()
    for logical, objects in state.objects.items():
        bucket = names.buckets.get(logical)
        if bucket is None:
            print(f"[restore] skipped objects of unknown bucket {logical}", file=sys.stderr)
            continue
        for key, value, metadata in objects:
            s3.put_object(bucket, key, value, disable_notification=True).set_metadata(metadata)


def restore_messages(state: Capture, names: Names, region: str) -> int:
    """Send the snapshot's messages to the queues of the same name; returns how many."""
    _, _, sqs = moto_backends(region)
    sent = 0
    for suffix, messages in state.queues.items():
        name = names.queue_prefix + suffix
        if name not in sqs.queues:
            print(f"[restore] no queue {name}: {len(messages)} message(s) dropped", file=sys.stderr)
            continue
        for m in messages:
            sqs.send_message(
                name,
                m["body"],
                message_attributes=m["attributes"] or None,
                deduplication_id=m["deduplication_id"],
                group_id=m["group_id"],
            )
            sent += 1
    return sent


def drop(names: Names, region: str) -> None:
    """Forget the stack's tables, buckets and queues in moto's memory (moto's backends live
    as long as the process: a later stack in it must start from its snapshot, not them)."""
    dynamodb, s3, sqs = moto_backends(region)
    with atomic.dynamodb_lock():
        for physical in names.tables.values():
            dynamodb.tables.pop(physical, None)
        atomic.bump()
    from moto.s3.models import s3_backends

    for physical in names.buckets.values():
        bucket = s3.buckets.pop(physical, None)
        if bucket is not None:
            for _, versions in bucket.keys.iterlists():
                for obj in versions:
                    getattr(obj, "dispose", lambda: None)()  # closes its spooled file
            s3_backends.bucket_accounts.pop(physical, None)
    for suffix in _queues(sqs, names):
        sqs.queues.pop(names.queue_prefix + suffix, None)


# -- coordination with `tripwire` commands ---------------------------------------------------

_held: list[IO[bytes]] = []


def _shared(directory: Path) -> IO[bytes] | None:
    if not directory.is_dir():
        return None  # no local stack there: nothing to hold off
    handle = (directory / WRITERS_LOCK).open("ab")
    fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # waits while a snapshot is being taken
    return handle


def hold_snapshots(directory: Path) -> None:
    """Called by a `tripwire` command before it writes to the running stack: until it exits,
    snapshots wait (so its writes — an import — are in a snapshot whole or not at all)."""
    handle = _shared(directory)
    if handle is not None:
        _held.append(handle)  # the kernel releases it when the process ends, however


@contextlib.contextmanager
def snapshots_held(directory: Path) -> Iterator[None]:
    """``hold_snapshots`` for a block only."""
    handle = _shared(directory)
    try:
        yield
    finally:
        if handle is not None:
            handle.close()


@contextlib.contextmanager
def _writers_quiet(directory: Path) -> Iterator[bool]:
    """Exclusive hold of the writers' lock if no command holds it (yields False if one does)."""
    with (directory / WRITERS_LOCK).open("ab") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def lock_data(data: Path) -> IO[bytes]:
    """One stack per data folder: the lock is held while the stack runs."""
    data.mkdir(parents=True, exist_ok=True)
    handle = (data / DATA_LOCK).open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RuntimeError(f"another local stack uses the data in {data}") from None
    return handle


# -- the snapshot thread -------------------------------------------------------------------------


@dataclass
class SnapshotStats:
    taken: int = 0
    last_seconds: float = 0.0
    last_bytes: int = 0
    last_at: float = 0.0


class Snapshotter:
    """Takes a snapshot after ``QUIET`` seconds without a change, and at most ``MAX_AGE``
    seconds after a change while changes keep coming — never while a `tripwire` command
    holds the writers' lock (up to ``WRITER_PATIENCE`` seconds)."""

    def __init__(
        self,
        path: Path,
        names: Names,
        region: str,
        lock_dir: Path,
        *,
        quiet: float = QUIET,
        max_age: float = MAX_AGE,
    ) -> None:
        self.path = path
        self.names = names
        self.region = region
        self.lock_dir = lock_dir
        self.quiet = quiet
        self.max_age = max_age
        self.stats = SnapshotStats()
        self._saved = fingerprint(names, region)  # what the file on disk holds
        self._seen = self._saved
        self._changed_at = self._dirty_since = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one snapshot at a time
        self._thread: threading.Thread | None = None

    def start(self) -> Snapshotter:
        self._thread = threading.Thread(target=self._run, name="snapshot", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def snapshot(self, *, wait: float = 0.0) -> bool | None:
        """Write a snapshot now if anything changed since the last: True if one was written,
        False if nothing changed, None if a `tripwire` command kept writing for ``wait`` s."""
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                with _writers_quiet(self.lock_dir) as quiet:
                    if quiet:
                        return self._take()
                if time.monotonic() >= deadline:
                    return None
                time.sleep(TICK)

    def _take(self) -> bool:
        started = time.perf_counter()
        state, mark = capture(self.names, self.region)
        if mark == self._saved:
            return False
        size = write_snapshot(self.path, state)
        self._saved = mark
        self.stats.taken += 1
        self.stats.last_seconds = time.perf_counter() - started
        self.stats.last_bytes = size
        self.stats.last_at = time.time()
        return True

    def _run(self) -> None:
        waiting_since = 0.0
        while not self._stop.wait(TICK):
            try:
                now = time.monotonic()
                mark = fingerprint(self.names, self.region)
                if mark != self._seen:
                    self._seen, self._changed_at = mark, now
                    self._dirty_since = self._dirty_since or now
                if mark == self._saved:
                    self._dirty_since = waiting_since = 0.0
                    continue
                due = (
                    now - self._changed_at >= self.quiet or now - self._dirty_since >= self.max_age
                )
                if not due:
                    continue
                if self.snapshot() is not None:
                    self._dirty_since = waiting_since = 0.0
                    continue
                waiting_since = waiting_since or now
                if now - waiting_since >= WRITER_PATIENCE:  # a command holds it for too long
                    print(
                        f"[snapshot] a tripwire command has held off snapshots for "
                        f"{WRITER_PATIENCE:.0f}s: taking one anyway",
                        file=sys.stderr,
                    )
                    with self._lock:
                        self._take()
                    self._dirty_since = waiting_since = 0.0
            except Exception:  # keep snapshotting; say so loudly
                traceback.print_exc(file=sys.stderr)
                self._stop.wait(1.0)

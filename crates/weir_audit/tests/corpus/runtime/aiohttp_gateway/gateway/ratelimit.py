"""Per-client token buckets."""
import asyncio
import time as _time
from dataclasses import dataclass, field


@dataclass
class Bucket:
    rate: float
    capacity: float
    tokens: float = 0.0
    updated: float = field(default_factory=_time.monotonic)

    def refill(self) -> None:
        now = _time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self) -> float:
        self.refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


def wait_for_slot(bucket: Bucket) -> None:
    pause = bucket.delay()
    if pause:
        _time.sleep(pause)
    bucket.tokens -= 1


async def acquire(bucket: Bucket) -> None:
    pause = bucket.delay()
    if pause:
        await asyncio.sleep(pause)  # ok: RT-03
    bucket.tokens -= 1


def describe(buckets: dict[str, Bucket]) -> str:
    report = ""
    exhausted = 0
    for client, bucket in sorted(buckets.items()):
        report += f"{client}: {bucket.tokens:.1f}/{bucket.capacity:.0f}\n"  # expect: RT-04
        exhausted += bucket.tokens < 1  # ok: RT-04
    report += f"{exhausted} exhausted\n"  # ok: RT-04
    return report


def describe_joined(buckets: dict[str, Bucket]) -> str:
    return "".join(f"{client}: {b.tokens:.1f}/{b.capacity:.0f}\n" for client, b in sorted(buckets.items()))

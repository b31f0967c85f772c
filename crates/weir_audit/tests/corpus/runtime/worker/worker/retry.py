"""Retry pacing shared by jobs and the admin CLI."""
import random
import time as clock
from time import sleep as snooze


def jitter(base: float) -> float:
    return base * (0.5 + random.random())


def pause(seconds: float) -> None:
    snooze(seconds)


def backoff(attempt: int) -> None:
    pause(jitter(min(2**attempt, 30)))


def elapsed_since(started: float) -> float:
    return clock.monotonic() - started

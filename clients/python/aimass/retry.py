"""Optional, bounded retries of idempotent calls that failed with UNAVAILABLE or RESOURCE_EXHAUSTED.

Off by default (`Client(retry=None)`). With a `RetryPolicy`, a read or inference call is tried at most
`max_attempts` times; between attempts it waits the server's `retry-after-ms` trailer when there is one, else an
exponential backoff with full jitter, never more than `max_backoff_s` per wait. Calls that change state (create,
upload, deploy, alias, scale) are never retried: a failure after the server acted would be repeated.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, FrozenSet, TypeVar

import grpc

from .errors import AIMassError

T = TypeVar("T")

RETRYABLE_CODES: FrozenSet[grpc.StatusCode] = frozenset({grpc.StatusCode.UNAVAILABLE,
                                                          grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    Attributes:
        max_attempts: attempts in all, the first included (2..10).
        initial_backoff_s: the first backoff bound without a server hint; doubles per attempt.
        max_backoff_s: the longest single wait, hint or not.
        codes: the status codes worth retrying.
    """

    max_attempts: int = 3
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 5.0
    codes: FrozenSet[grpc.StatusCode] = field(default=RETRYABLE_CODES)

    def __post_init__(self):
        if not 2 <= self.max_attempts <= 10:
            raise ValueError(f"max_attempts must be 2..10, got {self.max_attempts}")
        if self.initial_backoff_s <= 0 or self.max_backoff_s < self.initial_backoff_s:
            raise ValueError("need 0 < initial_backoff_s <= max_backoff_s, got "
                             f"{self.initial_backoff_s} and {self.max_backoff_s}")
        if not self.codes <= RETRYABLE_CODES:
            raise ValueError("only UNAVAILABLE and RESOURCE_EXHAUSTED may be retried")

    def delay_s(self, attempt: int, error: AIMassError) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        hint = error.retry_after_ms
        if hint is not None:
            return min(hint / 1000.0, self.max_backoff_s)
        bound = min(self.initial_backoff_s * (2 ** (attempt - 1)), self.max_backoff_s)
        return random.uniform(0, bound)


def call_with_retries(policy: "RetryPolicy | None", call: Callable[[], T],
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Runs call(); on a retryable AIMassError and with a policy, waits and tries again, at most
    policy.max_attempts times in all; the last error is raised."""
    attempt = 1
    while True:
        try:
            return call()
        except AIMassError as error:
            if policy is None or error.code not in policy.codes or attempt >= policy.max_attempts:
                raise
            sleep(policy.delay_s(attempt, error))
            attempt += 1

"""Token-bucket pacing: send at a steady rate, with a small burst allowance.

>>> bucket = TokenBucket(rate=100.0, burst=10.0, now=0.0)
>>> bucket.wait(10, now=0.0)  # the burst is available at once
0.0
>>> bucket.wait(50, now=0.0)  # 50 more tokens take half a second to accrue
0.5
>>> bucket.wait(10, now=0.6)  # by 0.6 s the debt is paid and 10 tokens accrued again
0.0
"""

from __future__ import annotations


class TokenBucket:
    """``rate`` tokens per second accrue up to ``burst``; taking more than are available
    borrows, and the caller waits the returned time before acting."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.tokens = self.burst
        self.updated = now

    def wait(self, n: int, now: float) -> float:
        """Take ``n`` tokens; seconds to wait until they are earned (0.0 if they are)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= n
        return max(0.0, -self.tokens / self.rate)

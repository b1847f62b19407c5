"""Closing one's account (注销): preconditions, the closure itself, and erasure after retention."""

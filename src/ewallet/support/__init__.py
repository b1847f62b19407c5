"""Support tickets and support mail (issue #6 items 3 and 4); docs/support.md."""

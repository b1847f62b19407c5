"""The base of every request body schema: unknown fields are refused, not ignored.

A client that sends ``{"amount": "1.00", "amonut": "2.00"}`` meant something we would
otherwise silently drop; ``extra="forbid"`` answers ``422 validation_error`` with an
``extra_forbidden`` entry naming the field instead. Response schemas stay plain
``BaseModel``: they are built by our own code. A test walks every JSON-body route of the
app and checks its schema (and every schema nested in it) inherits this one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """A request body: fields not declared are a validation error (``extra_forbidden``)."""

    model_config = ConfigDict(extra="forbid")

"""Populate: fill the popular tier and the tier-1 sweep within a hard call budget (see docs/design/populate.md)."""

from musicboxd.services.populate.orchestrator import (
    CallCounter,
    PopulateOptions,
    PopulateReport,
    PopulateService,
    Progress,
)

__all__ = ["CallCounter", "PopulateOptions", "PopulateReport", "PopulateService", "Progress"]

"""Populate: fill the popular tier and the tier-1 sweep within a hard call budget (docs/design/populate.md)."""

from musicboxd.services.populate.orchestrator import PopulateOptions, PopulateReport, PopulateService, Progress

__all__ = ["PopulateOptions", "PopulateReport", "PopulateService", "Progress"]

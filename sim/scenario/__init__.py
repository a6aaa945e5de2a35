"""Scenario files: the schema (format v1), distributions, loading and reference checks."""

from .loader import load_scenario, validate_mapping
from .schema import Scenario

__all__ = ["Scenario", "load_scenario", "validate_mapping"]

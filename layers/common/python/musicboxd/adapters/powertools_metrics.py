"""The Telemetry port over Powertools Metrics (CloudWatch EMF, flushed by the handler decorator)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit


class PowertoolsTelemetry:
    def __init__(self) -> None:
        self._metrics = Metrics()

    def count(self, name: str, value: float = 1) -> None:
        unit = MetricUnit.Milliseconds if name.endswith("Ms") else MetricUnit.Count
        self._metrics.add_metric(name=name, unit=unit, value=value)

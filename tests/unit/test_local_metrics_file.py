"""make run's console: metric records go to .local/metrics.jsonl, logs and progress stay on screen."""

from __future__ import annotations

import io
import json
import sys

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tools.localstack.metrics_file import MetricsToFile, metrics_to_file


def test_powertools_overflow_lines_go_to_the_file_not_the_console(tmp_path, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # Powertools still prints every 100 values
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Musicboxd")
    console = io.StringIO()
    monkeypatch.setattr(sys, "stdout", console)
    path = tmp_path / "metrics.jsonl"
    metrics = Metrics(service="local-test")
    with metrics_to_file(path) as diverted:
        for _ in range(250):
            metrics.add_metric(name="SpotifyCalls", unit=MetricUnit.Count, value=1)
        print("populate on start: done")
    metrics.clear_metrics()
    assert console.getvalue() == "populate on start: done\n"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert diverted.records == len(records) == 2 and len(records[0]["SpotifyCalls"]) == 100


def test_lines_are_split_per_write_and_text_without_newline_shows_on_flush():
    console, sink = io.StringIO(), io.StringIO()
    out = MetricsToFile(console, sink)
    out.write('{"_aws": {"Timestamp": 1}, ')
    out.write('"x": [1]}\nplain ')
    out.write("line\n")
    out.write("50%")
    out.flush()
    assert sink.getvalue() == '{"_aws": {"Timestamp": 1}, "x": [1]}\n'
    assert console.getvalue() == "plain line\n50%"

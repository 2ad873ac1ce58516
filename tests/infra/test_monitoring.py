import json

from musicboxd import metric_names as telemetry

from .conftest import ALERT_EMAIL, synthesize


def alarms(synth):
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()}


def test_alarms(dev):
    names = set(alarms(dev))
    assert names == {
        "musicboxd-dev-api-5xx-rate",
        "musicboxd-dev-spotify-429-storm",
        "musicboxd-dev-populate-failed",
        "musicboxd-dev-scheduled-jobs-dlq",
    }
    storm = json.dumps(alarms(dev)["musicboxd-dev-spotify-429-storm"])
    assert telemetry.SPOTIFY_THROTTLED in storm and telemetry.NAMESPACE in storm
    populate = json.dumps(alarms(dev)["musicboxd-dev-populate-failed"])
    assert telemetry.POPULATE_FAILED in populate and "Errors" in populate


def test_alarm_email_topic_when_configured(dev, tmp_path):
    (topic_id,) = dev.of_type("AWS::SNS::Topic")
    dev.template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": ALERT_EMAIL})
    for alarm in alarms(dev).values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    dev.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    synth = synthesize(tmp_path, stage="staging")  # no alert_email in context (prod requires one)
    synth.template.resource_count_is("AWS::SNS::Topic", 0)


def test_dashboard_widgets(dev):
    (dashboard,) = dev.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        telemetry.CACHE_HIT_POPULAR,
        telemetry.CACHE_HIT_SEARCHED,
        telemetry.CACHE_HIT_STALE,
        telemetry.CACHE_MISS,
        telemetry.SPOTIFY_CALLS,
        telemetry.SPOTIFY_THROTTLED,
        "Latency",
        "Count",
        "5XXError",
        "Errors",
        "Throttles",
    ):
        assert metric in body, metric
    assert "hit rate popular" in body
    # stale answers are also counted as misses by the code: not in the denominator twice
    assert "100*hpopular/(hpopular+hsearched+miss)" in body
    assert "100*hstale/(hpopular+hsearched+miss)" in body

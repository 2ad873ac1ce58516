"""Handlers for the gateway tests, loaded by name in each Lambda instance (worker process)."""

import json
import os
import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import Router

SLOW_SECONDS = 0.5


def echo_app():
    """A resolver with an included router, as the functions build theirs."""
    router = Router()

    @router.get("/search")
    def search():
        asked = router.current_event.get_query_string_value("q")
        time.sleep(0.01)  # another request arriving now must not replace this one's event
        return {"q": router.current_event.get_query_string_value("q"), "asked": asked, "instance": os.getpid()}

    app = APIGatewayRestResolver()
    app.include_router(router)
    return lambda event, context: app.resolve(event, context)


def slow(event, context):
    """Sleeps, then says when it ran, where, for whom and with how much time left."""
    started = time.time()
    parameters = event["queryStringParameters"] or {}
    time.sleep(float(parameters.get("seconds", SLOW_SECONDS)))
    body = {
        "q": parameters.get("q"),
        "instance": os.getpid(),
        "started": started,
        "ended": time.time(),
        "source_ip": event["requestContext"]["identity"]["sourceIp"],
        "resource": event["resource"],
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def load_echo(function):
    return echo_app()


def load_slow(function):
    return slow


def load_broken(function):
    raise RuntimeError("init failed on purpose")

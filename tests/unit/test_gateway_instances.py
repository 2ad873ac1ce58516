"""The local gateway runs a function as one Lambda instance does (one request at a time: its
Powertools resolver holds the current request), different functions at once, and passes the
caller's address as ``requestContext.identity.sourceIp``."""

import json
import threading
import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import Router

from tools.localstack.apigw import Gateway


def _echo_app():
    """A resolver with an included router, as the functions build theirs."""
    router = Router()

    @router.get("/search")
    def search():
        asked = router.current_event.get_query_string_value("q")
        time.sleep(0.01)  # another request arriving now must not replace this one's event
        return {"q": router.current_event.get_query_string_value("q"), "asked": asked}

    app = APIGatewayRestResolver()
    app.include_router(router)
    return lambda event, context: app.resolve(event, context)


def test_concurrent_requests_to_one_function_each_see_their_own_event():
    handler = _echo_app()
    gateway = Gateway(loader=lambda name: handler)
    answers: dict[str, tuple[int, bytes]] = {}

    def call(index):
        q = f"q{index}"
        answers[q] = gateway.invoke("GET", f"/search?q={q}", {}, b"")[::2]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for q, (status, body) in answers.items():
        assert status == 200, body
        assert json.loads(body) == {"q": q, "asked": q}


def test_different_functions_run_at_once_and_the_caller_address_is_the_source_ip():
    both_inside = threading.Barrier(2, timeout=5)

    def handler(event, context):
        both_inside.wait()  # search and album must be inside their handlers at the same time
        return {"statusCode": 200, "body": json.dumps(event["requestContext"]["identity"]["sourceIp"])}

    gateway = Gateway(loader=lambda name: handler)
    answers: list[tuple[int, bytes]] = []
    calls = [("/search?q=a", "127.0.0.1"), ("/albums/4aawyAB9vmqN3uQ7FjRGTy", "127.0.0.2")]
    threads = [
        threading.Thread(
            target=lambda p=path, ip=ip: answers.append(gateway.invoke("GET", p, {}, b"", source_ip=ip)[::2])
        )
        for path, ip in calls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [(200, b'"127.0.0.1"'), (200, b'"127.0.0.2"')]

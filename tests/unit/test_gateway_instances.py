"""The local gateway serves a function with several instances at once (bounded), like Lambda
scaling out, and passes the caller's address as ``requestContext.identity.sourceIp``."""

import json
import threading

from tools.localstack.apigw import Gateway


def test_several_instances_of_one_function_run_at_once_and_the_pool_is_bounded():
    together = threading.Barrier(4, timeout=5)
    lock = threading.Lock()
    running, peak = [0], [0]

    def handler(event, context):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if peak[0] <= 4:
            together.wait()  # four invocations must be inside the handler at the same time
        with lock:
            running[0] -= 1
        return {"statusCode": 200, "body": json.dumps(event["requestContext"]["identity"]["sourceIp"])}

    gateway = Gateway(loader=lambda name: handler, instances_per_function=4)
    answers: list[tuple[int, bytes]] = []

    def call(index):
        status, _, body = gateway.invoke("GET", "/health", {}, b"", source_ip=f"127.0.0.{index % 2 + 1}")
        answers.append((status, body))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 8
    assert peak[0] == 4  # several at once, never more than the pool
    assert {body for _, body in answers} == {b'"127.0.0.1"', b'"127.0.0.2"'}

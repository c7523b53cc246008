"""local.request_isolation: concurrent invocations of one Powertools REST resolver each see their own
request (the precondition for several serve_api environments in one process)."""
from __future__ import annotations

import threading
import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router

from local import request_isolation


def _event(tenant: str, item: str) -> dict:
    return {
        "resource": "/items/{item_id}", "path": f"/items/{item}", "httpMethod": "GET",
        "headers": {}, "multiValueHeaders": {}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": {"item_id": item}, "stageVariables": None,
        "requestContext": {"authorizer": {"tenant_id": tenant}, "resourcePath": "/items/{item_id}",
                           "httpMethod": "GET", "stage": "v1", "requestId": item},
        "body": None, "isBase64Encoded": False,
    }


def race(resolver: APIGatewayRestResolver, threads: int = 12, rounds: int = 5) -> list[str]:
    """Resolve requests of different tenants at once; returns what any of them saw of another's."""
    foreign: list[str] = []
    barrier = threading.Barrier(threads)

    def one(i: int) -> None:
        barrier.wait()
        for r in range(rounds):
            tenant, item = f"t{i}", f"i{i}-{r}"
            answer = resolver.resolve(_event(tenant, item), None)
            if answer["body"] != f'{{"tenant":"{tenant}","item":"{item}","class_level":"{item}"}}':
                foreign.append(answer["body"])

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return foreign


def _resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    router = Router()

    @router.get("/items/<item_id>")
    def get_item(item_id: str) -> dict:
        time.sleep(0.002)  # let the other requests in between (the GIL switches on I/O)
        tenant = router.current_event.request_context.authorizer["tenant_id"]
        time.sleep(0.002)
        return {"tenant": tenant, "item": item_id,
                "class_level": BaseRouter.current_event.path_parameters["item_id"]}

    app.include_router(router)
    return app


def test_patch_targets_are_where_they_were():
    assert request_isolation.problems() == []


def test_concurrent_requests_see_their_own_event_context_and_route():
    request_isolation.apply()
    request_isolation.apply()  # idempotent
    assert request_isolation.applied()
    assert race(_resolver()) == []


def test_reads_outside_an_invocation_behave_as_before():
    request_isolation.apply()
    app = _resolver()
    seen: dict = {}

    def fresh_thread() -> None:
        # a thread that resolved nothing has no event (Powertools' class attribute was unset, too)
        seen["has_event"] = hasattr(BaseRouter, "current_event")
        seen["context"] = dict(app.context)

    t = threading.Thread(target=fresh_thread)
    t.start()
    t.join()
    assert seen == {"has_event": False, "context": {}}
    answer = app.resolve(_event("t1", "x"), None)
    assert answer["statusCode"] == 200
    assert BaseRouter.current_event.path_parameters == {"item_id": "x"}  # still readable after, in this thread
    assert app.context == {}  # cleared at the end of resolve(), as Powertools does

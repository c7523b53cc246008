"""List answers in pages: `?after=<the last id of the previous page>&limit=`, a `Link: <…>; rel="next"` header while
there is more (ccaas.domain.paging: at most `limit` items and ~4 MB, the body still a plain JSON list).

The Link is an absolute path, the one the client requested (`/v1/agents?after=…`, from the event's
`requestContext.path`: the stage or a custom domain's base path included, which the handler's path does not show) with
its trailing slashes dropped: a reference relative to `/v1/agents/` resolved to `/v1/agents/agents?…`, a 404."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ccaas.domain.paging import fitting_page

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

LIST_PAGE = 5_000  # items a list page holds at most (and by default): ~4 MB is the bound that usually decides

After = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                                    description="the id the previous page ended with (its Link header names it)")]
Limit = Annotated[int, Query(ge=1, le=LIST_PAGE)]

# A paged operation's 200 in the OpenAPI document (`responses=PAGED`): its Link header.
PAGED = {200: {"description": "a page of the list", "headers": {"Link": {
    "description": "`<path?after=…&limit=…>; rel=\"next\"`, an absolute path, while there is a next page (absent: "
                   "this is the last)",
    "schema": {"type": "string"}}}}}

T = TypeVar("T")


def requested_path(event: APIGatewayProxyEvent) -> str:
    """The absolute path the client requested (the stage or base path included, trailing slashes dropped), quoted
    again (`%` kept) so that a path the client sent with `<`, `>` or a space cannot break a header that repeats it."""
    return quote((event.request_context.path or event.path).rstrip("/"), safe="/%:@!$&()*+,;=~")


def api_path(event: APIGatewayProxyEvent, path: str) -> str:
    """`path`, a route of this API (`/metrics/historical/queries/…`), as the client that sent `event` reaches it: behind
    the same stage or custom domain base path (what requested_path has before the route's own path), as a Link does."""
    requested, routed = requested_path(event), quote(event.path.rstrip("/"), safe="/%:@!$&()*+,;=~")
    return f"{requested[:len(requested) - len(routed)] if requested.endswith(routed) else ''}{path}"


def next_page(event: APIGatewayProxyEvent, after: str, limit: int, **kept: str) -> dict[str, str]:
    """The Link header naming the page after `after` of the list `event` asked for (`kept`: the request's filters, so
    the next page is of the same list)."""
    filters = "".join(f"{name}={quote(value)}&" for name, value in kept.items())
    target = f"{requested_path(event)}?{filters}after={quote(after)}&limit={limit}"
    return {"Link": f"<{target}>; rel=\"next\""}


def page_answer(items: Sequence[T], *, key: Callable[[T], str], after: str | None, limit: int,
                event: APIGatewayProxyEvent, document: Callable[[T], Any]) -> Response:
    """The items after `after` in `key` order as one page, with a Link to the next while there is more (`event`: the
    request, whose path the Link repeats)."""
    ordered = sorted((i for i in items if after is None or key(i) > after), key=key)
    page = fitting_page(ordered, limit, document)
    headers = next_page(event, key(page[-1]), limit) if len(page) < len(ordered) else {}
    return Response(status_code=200, content_type="application/json", body=[document(i) for i in page], headers=headers)

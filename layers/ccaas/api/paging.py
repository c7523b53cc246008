"""List answers in pages: `?after=<the last id of the previous page>&limit=`, a `Link: <…>; rel="next"` header while
there is more (ccaas.domain.paging: at most `limit` items and ~4 MB, the body still a plain JSON list).

The Link is a reference relative to the request's own URL (`agents?after=…`): the API is served under a stage
(`/v1/agents`, `/prod/agents`) the handler's path does not show, and `/agents?…` would leave it out."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ccaas.domain.paging import fitting_page

LIST_PAGE = 5_000  # items a list page holds at most (and by default): ~4 MB is the bound that usually decides

After = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                                    description="the id the previous page ended with (its Link header names it)")]
Limit = Annotated[int, Query(ge=1, le=LIST_PAGE)]

T = TypeVar("T")


def next_page(path: str, after: str, limit: int, **kept: str) -> dict[str, str]:
    """The Link header naming the page after `after` (`path`: the route's last segment, relative to the request;
    `kept`: the request's filters, so the next page is of the same list)."""
    filters = "".join(f"{name}={quote(value)}&" for name, value in kept.items())
    return {"Link": f"<{path}?{filters}after={quote(after)}&limit={limit}>; rel=\"next\""}


def page_answer(items: Sequence[T], *, key: Callable[[T], str], after: str | None, limit: int, path: str,
                document: Callable[[T], Any]) -> Response:
    """The items after `after` in `key` order as one page, with a Link to the next while there is more (`path`:
    the route's last segment, e.g. "agents")."""
    ordered = sorted((i for i in items if after is None or key(i) > after), key=key)
    page = fitting_page(ordered, limit, document)
    headers = next_page(path, key(page[-1]), limit) if len(page) < len(ordered) else {}
    return Response(status_code=200, content_type="application/json", body=[document(i) for i in page], headers=headers)

"""Show the HTTP requests a DICOMweb client makes (lesson 16).

``dicomweb-client`` hides HTTP behind calls such as ``search_for_studies``; a
trainee learns DICOMweb by seeing the request each call becomes. :class:`HttpLog`
gives a :class:`requests.Session` whose response hook records every exchange::

    from dicomweb_client import DICOMwebClient
    from medlab.net.dicomweb.httplog import HttpLog

    http = HttpLog()
    client = DICOMwebClient(pacs.dicomweb_url, session=http.session())
    client.search_for_studies(search_filters={"PatientID": "MLB-100234"})
    http.last()     # GET /dicom-web/studies?PatientID=MLB-100234 ... -> 200 application/dicom+json

Nothing is changed in the requests; bodies are not kept (only their size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

#: Request and response headers worth showing (the ones PS3.18 gives a meaning).
_SHOWN_REQUEST = ("Accept", "Content-Type")


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as the client saw them."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_size: int
    status: int
    reason: str
    content_type: str
    response_size: int

    @property
    def target(self) -> str:
        """The request target (path and query), percent-decoded for reading."""
        parts = urlsplit(self.url)
        return unquote(parts.path + (f"?{parts.query}" if parts.query else ""))

    def __str__(self) -> str:
        lines = [f"{self.method} {self.target}"]
        lines += [f"    {name}: {value}" for name, value in self.request_headers]
        if self.request_size:
            lines.append(f"    (body: {_size(self.request_size)})")
        answer = f"  -> {self.status} {self.reason}"
        if self.content_type:
            answer += f", {self.content_type}, {_size(self.response_size)}"
        lines.append(answer)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _size(n: int) -> str:
    return f"{n} bytes" if n < 10_000 else f"{n / 1000:.0f} kB"


class HttpLog:
    """Records the HTTP exchanges of the sessions it makes (see the module docstring)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def session(self) -> Any:
        """A :class:`requests.Session` that records each exchange here."""
        import requests

        session = requests.Session()
        session.hooks["response"].append(self._record)
        return session

    def _record(self, response: Any, *args: Any, **kwargs: Any) -> None:
        request = response.request
        headers = tuple(
            (name, str(request.headers[name])) for name in _SHOWN_REQUEST if name in request.headers
        )
        body = request.body or b""
        # A streamed response is not read here: its size is what the server announced.
        size = response.headers.get("Content-Length")
        if size is None and not kwargs.get("stream"):
            size = len(response.content)
        self.exchanges.append(
            Exchange(
                request.method,
                request.url,
                headers,
                len(body) if isinstance(body, (bytes, str)) else 0,
                response.status_code,
                response.reason or "",
                response.headers.get("Content-Type", ""),
                int(size or 0),
            )
        )

    def last(self) -> Exchange:
        """The most recent exchange."""
        if not self.exchanges:
            from medlab.errors import MedlabError

            raise MedlabError(
                "No HTTP request recorded yet",
                fix="Make the client with DICOMwebClient(url, session=http.session()) and call it.",
            )
        return self.exchanges[-1]

    def clear(self) -> None:
        self.exchanges.clear()

    def __len__(self) -> int:
        return len(self.exchanges)

    def __repr__(self) -> str:
        return "\n".join(str(e) for e in self.exchanges) or "(no HTTP requests yet)"

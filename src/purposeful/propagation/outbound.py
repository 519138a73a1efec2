"""Outbound calls: a claim for each of the agency's own services, and nothing for anyone else.

`Outbound` holds this service's key and an allow-list: the origins of the agency's own
services (``https://case.agency.example``) and each one's service name. A request to an
origin on the list gets the claim of the scope open here, made for that service; a request
to any other origin gets none, and loses any claim something else put in its headers. A
redirect to another origin carries no claim either, as neither client sends an
``Authorization`` header there: the service that answered with the redirect did not choose
where this service's scope may act.

The HTTP clients' hooks are built on `Outbound.apply`:

- httpx: ``httpx.Client(event_hooks=outbound.httpx_hooks())`` (and
  ``httpx.AsyncClient(event_hooks=outbound.httpx_async_hooks())``);
- requests: ``session.mount("https://", outbound.requests_adapter())`` (and ``"http://"``).

Both run in the caller's thread or task, where its scope is. Neither client is imported
until its hook is asked for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, MutableMapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError, MissingExtra
from ..scope import current_scope
from .baggage import DEFAULT_LIFETIME, inject, remove_claim
from .keys import ServiceKey, check_service_name

__all__ = ["Outbound"]

_log = logging.getLogger("purposeful")

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: The key of httpx's request ``extensions`` where a request chain (`_Chain`) rides: httpx
#: carries a request's ``extensions`` to its redirects. (requests carries a request's
#: ``hooks``: its adapter keeps `_RequestsChains` among the response hooks.)
_ASKED = "purposeful.asked_origin"


def _ascii_origin(origin: str) -> str:
    """*origin* with its host in the ASCII form clients send (IDNA): httpx and requests
    encode a host such as ``tūhono.agency.example`` before the hooks see the URL, so an
    allow-list entry kept as written would never match, and its service would answer every
    call 401."""
    scheme, _, rest = origin.partition("://")
    host, _, port = rest.rpartition(":")
    if host.isascii():
        return origin
    try:
        import idna
    except ImportError:
        raise ConfigurationError(
            "Outbound's allow-list names a host with letters outside ASCII: give it in the "
            "ASCII form clients send (xn--...), or install idna to have it converted"
        ) from None
    try:
        encoded = idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # idna's IDNAError is one
        raise ConfigurationError(
            "Outbound's allow-list names a host that is not a valid internationalised "
            "domain name: give it in the ASCII form clients send (xn--...)"
        ) from None
    return f"{scheme}://{encoded.lower()}:{port}"


class _Chain:
    """One request as the calling code asked for it, and the redirects the client follows
    from it: the origin asked for, and whether the chain has ended (an answer that is not
    a redirect). A request sent again after its chain ended begins a chain of its own."""

    __slots__ = ("ended", "origin")

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.ended = False


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of *url*, lower case, with the scheme's default port; None if
    it is not an http or https URL with a host. An IPv6 host keeps its brackets
    (``http://[::1]:8001``), so an origin is itself a URL whose origin it is: a redirect's
    check reads the first origin of its chain again."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


class Outbound:
    """This service's claims, for the agency's own services only.

    Args:
        key: this service's key (`ServiceKey`).
        services: the allow-list: each origin (``scheme://host[:port]``) of an agency
            service, and that service's name, as its trust store names itself.
        lifetime: how long each claim is valid; keep it short (it bounds replay).

    Raises:
        ConfigurationError: an origin is not an http(s) origin, or a name is malformed.

    A host with letters outside ASCII (``https://tūhono.agency.example``) is kept in the
    ASCII form the clients send (``xn--thono-lfb``), as the ``idna`` package (which httpx
    and requests bring) writes it.
    """

    def __init__(
        self,
        key: ServiceKey,
        services: Mapping[str, str],
        *,
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> None:
        if not isinstance(key, ServiceKey):
            raise ConfigurationError(
                f"Outbound takes a purposeful.propagation.ServiceKey, not {type(key).__name__}"
            )
        self.key = key
        self.lifetime = lifetime
        self._audiences: dict[str, str] = {}
        for url, service in services.items():
            origin = origin_of(url) if isinstance(url, str) else None
            if origin is None or urlsplit(url).path not in ("", "/"):
                raise ConfigurationError(
                    f"Outbound's allow-list takes origins such as 'https://case.agency.example' "
                    f"or 'http://127.0.0.1:8001' (no path), not {url!r}"
                )
            self._audiences[_ascii_origin(origin)] = check_service_name(service, "service name")

    def audience_for(self, url: str) -> str | None:
        """The service name of *url*'s origin, or None if it is not on the allow-list."""
        origin = origin_of(url)
        return None if origin is None else self._audiences.get(origin)

    def apply(
        self, url: str, headers: MutableMapping[str, str], *, asked: str | None = None
    ) -> bool:
        """Give a request to *url* the claim of the scope open here if *url* is one of the
        agency's services; otherwise take any claim out of its baggage. True if a claim
        was added.

        *asked* is the URL (or origin) the caller asked for, when a client follows a
        redirect to *url*: only a request to that origin gets a claim.
        """
        audience = self.audience_for(url)
        origin = origin_of(url)
        redirected = asked is not None and origin_of(asked) != origin
        if audience is not None and not redirected:
            return inject(headers, self.key, audience=audience, lifetime=self.lifetime)
        remove_claim(headers)
        if _log.isEnabledFor(logging.DEBUG) and current_scope() is not None:
            _log.debug(
                "purposeful: no purpose claim sent to %s: %s",
                origin or "a URL that is not http(s)",
                "a redirect from another origin led there"
                if redirected
                else "its origin is not on the allow-list",
            )
        return False

    # --- clients -------------------------------------------------------------------------

    def httpx_hooks(self) -> dict[str, list[Callable[[Any], None]]]:
        """``event_hooks`` for an ``httpx.Client`` (a request hook, and a response hook
        that ends a redirect chain: install both)."""

        def on_request(request: Any) -> None:
            self._apply_httpx(request)

        return {"request": [on_request], "response": [_end_httpx_chain]}

    def httpx_async_hooks(self) -> dict[str, list[Callable[[Any], Any]]]:
        """``event_hooks`` for an ``httpx.AsyncClient`` (its hooks are coroutines)."""

        async def on_request(request: Any) -> None:
            self._apply_httpx(request)

        async def on_response(response: Any) -> None:
            _end_httpx_chain(response)

        return {"request": [on_request], "response": [on_response]}

    def _apply_httpx(self, request: Any) -> None:
        # httpx makes a redirect's request with the ``extensions`` of the request it
        # follows (the same dict before httpx 0.28, a copy since), so the chain rides there.
        # A chain begins in a dict of its own: the caller's ``extensions``, passed to many
        # requests, would carry one request's origin to the next.
        url = str(request.url)
        chain = request.extensions.get(_ASKED)
        if not isinstance(chain, _Chain) or chain.ended:
            chain = _Chain(origin_of(url) or "")
            request.extensions = {**request.extensions, _ASKED: chain}
        self.apply(url, request.headers, asked=chain.origin)

    def requests_adapter(self, **options: Any) -> Any:
        """A ``requests`` transport adapter (an ``HTTPAdapter``; *options* are its own) that
        adds the claim to each request it sends. Mount it for ``"https://"`` and
        ``"http://"`` on a ``requests.Session``.

        Raises:
            MissingExtra: requests is not installed.
        """
        try:
            from requests.adapters import HTTPAdapter
        except ImportError:
            raise MissingExtra(
                "Outbound.requests_adapter needs requests: pip install requests", extra="web"
            ) from None
        outbound = self

        class PurposeAdapter(HTTPAdapter):
            def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
                # requests makes a redirect's request with the same ``hooks`` dict
                chains = _RequestsChains.of(request)
                chains.begin(request.url)
                try:
                    # the claim goes on a copy: requests follows a redirect with a copy of
                    # the caller's request, which another host's adapter would send on
                    response = super().send(request.copy(), *args, **kwargs)
                except BaseException:
                    chains.end()
                    raise
                chains(response)
                return response

            def add_headers(self, request: Any, **kwargs: Any) -> None:
                super().add_headers(request, **kwargs)
                asked = _RequestsChains.of(request).asked()
                outbound.apply(request.url, request.headers, asked=asked)

        return PurposeAdapter(**options)


class _RequestsChains:
    """The redirect chains of one requests ``PreparedRequest``, one for each thread that
    sends it: requests follows a redirect with a copy of the request that shares its
    ``hooks``, and this rides there, as a response hook (requests calls it with each
    answer, whichever adapter sent it). The origin asked for is kept from the first request
    of a chain until an answer is not a redirect; a thread's chain is its own, as another
    thread's answer to the same request does not end it."""

    def __init__(self) -> None:
        self._origins: dict[int, str] = {}

    @classmethod
    def of(cls, request: Any) -> _RequestsChains:
        """The chains kept in *request*'s response hooks, added there if none are."""
        hooks = request.hooks.get("response")
        if not isinstance(hooks, list):  # as requests' dispatch reads one: a hook or several
            hooks = [] if hooks is None else [hooks] if callable(hooks) else list(hooks)
            request.hooks["response"] = hooks
        for hook in hooks:
            if isinstance(hook, cls):
                return hook
        chains = cls()
        hooks.append(chains)
        return chains

    def begin(self, url: str) -> None:
        self._origins.setdefault(threading.get_ident(), origin_of(url) or "")

    def asked(self) -> str | None:
        return self._origins.get(threading.get_ident())

    def end(self) -> None:
        self._origins.pop(threading.get_ident(), None)

    def __call__(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """The response hook: an answer that is not a redirect ends this thread's chain."""
        if not getattr(response, "is_redirect", False):
            self.end()


def _end_httpx_chain(response: Any) -> None:
    """httpx's response hook: an answer that is not a redirect ends its request's chain."""
    try:
        request = response.request
    except RuntimeError:  # a response made without a request: no chain
        return
    chain = request.extensions.get(_ASKED)
    if isinstance(chain, _Chain) and not response.has_redirect_location:
        chain.ended = True

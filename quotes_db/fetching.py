"""Fetching: download an article by URL without letting the URL reach inside our network.

``Fetcher.fetch(url)`` returns a ``FetchedArticle`` (final URL, plain text, title, site
name, publication date) or raises one of three errors, each mapped by the HTTP layer to one
status: ``UrlRefusedError`` (we will not fetch that, 422), ``FetchFailedError`` (the site
failed us, 502) and ``FetchTimeoutError`` (the site was too slow, 504).

The rules, in the order a fetch meets them:

1. **The URL.** Only ``http`` and ``https``, with a host, without credentials and without
   control characters. Every redirect target is checked again; at most ``max_redirects``
   redirects are followed (we follow them ourselves, ``allow_redirects=False``).
2. **The address.** The host is resolved (``socket.getaddrinfo``, every address it
   returns) and refused if *any* address is not a public unicast one: loopback, private,
   link-local, multicast, reserved, unspecified, shared (100.64/10), documentation ranges,
   and IPv6 addresses that embed such an IPv4 address (``::ffff:127.0.0.1``, 6to4, Teredo,
   NAT64). Integer, hex and octal IPv4 spellings (``http://2130706433/``,
   ``http://0x7f.1/``) are caught because the check runs on what the resolver returns,
   never on the spelling of the host.
3. **The connection is pinned to the checked address.** The check does not happen before
   the request but inside the connection: ``requests`` is given a transport adapter whose
   urllib3 connections resolve the host once, check every address, and open the socket to
   one of those same addresses. There is no second lookup, so a DNS answer that changes
   between check and connect (DNS rebinding) cannot slip a private address in. The URL,
   the ``Host`` header, TLS SNI and certificate verification all keep the host *name*,
   because only the socket's destination is chosen by us. Proxies and ``.netrc`` from the
   environment are ignored (``trust_env=False``): a proxy would be connected to instead of
   the checked address. Cookies are refused, so nothing carries over between fetches.
4. **The response.** Connect and read timeouts on every request, plus a total deadline
   checked between reads, so a body dripped a byte at a time ends in a timeout. Status
   4xx/5xx fails. Only ``text/html``, ``application/xhtml+xml`` and ``text/plain`` are
   read; the body is streamed and refused as soon as it passes ``max_bytes`` (after
   content decoding, so a gzip bomb is cut off too), without reading the rest.
5. **The text.** The body is decoded (byte-order mark, then the ``charset`` of the
   ``Content-Type`` header, then an HTML ``<meta charset>``, then UTF-8, then detection
   with charset-normalizer). HTML is turned into text and metadata by trafilatura
   (paragraphs one per line, no comments, no tables); plain text passes through.

Residual risk, stated plainly:

- The total deadline is checked between reads of the body and between redirects. A
  server that drips its *status line and headers*, or the TLS handshake, a byte at a time
  keeps each read under ``read_timeout`` and can hold one fetch for longer than
  ``total_timeout`` (http.client caps headers at 100 lines of 64 KiB each, so the hold is
  finite but long). Rate-limit fetches at the HTTP layer.
- Any public address may be fetched, on any port: the service can be used to make
  requests to third parties. Only our own network is protected.
- ``allow_private`` switches the address check off (``True``) or off for some
  ``(host, port)`` pairs. It exists for tests against a local server; never derive it
  from user input.
- requests does not promise that a ``Session`` is thread-safe. A ``Fetcher`` keeps no
  per-fetch state of its own, but give each worker thread its own ``Fetcher`` to be sure.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import socket
import sys
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import requests
import trafilatura
from requests.adapters import HTTPAdapter
from trafilatura.settings import Document
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import connection as urllib3_connection

from .errors import QuotesDbError

__all__ = [
    "FetchFailedError",
    "FetchTimeoutError",
    "FetchedArticle",
    "Fetcher",
    "Resolver",
    "UrlRefusedError",
    "is_public_address",
    "system_resolver",
]

Resolver = Callable[[str, int], Iterable[str]]
"""``resolver(host, port)`` returns the IP addresses (as strings) to connect to."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = frozenset({"http", "https"})
# media type -> how the body is turned into text
CONTENT_KINDS = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "text"}
ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8"
READ_SIZE = 64 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
# WHATWG: a page labelled latin-1 or ascii is decoded as windows-1252
_AS_CP1252 = frozenset({"iso8859-1", "ascii"})  # codecs.lookup(label).name


class UrlRefusedError(QuotesDbError):
    """We will not fetch this URL: bad scheme or host, a forbidden address, too many
    redirects, an unsupported content type or a body over the size cap."""


class FetchFailedError(QuotesDbError):
    """The site could not be fetched: DNS failure, connection refused or reset, TLS
    failure, or an error status (``status`` holds it when there was one)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    def __reduce__(self) -> tuple[object, ...]:
        return (FetchFailedError, (str(self), self.status))


class FetchTimeoutError(QuotesDbError):
    """The site did not connect, answer or finish its body in time."""


@dataclass(frozen=True, slots=True)
class FetchedArticle:
    """An article as fetched: ``url`` is the final URL after redirects."""

    url: str
    text: str
    title: str | None
    publisher: str | None
    published_at: date | None
    content_type: str


def system_resolver(host: str, port: int) -> list[str]:
    """Return every address ``socket.getaddrinfo`` gives for ``host``, first seen first."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    """Return whether ``address`` (an IP address string) is one we may connect to."""
    return _refusal_reason(ipaddress.ip_address(address)) is None


def _refusal_reason(address: IPAddress) -> str | None:
    """Return why ``address`` may not be connected to ("a loopback address"), None if public."""
    for ip in (*_embedded_ipv4(address), address):
        for kind, flag in (
            ("unspecified", ip.is_unspecified),
            ("loopback", ip.is_loopback),
            ("link-local", ip.is_link_local),
            ("multicast", ip.is_multicast),
            ("private", ip.is_private),
            ("reserved", ip.is_reserved),
            ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
            ("non-global", not ip.is_global),  # also shared 100.64/10, documentation...
        ):
            if flag:
                if ip != address:
                    return f"an address with {kind} {ip} inside"
                return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
    return None


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """Return the IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_key(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


class _AddressGuard:
    """Resolves a host and returns the addresses that may be connected to."""

    def __init__(self, resolver: Resolver, allowed: bool | frozenset[tuple[str, int]]) -> None:
        self._resolver = resolver
        self._allowed = allowed

    def addresses(self, host: str, port: int) -> list[str]:
        """Return the addresses to connect to; raise ``UrlRefusedError`` if any is private.

        Resolution failures surface as ``OSError`` (``socket.gaierror``)."""
        name = host.strip("[]")  # urllib3 gives IPv6 literals without brackets; be sure
        addresses = [name] if _is_ip_literal(name) else list(self._resolver(name, port))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
        if self._allowed is True or (_host_key(host), port) in (self._allowed or ()):
            return addresses
        for address in addresses:
            reason = _refusal_reason(ipaddress.ip_address(address))
            if reason is not None:
                where = address if name == address else f"{name} ({address})"
                raise UrlRefusedError(f"{where} is {reason}, which is not fetched")
        return addresses


def _open_socket(conn: HTTPConnection, guard: _AddressGuard) -> socket.socket:
    """Resolve and check ``conn.host``, then connect to one of the checked addresses.

    Mirrors urllib3's ``HTTPConnection._new_conn`` so requests reports failures as usual."""
    try:
        addresses = guard.addresses(conn.host, conn.port)
    except socket.gaierror as e:
        raise NameResolutionError(conn.host, conn, e) from e
    error: OSError | None = None
    for address in addresses:
        try:
            sock = urllib3_connection.create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as e:
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            ) from e
        except OSError as e:
            error = e
            continue
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error}") from error


class _GuardedHTTPConnection(HTTPConnection):
    def __init__(self, *args: Any, address_guard: _AddressGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address_guard = address_guard

    def _new_conn(self) -> socket.socket:
        return _open_socket(self, self._address_guard)


class _GuardedHTTPSConnection(HTTPSConnection):
    # connect() wraps this socket in TLS with SNI and verification for self.host, the name
    def __init__(self, *args: Any, address_guard: _AddressGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address_guard = address_guard

    def _new_conn(self) -> socket.socket:
        return _open_socket(self, self._address_guard)


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedPoolManager(PoolManager):
    def __init__(self, *, address_guard: _AddressGuard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._address_guard = address_guard
        self.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }

    def _new_pool(
        self,
        scheme: str,
        host: str,
        port: int,
        request_context: dict[str, Any] | None = None,
    ) -> HTTPConnectionPool:
        # added after the pool key is computed: the guard is not part of a pool's identity
        context = dict(self.connection_pool_kw if request_context is None else request_context)
        context["address_guard"] = self._address_guard
        return super()._new_pool(scheme, host, port, context)


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, address_guard: _AddressGuard) -> None:
        self._address_guard = address_guard  # before super().__init__, which builds the pools
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _GuardedPoolManager(
            address_guard=self._address_guard,
            num_pools=connections,
            maxsize=maxsize,
            block=block,
            **pool_kwargs,
        )

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise UrlRefusedError("fetching through a proxy is not supported")


class Fetcher:
    """Fetches articles by URL under the rules in this module's docstring.

    ``allow_private`` is for tests: ``True`` switches the address check off, a collection
    of ``(host, port)`` pairs switches it off for those hosts only (redirects elsewhere are
    still checked). ``resolver`` replaces ``socket.getaddrinfo`` (tests again)."""

    def __init__(
        self,
        *,
        max_bytes: int = 5 * 1024 * 1024,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_redirects: int = 5,
        allow_private: bool | Collection[tuple[str, int]] = False,
        user_agent: str = "quotecheck/0.1 (+quote verification)",
        resolver: Resolver | None = None,
    ) -> None:
        if max_bytes <= 0 or max_redirects < 0:
            raise ValueError("max_bytes must be positive and max_redirects not negative")
        if min(connect_timeout, read_timeout, total_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        self.max_bytes = max_bytes
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_redirects = max_redirects
        allowed = (
            allow_private
            if isinstance(allow_private, bool)
            else frozenset((_host_key(host), int(port)) for host, port in allow_private)
        )
        guard = _AddressGuard(resolver or system_resolver, allowed)
        self._session = requests.Session()
        self._session.trust_env = False
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self._session.headers.update({"User-Agent": user_agent, "Accept": ACCEPT})
        adapter = _GuardedAdapter(guard)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch(self, url: str) -> FetchedArticle:
        """Fetch ``url`` and return its text and metadata as a ``FetchedArticle``.

        Raises ``UrlRefusedError``, ``FetchFailedError`` or ``FetchTimeoutError``."""
        deadline = time.monotonic() + self.total_timeout
        response = self._open(url.strip(), deadline)
        try:
            media_type, charset = _content_type(response)
            body = self._read_body(response, deadline)
        finally:
            response.close()  # without draining: the rest of an oversized body stays unread
        text = _decode(body, charset, html=CONTENT_KINDS[media_type] == "html")
        if CONTENT_KINDS[media_type] == "text":
            return FetchedArticle(
                url=response.url,
                text=text.replace("\r\n", "\n"),
                title=None,
                publisher=None,
                published_at=None,
                content_type=media_type,
            )
        return _article_from_html(text, url=response.url, content_type=media_type)

    def _open(self, url: str, deadline: float) -> requests.Response:
        """Return the first non-redirect response, its status checked, its body unread."""
        for _ in range(self.max_redirects + 1):
            _check_url(url)
            response = self._get(url, deadline)
            target = self._session.get_redirect_target(response)
            if target is None:
                return _successful(response)
            response.close()
            url = urljoin(response.url, target)
        raise UrlRefusedError(f"more than {self.max_redirects} redirects")

    def _get(self, url: str, deadline: float) -> requests.Response:
        remaining = _remaining(deadline)
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            return self._session.get(url, allow_redirects=False, stream=True, timeout=timeout)
        except requests.Timeout as e:
            raise FetchTimeoutError(f"{url} timed out") from e
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as e:
            raise UrlRefusedError(f"not a fetchable URL: {url}") from e
        except requests.ConnectionError as e:
            raise FetchFailedError(f"could not connect to {_host_of(url)}: {_cause(e)}") from e
        except requests.RequestException as e:
            raise FetchFailedError(f"fetching {url} failed: {_cause(e)}") from e

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise UrlRefusedError(f"the body is larger than {self.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            _remaining(deadline)
            try:
                # read1: at most one socket read, so the deadline is checked between drips
                chunk = response.raw.read1(READ_SIZE, decode_content=True)
            except ReadTimeoutError as e:
                raise FetchTimeoutError(f"{response.url} stopped sending its body") from e
            except (Urllib3Error, OSError) as e:
                raise FetchFailedError(f"reading {response.url} failed: {_cause(e)}") from e
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise UrlRefusedError(f"the body is larger than {self.max_bytes} bytes")
            chunks.append(chunk)


def _check_url(url: str) -> None:
    """Raise ``UrlRefusedError`` unless ``url`` is an http(s) URL with a host we may try."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise UrlRefusedError("the URL contains control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError as e:
        raise UrlRefusedError(f"not a valid URL: {url!r}") from e
    if parts.scheme.lower() not in SCHEMES:
        raise UrlRefusedError(f"only http and https URLs are fetched, not {url!r}")
    if not parts.hostname:
        raise UrlRefusedError(f"the URL has no host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise UrlRefusedError("URLs with credentials are not fetched")


def _successful(response: requests.Response) -> requests.Response:
    """Return ``response`` if its status is 2xx, else close it and raise."""
    if 200 <= response.status_code < 300:
        return response
    response.close()
    raise FetchFailedError(
        f"{response.url} answered HTTP {response.status_code}", response.status_code
    )


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchTimeoutError("the fetch took longer than its total deadline")
    return remaining


def _host_of(url: str) -> str:
    return urlsplit(url).hostname or url


def _cause(error: BaseException) -> str:
    """Return the innermost cause's message: requests wraps urllib3 wraps socket."""
    for _ in range(10):
        inner = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if inner is None:
            break
        error = inner
    return str(error) or type(error).__name__


def _content_type(response: requests.Response) -> tuple[str, str | None]:
    """Return the media type and charset; raise ``UrlRefusedError`` for unsupported types."""
    header = response.headers.get("Content-Type", "")
    media_type, _, params = header.partition(";")
    media_type = media_type.strip().lower()
    if media_type not in CONTENT_KINDS:
        shown = media_type or "no content type"
        raise UrlRefusedError(f"{shown} is not fetched (only HTML and plain text)")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \"'"):
            charset = value.strip(" \"'")
    return media_type, charset


def _decode(body: bytes, charset: str | None, *, html: bool) -> str:
    """Return ``body`` as text, trying the BOM, the declared charsets, UTF-8, detection."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    declared = [charset]
    if html:
        found = _META_CHARSET.search(body[:2048])
        declared.append(found.group(1).decode("ascii") if found else None)
    for name in declared:
        codec = _codec(name)
        if codec is not None:
            return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        return str(best)
    return body.decode("cp1252", errors="replace")


def _codec(name: str | None) -> str | None:
    """Return the Python codec for a charset label, or None if there is no such codec."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return "cp1252" if codec in _AS_CP1252 else codec


def _article_from_html(html: str, *, url: str, content_type: str) -> FetchedArticle:
    """Return the article trafilatura finds in ``html``: text one paragraph a line."""
    date_params = {
        "original_date": True,  # the publication date, not the last modification
        "extensive_search": False,  # only dates the page declares, no guessing from text
        "max_date": date.today().isoformat(),
    }
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params=date_params,
    )
    text = ""
    if isinstance(document, Document):
        text = document.text or ""
    else:  # no main text found: keep what metadata there is
        document = trafilatura.extract_metadata(html, default_url=url, date_config=date_params)
    return FetchedArticle(
        url=url,
        text=text,
        title=document.title or None,
        publisher=document.sitename or None,
        published_at=_parse_date(document.date),
        content_type=content_type,
    )


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None

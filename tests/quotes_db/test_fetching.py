"""Fetching against a real HTTP server on 127.0.0.1; no other traffic leaves the process.

The default ``Fetcher`` refuses the test server's own address, so tests that fetch from it
allow exactly its ``(host, port)`` pair; redirects elsewhere are still checked.
"""

from __future__ import annotations

import gzip
import pickle
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from quotes_db.errors import QuotesDbError
from quotes_db.fetching import (
    FetchedArticle,
    Fetcher,
    FetchFailedError,
    FetchTimeoutError,
    UrlRefusedError,
    is_public_address,
)

QUOTE = (
    "If we’re going to pay billions of dollars a year, tell them we’re not going to give "
    "them the money unless they give back our military equipment."
)
ARTICLE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Taliban rejects Trump's demand | Example News</title>
<meta property="og:title" content="Taliban rejects Trump's demand">
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2025-09-21T10:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article>
<h1>Taliban rejects Trump's demand</h1>
<p>The Taliban on Sunday rejected a demand by Donald Trump to return military equipment
left behind in Afghanistan.</p>
<p>At a rally, Trump said: “{QUOTE}”</p>
<table><tr><td>Equipment left behind</td><td>7.12 billion dollars</td></tr></table>
<p>A spokesman said the equipment was now the property of the Afghan state.</p>
</article>
<div class="comments"><p>Reader comment: this is noise.</p></div>
<footer>Copyright 2025 Example News</footer>
</body></html>
""".encode()
CP1252_ARTICLE = (
    "<html><head><meta http-equiv='Content-Type' content='text/html; charset=windows-1252'>"
    "<title>Caf\u00e9</title></head><body><article><p>The caf\u00e9 owner said: \u201cWe "
    "stay open.\u201d He repeated it twice, to everyone who came by that morning.</p>"
    "</article></body></html>"
).encode("cp1252")
PLAIN = "Line one of a statement.\r\nLine two says “we stay”.\n"
HUGE = 50 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    """The stand-in web. ``self.server.state`` records what the tests need to see."""

    server: TestServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.state["hits"] += 1
        path = urlsplit(self.path).path
        route = ROUTES.get(path) or ROUTES.get(path.rsplit("/", 1)[0] + "/")
        try:
            if route is None:
                self.send(404, b"", {"Content-Type": "text/plain"})
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up on purpose

    def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def html(self, body: bytes) -> None:
        self.send(200, body, {"Content-Type": "text/html; charset=utf-8"})

    def redirect(self, location: str, status: int = 302) -> None:
        self.send(status, b"", {"Location": location})

    # routes -----------------------------------------------------------------------------

    def article(self) -> None:
        self.html(ARTICLE)

    def cp1252(self) -> None:
        self.send(200, CP1252_ARTICLE, {"Content-Type": "text/html"})  # charset only in meta

    def plain(self) -> None:
        self.send(200, PLAIN.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    def host(self) -> None:
        self.send(200, self.headers["Host"].encode(), {"Content-Type": "text/plain"})

    def typed(self) -> None:
        content_type = parse_qs(urlsplit(self.path).query).get("type", [""])[0]
        self.send(200, b"%PDF-1.4 binary", {"Content-Type": content_type} if content_type else {})

    def status(self) -> None:
        self.send(int(self.path.rsplit("/", 1)[1]), b"<p>error</p>", {"Content-Type": "text/html"})

    def chain(self) -> None:
        left = int(self.path.rsplit("/", 1)[1])
        self.redirect(f"/chain/{left - 1}" if left else "/article")

    def redirect_to(self) -> None:
        self.redirect(parse_qs(urlsplit(self.path).query)["url"][0])

    def no_location(self) -> None:
        self.send(302, b"", {"Content-Type": "text/html"})

    def huge(self) -> None:
        # no Content-Length: the size is only known by reading, which the client must stop
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        chunk = b"<p>" + b"x" * 65_000 + b"</p>\n"
        try:
            while self.server.state["sent"] < HUGE:
                self.wfile.write(chunk)
                self.server.state["sent"] += len(chunk)
        finally:
            self.server.state["huge_done"].set()

    def huge_declared(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        self.wfile.write(b"<p>only the start</p>")

    def gzip_bomb(self) -> None:
        body = gzip.compress(b" " * (20 * 1024 * 1024))  # ~20 KB on the wire
        self.send(200, body, {"Content-Type": "text/html", "Content-Encoding": "gzip"})

    def drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        for _ in range(200):  # one byte every 20 ms: each read is quick, the whole is not
            if self.server.stopping.wait(0.02):
                return
            self.wfile.write(b"x")
            self.wfile.flush()

    def stall_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"start")
        self.wfile.flush()
        self.server.stopping.wait(5)

    def stall_headers(self) -> None:
        self.server.stopping.wait(5)
        self.plain()


ROUTES = {
    "/article": Handler.article,
    "/cp1252": Handler.cp1252,
    "/plain": Handler.plain,
    "/host": Handler.host,
    "/typed": Handler.typed,
    "/status/": Handler.status,
    "/chain/": Handler.chain,
    "/redirect-to": Handler.redirect_to,
    "/no-location": Handler.no_location,
    "/huge": Handler.huge,
    "/huge-declared": Handler.huge_declared,
    "/gzip-bomb": Handler.gzip_bomb,
    "/drip": Handler.drip,
    "/stall-body": Handler.stall_body,
    "/stall-headers": Handler.stall_headers,
}


class TestServer(ThreadingHTTPServer):
    __test__ = False  # not a pytest class
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.stopping = threading.Event()
        self.reset()

    def reset(self) -> None:
        self.state: dict[str, Any] = {"hits": 0, "sent": 0, "huge_done": threading.Event()}

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[TestServer, TestServer]]:
    started = [TestServer(), TestServer()]
    for server in started:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield started[0], started[1]
    for server in started:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(servers: tuple[TestServer, TestServer]) -> TestServer:
    servers[0].reset()
    return servers[0]


@pytest.fixture
def other(servers: tuple[TestServer, TestServer]) -> TestServer:
    """A second local server on another port, for redirects across hosts."""
    servers[1].reset()
    return servers[1]


@pytest.fixture
def fetcher(server: TestServer) -> Iterator[Fetcher]:
    """A Fetcher allowed to reach the test server, and only it."""
    with Fetcher(allow_private={("127.0.0.1", server.port)}) as f:
        yield f


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any lookup that could leave the machine: only numbers and localhost resolve."""
    real = socket.getaddrinfo

    def local_only(host: str | None, *args: Any, **kwargs: Any) -> Any:
        if host != "localhost":
            try:
                real(host, None, flags=socket.AI_NUMERICHOST)
            except socket.gaierror:
                raise AssertionError(f"a real DNS lookup of {host!r}") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


# what is fetched ----------------------------------------------------------------------


def test_fetches_an_html_article(fetcher: Fetcher, server: TestServer) -> None:
    article = fetcher.fetch(server.url("/article"))
    assert article == FetchedArticle(
        url=server.url("/article"),
        text=article.text,
        title="Taliban rejects Trump's demand",
        publisher="Example News",
        published_at=date(2025, 9, 21),
        content_type="text/html",
    )
    paragraphs = article.text.split("\n")
    assert f"At a rally, Trump said: “{QUOTE}”" in paragraphs
    assert any(p.startswith("A spokesman said") for p in paragraphs)
    # no navigation, table, comments or footer
    for noise in ("Home", "7.12 billion", "Reader comment", "Copyright"):
        assert noise not in article.text


def test_decodes_a_charset_declared_only_in_the_page(fetcher: Fetcher, server: TestServer) -> None:
    article = fetcher.fetch(server.url("/cp1252"))
    assert "The café owner said: “We stay open.”" in article.text
    assert article.title == "Café"


def test_plain_text_passes_through(fetcher: Fetcher, server: TestServer) -> None:
    article = fetcher.fetch(server.url("/plain"))
    assert article == FetchedArticle(
        url=server.url("/plain"),
        text="Line one of a statement.\nLine two says “we stay”.\n",
        title=None,
        publisher=None,
        published_at=None,
        content_type="text/plain",
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "application/pdf",
        "application/octet-stream",
        "image/png",
        "application/json",
        "",  # no Content-Type header at all
    ],
)
def test_refuses_other_content_types(
    fetcher: Fetcher, server: TestServer, content_type: str
) -> None:
    with pytest.raises(UrlRefusedError, match="not fetched"):
        fetcher.fetch(server.url(f"/typed?type={content_type}"))


# size, time and status ----------------------------------------------------------------


def test_refuses_a_body_over_the_cap_without_reading_it_all(server: TestServer) -> None:
    with Fetcher(allow_private={("127.0.0.1", server.port)}, max_bytes=256 * 1024) as f:
        with pytest.raises(UrlRefusedError, match="larger than 262144 bytes"):
            f.fetch(server.url("/huge"))
    assert server.state["huge_done"].wait(5), "the server is still sending"
    # what was sent beyond the cap sat in socket buffers; the 50 MB were never read
    assert server.state["sent"] < 20 * 1024 * 1024


def test_refuses_a_declared_length_over_the_cap(fetcher: Fetcher, server: TestServer) -> None:
    with pytest.raises(UrlRefusedError, match="larger than"):
        fetcher.fetch(server.url("/huge-declared"))


def test_counts_the_cap_after_decompression(server: TestServer) -> None:
    with Fetcher(allow_private={("127.0.0.1", server.port)}, max_bytes=1024 * 1024) as f:
        with pytest.raises(UrlRefusedError, match="larger than"):
            f.fetch(server.url("/gzip-bomb"))


@pytest.mark.parametrize(
    "path",
    [
        "/drip",  # every byte arrives within the read timeout; the total deadline ends it
        "/stall-body",  # read timeout in the body
        "/stall-headers",  # read timeout before the status line
    ],
)
def test_times_out(server: TestServer, path: str) -> None:
    slow = Fetcher(
        allow_private={("127.0.0.1", server.port)},
        connect_timeout=0.5,
        read_timeout=0.3,
        total_timeout=0.6,
    )
    started = time.monotonic()
    with slow, pytest.raises(FetchTimeoutError):
        slow.fetch(server.url(path))
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("status", [404, 500, 503])
def test_error_statuses_fail(fetcher: Fetcher, server: TestServer, status: int) -> None:
    with pytest.raises(FetchFailedError, match=f"HTTP {status}") as caught:
        fetcher.fetch(server.url(f"/status/{status}"))
    assert caught.value.status == status


def test_a_redirect_without_location_fails(fetcher: Fetcher, server: TestServer) -> None:
    with pytest.raises(FetchFailedError, match="HTTP 302"):
        fetcher.fetch(server.url("/no-location"))


def test_connection_refused_fails() -> None:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Fetcher(allow_private=True) as f, pytest.raises(FetchFailedError, match="connect"):
        f.fetch(f"http://127.0.0.1:{port}/")


def test_dns_failure_fails() -> None:
    def nothing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with Fetcher(resolver=nothing) as f, pytest.raises(FetchFailedError, match="not known"):
        f.fetch("http://no-such-host.test/")


# redirects ----------------------------------------------------------------------------


def test_follows_up_to_max_redirects(fetcher: Fetcher, server: TestServer) -> None:
    article = fetcher.fetch(server.url("/chain/4"))  # 5 redirects: /chain/4 ... /chain/0
    assert article.url == server.url("/article")
    assert article.title == "Taliban rejects Trump's demand"


def test_refuses_more_redirects(fetcher: Fetcher, server: TestServer) -> None:
    with pytest.raises(UrlRefusedError, match="more than 5 redirects"):
        fetcher.fetch(server.url("/chain/5"))
    assert server.state["hits"] == 6  # the sixth redirect is never followed


def test_checks_every_hop(fetcher: Fetcher, server: TestServer, other: TestServer) -> None:
    # the first host is allowed, the loopback address it redirects to is not
    with pytest.raises(UrlRefusedError, match="127.0.0.1 is a loopback address"):
        fetcher.fetch(server.url(f"/redirect-to?url={other.url('/article')}"))
    assert other.state["hits"] == 0


def test_follows_a_redirect_to_another_allowed_host(server: TestServer, other: TestServer) -> None:
    allowed = {("127.0.0.1", server.port), ("127.0.0.1", other.port)}
    with Fetcher(allow_private=allowed) as f:
        article = f.fetch(server.url(f"/redirect-to?url={other.url('/plain')}"))
    assert article.url == other.url("/plain")


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://2130706433/", "loopback"),
        ("ftp://127.0.0.1/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@127.0.0.1/", "credentials"),
    ],
)
def test_refuses_bad_redirect_targets(
    fetcher: Fetcher, server: TestServer, location: str, message: str
) -> None:
    with pytest.raises(UrlRefusedError, match=message):
        fetcher.fetch(server.url(f"/redirect-to?url={location}"))


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TestServer]:
    """The test server behind TLS, with a self-signed certificate for news.test only."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "1", "-subj", "/CN=news.test"]
        + ["-addext", "subjectAltName=DNS:news.test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server = TestServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server.state.update(sni=name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.state["cert"] = str(cert)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name", ["news.test", "other.test"])
def test_tls_keeps_the_name_while_connecting_to_the_checked_address(
    tls_server: TestServer, name: str
) -> None:
    """SNI and certificate verification use the URL's host name, not the pinned address."""
    port = tls_server.port
    with Fetcher(allow_private={(name, port)}, resolver=lambda host, p: ["127.0.0.1"]) as f:
        f._session.verify = tls_server.state["cert"]  # trust the test certificate
        if name == "news.test":
            assert f.fetch(f"https://{name}:{port}/host").text == f"{name}:{port}"
        else:
            with pytest.raises(FetchFailedError, match="not valid for 'other.test'"):
                f.fetch(f"https://{name}:{port}/host")
    assert tls_server.state["sni"] == name


def test_tls_certificates_are_verified(tls_server: TestServer) -> None:
    port = tls_server.port
    allowed = {("news.test", port)}
    with Fetcher(allow_private=allowed, resolver=lambda host, p: ["127.0.0.1"]) as f:
        with pytest.raises(FetchFailedError, match="certificate verify failed"):
            f.fetch(f"https://news.test:{port}/host")


# what is refused ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:{port}/article", "loopback"),  # the live test server itself
        ("http://localhost:{port}/article", "loopback"),  # resolved from /etc/hosts
        ("http://2130706433:{port}/", "loopback"),  # 127.0.0.1 as one integer
        ("http://0x7f000001:{port}/", "loopback"),  # ... in hex
        ("http://0x7f.1:{port}/", "loopback"),  # ... hex and short form
        ("http://017700000001:{port}/", "loopback"),  # ... in octal
        ("http://[::1]:{port}/", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback 127.0.0.1 inside"),  # IPv4-mapped
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://169.254.169.254/", "link-local"),  # cloud metadata
        ("http://0.0.0.0:{port}/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://100.64.0.1/", "non-global"),  # carrier-grade NAT
        ("http://224.0.0.1/", "multicast"),
        ("https://127.0.0.1:{port}/", "loopback"),  # https goes through the same check
        ("ftp://127.0.0.1/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://127.0.0.1:70/", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("//127.0.0.1/", "only http and https"),  # scheme-relative
        ("http:///article", "no host"),
        ("http://", "no host"),
        ("http://:80/", "no host"),
        ("http://user:pass@127.0.0.1:{port}/", "credentials"),
        ("http://127.0.0.1:99999/", "not a valid URL"),
        ("http://127.0.0.1/\r\nX-Injected: 1", "control characters"),
    ],
)
def test_default_fetcher_refuses(server: TestServer, url: str, message: str) -> None:
    with Fetcher() as f, pytest.raises(UrlRefusedError, match=message):
        f.fetch(url.format(port=server.port))
    assert server.state["hits"] == 0


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.1.2.3"],
        ["93.184.216.34", "127.0.0.1"],  # one bad address among good ones is enough
        ["2606:2800:220:1:248:1893:25c8:1946", "::1"],
        ["93.184.216.34", "fe80::1%eth0"],  # scoped link-local
    ],
)
def test_refuses_names_resolving_to_any_private_address(addresses: list[str]) -> None:
    with Fetcher(resolver=lambda host, port: addresses) as f:
        with pytest.raises(UrlRefusedError, match=r"public\.example \("):
            f.fetch("http://public.example/news")


def test_connects_to_the_checked_address(server: TestServer) -> None:
    """One lookup per connection, and the socket goes where that lookup said, so a DNS
    answer that changes between check and connect cannot be used (rebinding)."""
    lookups: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append((host, port))
        return ["127.0.0.1"]

    with Fetcher(allow_private={("news.test", server.port)}, resolver=resolver) as f:
        article = f.fetch(f"http://news.test:{server.port}/host")
    assert lookups == [("news.test", server.port)]
    assert article.text == f"news.test:{server.port}"  # the Host header keeps the name
    # no system lookup of news.test either: the no_dns fixture would have failed it


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("127.255.255.254", False),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),  # shared address space
        ("192.0.2.1", False),  # documentation
        ("198.18.0.1", False),  # benchmarking
        ("224.0.0.1", False),  # multicast, which ipaddress calls global
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", False),  # mapped addresses are not routed as IPv6 at all
        ("::127.0.0.1", False),  # deprecated IPv4-compatible form
        ("fe80::1", False),
        ("fec0::1", False),  # site-local
        ("fc00::1", False),  # unique local
        ("ff02::1", False),  # multicast
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
        ("2001:db8::1", False),  # documentation
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# the errors ---------------------------------------------------------------------------


def test_errors_are_quotes_db_errors() -> None:
    for error in (UrlRefusedError, FetchFailedError, FetchTimeoutError):
        assert issubclass(error, QuotesDbError)


def test_fetch_failed_error_pickles() -> None:
    error = pickle.loads(pickle.dumps(FetchFailedError("x answered HTTP 500", 500)))
    assert (str(error), error.status) == ("x answered HTTP 500", 500)

"""Services on loopback for the outbound-claim tests: each answers a path it was told to
redirect with that redirect, and anything else with the baggage (and the size of the body)
it was sent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIMEOUT = 5


class Service(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, family: socket.AddressFamily) -> None:
        self.address_family = family
        #: path -> (status, Location) for the paths this service redirects
        self.redirects: dict[str, tuple[int, str]] = {}
        super().__init__((host, 0), _RedirectOrEcho)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}"


class _RedirectOrEcho(BaseHTTPRequestHandler):
    server: Service

    def _answer(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(size) if size else b""
        redirect = self.server.redirects.get(self.path)
        if redirect is not None:
            self.send_response(redirect[0])
            self.send_header("Location", redirect[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        echoed = {"baggage": self.headers.get_all("baggage") or [], "body": len(sent)}
        body = json.dumps(echoed).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(
    host: str = "127.0.0.1", family: socket.AddressFamily = socket.AF_INET
) -> Iterator[Service]:
    """A service running in a thread until the generator is closed (a fixture's body)."""
    server = Service(host, family)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=TIMEOUT)
    server.server_close()

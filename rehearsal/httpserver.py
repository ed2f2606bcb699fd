"""The emulator's HTTP servers (the rules proxy, each instance's IMDS) on 127.0.0.1."""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer

# A client that ends its process (os._exit in the hooks) drops its kept-alive connections:
# the server's read of a next request then fails. That is a connection's normal end, not an
# error to print a traceback for.
CLIENT_GONE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, TimeoutError)


class LocalServer(ThreadingHTTPServer):
    """A threading HTTP server whose handler threads do not keep the process alive, and which
    is silent about clients that went away (anything else is printed, as socketserver does)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], CLIENT_GONE):
            return
        super().handle_error(request, client_address)

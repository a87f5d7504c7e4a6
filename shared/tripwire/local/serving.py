"""The local stand-ins' HTTP servers (Amazon Ads, market data, LINE, the SNS receivers, the
API gateway): each serves on a daemon thread and stops the same way."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


def serve(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve ``server`` on a daemon thread; it checks for shutdown every 50 ms."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return thread


def shut_down(server: ThreadingHTTPServer, thread: threading.Thread | None) -> None:
    """Stop serving, close the socket, and wait for the serving thread."""
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join()

"""``seedbed serve`` keeps an idle client connection open for longer than clients keep
theirs, so a client never sends a request on a connection the server is closing."""

import http.client
import time
from urllib.parse import urlsplit


def test_a_connection_idle_for_longer_than_uvicorns_default_still_answers(server):
    address = urlsplit(server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request("GET", "/is-alive/ping")
    assert connection.getresponse().read() is not None

    time.sleep(6)  # uvicorn's default keeps an idle connection 5 s
    connection.request("GET", "/is-alive/ping")
    response = connection.getresponse()

    assert response.status == 200
    connection.close()

"""The slow tests split from tests/unit/test_kennisbank.py (real servers or training)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import get

from ops.servers import free_port
from regelhulp.web.kennisbank import CONTENT_SECURITY_POLICY


@pytest.mark.slow
def test_nginx_of_the_production_profile_serves_the_page(kb):
    from ops.prod import ProdSettings, ProdStack, nginx_binary

    try:
        nginx_binary()
    except RuntimeError as error:
        pytest.skip(str(error))
    stack = ProdStack(Path("unused.tar.gz"), ProdSettings(port=free_port()), name="test-kennisbank")
    try:
        stack.start_nginx()
        for path in ("/kennisbank", "/kennisbank.html"):
            status, headers, body = get(stack.url + path)
            assert status == 200 and headers["Content-Type"].startswith("text/html"), path
            assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert all('id="%s"' % r.id in body for r in kb.rules)
        assert get(stack.url + "/kennisbank.js")[0] == 200 and get(stack.url + "/kennisbank.css")[0] == 200
    finally:
        stack.stop()

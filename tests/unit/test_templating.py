"""The Jinja2 templates of the generated files (regelhulp/templating.py): the nginx configuration of
the production profile and the widget's demo page."""

from __future__ import annotations

import pytest

from regelhulp.templating import render_config
from regelhulp.web.kennisbank import CONTENT_SECURITY_POLICY
from regelhulp.web.server import index_page

NGINX = "deploy/nginx.conf.template"


def nginx_values(**changes):  # type: ignore[no-untyped-def]
    values = {
        "PREFIX": "/srv/regelhulp/build/prod",
        "RATE": 5,
        "BURST": 10,
        "LISTEN": "127.0.0.1:8080",
        "RASA_SERVERS": ["127.0.0.1:5006", "127.0.0.1:5007"],
        "ACTION_SERVER": "127.0.0.1:5055",
        "API_LOCATION": False,
        "WEB_ROOT": "/srv/regelhulp/build/prod/web",
        "KENNISBANK_CSP": CONTENT_SECURITY_POLICY,
        "USER": "regelhulp",
    }
    values.update(changes)
    return values


def test_nginx_config_has_every_replica_and_the_api_only_when_asked():
    text = render_config(NGINX, **nginx_values())
    assert "        server 127.0.0.1:5006 max_fails=1 fail_timeout=10s;\n" in text
    assert "        server 127.0.0.1:5007 max_fails=1 fail_timeout=10s;\n" in text
    assert "rate=5r/s;" in text and "burst=10 nodelay;" in text and "user regelhulp;" in text
    assert 'add_header Content-Security-Policy "%s" always;' % CONTENT_SECURITY_POLICY in text
    assert "{{" not in text and "{%" not in text and "conversations|model" not in text
    assert "location ~ ^/(conversations|model|status|version|domain)(/|$)" in render_config(
        NGINX, **nginx_values(API_LOCATION=True)
    )
    assert text.count("{") == text.count("}")


@pytest.mark.parametrize(
    "name, value",
    [
        ("WEB_ROOT", "/srv/web;\n        autoindex on"),  # a new directive on a new line
        ("KENNISBANK_CSP", "default-src 'none'\" always; add_header X-Evil \"1"),  # out of the quotes
        ("USER", "nobody; } http { server { listen 81; "),  # a new block
    ],
)
def test_nginx_config_refuses_a_value_that_breaks_out(name, value):
    with pytest.raises(ValueError):
        render_config(NGINX, **nginx_values(**{name: value}))


def test_demo_page_escapes_the_rasa_url():
    page = index_page('http://127.0.0.1:5005"><script>alert(1)</script>').decode()
    assert 'data-server="http://127.0.0.1:5005&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert 'data-server="http://127.0.0.1:5005"' in index_page("http://127.0.0.1:5005").decode()

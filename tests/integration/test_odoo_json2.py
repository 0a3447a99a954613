"""Json2Gateway (Odoo 19+) against the fake Odoo answering as 19.0 over loopback: real httpx, real HTTP.

The connection check learns major 19 and stores it; runs then go through JSON-2 only (no /jsonrpc call).
"""

import pytest

from engagements.integration import clients, connections, runner
from engagements.integration.demo import ORDER_OPTIONS
from engagements.integration.gateway.base import AmbiguousWriteError, PermanentError, RetryableError
from engagements.integration.gateway.json2 import Json2Gateway
from engagements.integration.gateway.odoo import OdoorpcGateway
from engagements.integration.models import FlowSettings, Health, OdooConnection, SyncRun
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.integration.fixtures import sale_orders, wire

V19 = {
    "server_version": "19.0",
    "server_version_info": [19, 0, 0, "final", 0, ""],
    "server_serie": "19.0",
    "protocol_version": 1,
}
CANARY = "s3cr3t-canary-json2"


def odoo19(**knobs) -> FakeOdoo:
    return FakeOdoo(version_info=dict(V19), **knobs)


@pytest.fixture
def fake():
    return odoo19()


@pytest.fixture
def server(fake):
    with FakeOdooServer(fake) as running:
        yield running


def _gateway(server, **overrides) -> Json2Gateway:
    args = {"url": server.url, "database": "lab", "api_key": "admin", "timeout": 5}
    return Json2Gateway(**{**args, **overrides})


def test_it_knows_the_version_without_logging_in(server, fake):
    gateway = _gateway(server)
    assert gateway.version == "19.0" and gateway.major == 19 and gateway.calls == 1
    assert gateway.fields["storable_domain"] == [["is_storable", "=", True]]
    assert gateway.fields["line_taxes"] == "tax_ids"
    assert fake.calls == []  # GET /web/version only: nothing authenticated yet


def test_search_read_sends_explicit_fields_limit_order_and_context(server, fake):
    gateway = _gateway(server)
    skus = [["default_code", "in", ["CAF-1KG", "TAZ-350", "PRE-1L"]]]
    rows = gateway.search_read(
        "product.product", skus, ["qty_available"], limit=2, order="id desc", context={"location": 8}
    )
    assert rows == [{"id": 7, "qty_available": 5.0}, {"id": 5, "qty_available": 23.0}]
    assert fake.calls == [("json2", "product.product", "search_read")]


def test_creates_go_as_lists_and_reads_are_batched_by_a_thousand_ids(server, fake):
    gateway = _gateway(server)
    ids = gateway.create("res.partner", [{"name": f"Cliente {n}", "email": f"c{n}@x.cl"} for n in range(2100)])
    assert len(ids) == 2100 and fake.calls.count(("json2", "res.partner", "create")) == 11  # 200 per call
    before = gateway.calls
    rows = gateway.read("res.partner", ids, ["name"])
    assert len(rows) == 2100 and gateway.calls - before == 3 and set(rows[0]) == {"id", "name"}


def test_write_search_count_and_a_public_method(server):
    gateway = _gateway(server)
    assert gateway.write("res.partner", [2512], {"phone": "+56 2 2345 6789"}) is True
    assert gateway.search_count("res.partner", [["phone", "=", "+56 2 2345 6789"]]) == 1
    price = gateway.call("product.product", "get_contextual_price", [4], context={"pricelist": 3})
    assert price == 16.9
    assert gateway.check_key() == {"lang": "en_US", "tz": False, "uid": 2}


def test_a_wrong_api_key_is_a_permanent_auth_error_without_the_key_in_the_message(server):
    gateway = _gateway(server, api_key=CANARY)  # no login: the version needs no key
    with pytest.raises(PermanentError) as refused:
        gateway.search_count("res.partner", [])
    assert refused.value.code == "odoo_auth" and CANARY not in str(refused.value)
    assert refused.value.odoo_name == "werkzeug.exceptions.Unauthorized"


def test_an_unknown_database_is_permanent(server):
    with pytest.raises(PermanentError) as refused:
        _gateway(server, database="no_such_db").check_key()
    assert refused.value.code == "odoo_database"


def test_plain_http_is_refused_off_loopback():
    with pytest.raises(PermanentError) as refused:
        Json2Gateway(url="http://odoo.example.com", database="lab", api_key=CANARY)
    assert refused.value.code == "odoo_https_required"


def test_an_unreachable_server_is_retryable():
    with pytest.raises(RetryableError) as refused:
        Json2Gateway(url="http://127.0.0.1:9", database="lab", api_key="admin", timeout=2)
    assert refused.value.code == "odoo_unreachable"


REFUSALS = {  # the Odoo exception, and what provokes it
    "odoo.exceptions.ValidationError": lambda g: g.create("sale.order", [{"client_order_ref": "X", "order_line": []}]),
    "odoo.exceptions.AccessError": lambda g: g.call("sale.order", "_action_confirm", [1]),  # a private method
    "builtins.AttributeError": lambda g: g.call("sale.order", "no_such_method", [1]),
    "werkzeug.exceptions.NotFound": lambda g: g.search_count("x_shop.order", []),
    "odoo.exceptions.MissingError": lambda g: g.write("res.partner", [999999], {"name": "Nadie"}),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_refusals_are_permanent_and_named(server, name):
    with pytest.raises(PermanentError) as refused:
        REFUSALS[name](_gateway(server))
    assert refused.value.odoo_name == name and refused.value.code == "odoo_rejected"


@pytest.mark.parametrize(
    "knobs, method, error, code",
    [
        ({"fail_next": ["psycopg2.errors.SerializationFailure"]}, "write", RetryableError, "odoo_unavailable"),
        ({"latency": 1.5}, "search_count", RetryableError, "odoo_timeout"),  # a read: simply again
        ({"latency": 1.5}, "create", AmbiguousWriteError, "odoo_write_ambiguous"),
    ],
)
def test_failures_that_may_pass_later(server, fake, knobs, method, error, code):
    gateway = _gateway(server, timeout=0.5)
    for knob, value in knobs.items():
        setattr(fake, knob, value)
    calls = {
        "write": lambda: gateway.write("res.partner", [2512], {"phone": "+56 2 2345 6789"}),
        "search_count": lambda: gateway.search_count("product.product", []),
        "create": lambda: gateway.create("res.partner", [{"name": "Lenta"}]),
    }
    with pytest.raises(error) as failed:
        calls[method]()
    assert failed.value.code == code


def test_a_create_that_times_out_was_committed_and_is_found_by_its_marker(server, fake):
    gateway = _gateway(server, timeout=0.5)
    fake.commit_then_stall = 1.5
    with pytest.raises(AmbiguousWriteError):
        gateway.create("sale.order", [{"partner_id": 2512, "client_order_ref": "SHOP-7", "order_line": []}])
    fake.commit_then_stall = 0
    assert len(gateway.search_read("sale.order", [["client_order_ref", "=", "SHOP-7"]], ["name"])) == 1


# ------------------------------------------------------------ connection check and runs


@pytest.fixture
def connected19(connected):
    """`connected`, its fake Odoo answering as 19.0 (not yet checked: no major stored)."""
    engagement, odoo, shop = connected
    odoo.version_info = dict(V19)
    return engagement, odoo, shop


@pytest.mark.django_db
def test_the_connection_check_on_19_goes_through_json2_and_stores_the_major(connected19):
    engagement, odoo, _ = connected19
    connection = OdooConnection.objects.get(engagement=engagement)
    verdict = connections.odoo_connection_check(connection=connection)
    connection.refresh_from_db()
    assert verdict["version"] == "19.0" and all(verdict["rights"].values()) and "problem" not in verdict
    assert connection.health == Health.OK and connection.odoo_major == 19
    assert {service for service, _, _ in odoo.calls} == {"json2"}  # no deprecated JSON-RPC call
    assert isinstance(clients.odoo_gateway_for(engagement), Json2Gateway)


@pytest.mark.django_db
def test_the_connection_check_on_19_with_a_wrong_key(connected19, carla):
    engagement, _, _ = connected19
    url = OdooConnection.objects.get(engagement=engagement).url
    connection = connections.odoo_connection_save(
        actor=carla, engagement=engagement, url=url, database="lab", login="admin", api_key=CANARY
    )
    verdict = connections.odoo_connection_check(connection=connection)
    connection.refresh_from_db()
    assert verdict["problem"] == "odoo_auth" and connection.health == Health.FAILING
    assert CANARY not in str(connection.last_check) and CANARY not in verdict["message"]


@pytest.mark.django_db
def test_below_19_the_check_and_the_runs_stay_on_odoorpc(engagement, carla):
    with FakeOdooServer() as server:  # Odoo 17
        wire(engagement, carla, odoo_url=server.url, shop_url="https://shop.example.com")
        connection = OdooConnection.objects.get(engagement=engagement)
        assert connections.odoo_connection_check(connection=connection)["version"] == "17.0"
        assert isinstance(clients.odoo_gateway_for(engagement), OdoorpcGateway)
        assert {service for service, _, _ in server.odoo.calls} == {"common", "object"}


@pytest.mark.django_db
def test_the_order_import_runs_end_to_end_over_json2_in_at_most_four_calls_per_order(connected19):
    engagement, odoo, _ = connected19
    FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
    connections.odoo_connection_check(connection=OdooConnection.objects.get(engagement=engagement))
    odoo.calls.clear()
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.status == SyncRun.Status.SUCCEEDED, run.items.values_list("reason_code", "message")
    assert run.counts["listed"] == 2 and run.counts["created"] == 2
    guest = sale_orders(odoo, "WOO-2001")[0]
    assert guest["state"] == "sale" and abs(guest["amount_total"] - 41763) <= 1
    assert {service for service, _, _ in odoo.calls} == {"json2"}
    methods = [method for _, _, method in odoo.calls]
    assert methods.count("search_read") <= 4
    assert len(methods) - methods.count("search_read") <= 4 * 2  # per order: partner, order, totals, confirm
    assert run.api_usage["odoo_calls"] == len(methods) + 1  # + GET /web/version

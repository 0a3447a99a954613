"""OdoorpcGateway against the fake Odoo over loopback: real odoorpc, real HTTP."""

import pytest

from engagements.integration.gateway.base import (
    AmbiguousWriteError,
    PermanentError,
    RetryableError,
)
from engagements.integration.gateway.odoo import OdoorpcGateway
from tests.fakes.odoo import FakeOdoo, FakeOdooServer


@pytest.fixture
def server():
    with FakeOdooServer() as running:
        yield running


def _gateway(server, **overrides):
    args = {"url": server.url, "database": "lab", "login": "admin", "api_key": "admin", "timeout": 5}
    return OdoorpcGateway(**{**args, **overrides})


def test_it_logs_in_and_knows_the_version(server):
    gateway = _gateway(server)
    assert gateway.major == 17 and gateway.calls == 3
    assert gateway.fields["storable_domain"] == [["detailed_type", "=", "product"]]


def test_reads_use_explicit_fields_and_location_context(server):
    gateway = _gateway(server)
    rows = gateway.search_read(
        "product.product",
        [["default_code", "in", ["CAF-1KG", "TAZ-350"]]],
        ["default_code", "qty_available"],
        context={"location": 8},
    )
    assert [(r["default_code"], r["qty_available"]) for r in rows] == [("CAF-1KG", 40.0), ("TAZ-350", 23.0)]
    assert set(rows[0]) == {"id", "default_code", "qty_available"}


def test_reads_are_batched_by_a_thousand_ids(server):
    gateway = _gateway(server)
    ids = gateway.create("res.partner", [{"name": f"Cliente {n}", "email": f"c{n}@x.cl"} for n in range(2100)])
    before = gateway.calls
    rows = gateway.read("res.partner", ids, ["name"])
    assert len(rows) == 2100 and gateway.calls - before == 3


def test_a_wrong_api_key_is_a_permanent_auth_error_without_the_key_in_the_message(server):
    with pytest.raises(PermanentError) as refused:
        _gateway(server, api_key="s3cr3t-canary")
    assert refused.value.code == "odoo_auth" and "s3cr3t-canary" not in str(refused.value)


def test_an_unknown_database_is_permanent(server):
    with pytest.raises(PermanentError) as refused:
        _gateway(server, database="no_such_db")
    assert refused.value.code == "odoo_database"


def test_an_unreachable_server_is_retryable():
    with pytest.raises(RetryableError) as refused:
        OdoorpcGateway(url="http://127.0.0.1:9", database="lab", login="admin", api_key="admin", timeout=2)
    assert refused.value.code == "odoo_unreachable"


def test_a_validation_error_is_permanent(server):
    gateway = _gateway(server)
    with pytest.raises(PermanentError) as refused:
        gateway.create("sale.order", [{"client_order_ref": "SHOP-1", "order_line": []}])
    assert refused.value.odoo_name == "odoo.exceptions.ValidationError"


def test_a_create_that_times_out_is_ambiguous_and_was_committed():
    fake = FakeOdoo()
    with FakeOdooServer(fake) as server:
        gateway = _gateway(server, timeout=0.5)
        fake.commit_then_stall = 1.5
        with pytest.raises(AmbiguousWriteError):
            gateway.create("sale.order", [{"partner_id": 2512, "client_order_ref": "SHOP-7", "order_line": []}])
        fake.commit_then_stall = 0
        # The marker finds what the server committed after the client gave up.
        found = gateway.search_read("sale.order", [["client_order_ref", "=", "SHOP-7"]], ["name"])
        assert len(found) == 1


def test_a_read_that_times_out_is_only_retryable():
    fake = FakeOdoo()
    with FakeOdooServer(fake) as server:
        gateway = _gateway(server, timeout=0.5)
        fake.latency = 1.5
        with pytest.raises(RetryableError) as refused:
            gateway.search_count("product.product", [])
        assert refused.value.code == "odoo_timeout"


def test_a_private_method_is_refused_at_once_as_permanent(server):
    """Odoo refuses private methods over RPC; retrying cannot help."""
    gateway = _gateway(server)
    with pytest.raises(PermanentError) as refused:
        gateway.call("sale.order", "_action_confirm", [1])
    assert refused.value.odoo_name == "odoo.exceptions.AccessError"


def test_a_serialization_failure_is_retryable():
    """A concurrent update in Odoo's database: the same call can simply be made again."""
    fake = FakeOdoo()
    with FakeOdooServer(fake) as server:
        gateway = _gateway(server)
        fake.fail_next = ["psycopg2.errors.SerializationFailure"]
        with pytest.raises(RetryableError):
            gateway.write("res.partner", [2512], {"phone": "+56 2 2345 6789"})
        assert gateway.write("res.partner", [2512], {"phone": "+56 2 2345 6789"}) is True

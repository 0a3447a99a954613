"""Order import against the fake Odoo and the fake WooCommerce shop, over loopback HTTP."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from engagements.integration import runner
from engagements.integration.flows import runs
from engagements.integration.models import Binding, Health, ShopConnection, SyncCursor, SyncRun
from portal.errors import DomainError
from tests.integration.fixtures import WRITES
from tests.integration.fixtures import sale_orders as _orders

pytestmark = pytest.mark.django_db


def test_it_imports_confirms_and_matches_totals_in_at_most_four_calls_per_order(orders_flow):
    engagement, odoo, _ = orders_flow
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.status == SyncRun.Status.SUCCEEDED, run.items.values_list("reason_code", "message")
    assert run.counts["listed"] == 2 and run.counts["created"] == 2
    guest = _orders(odoo, "WOO-2001")[0]
    assert guest["state"] == "sale" and abs(guest["amount_total"] - 41763) <= 1
    assert len(guest["order_line"]) == 5  # 2 products, shipping, 2 fees
    methods = [method for service, _, method in odoo.calls if service == "object" and method != "context_get"]
    # Per run: at most 4 searches (orders by marker, variants by SKU, partners by e-mail, their addresses).
    assert methods.count("search_read") <= 4
    # Per order: partner create, sale order create, its totals, confirm.
    assert len(methods) - methods.count("search_read") <= 4 * 2
    assert Binding.objects.filter(engagement=engagement, kind="sale_order").count() == 2


def test_running_again_creates_nothing(orders_flow):
    engagement, odoo, _ = orders_flow
    runner.run_flow(engagement=engagement, flow="orders")
    second = runner.run_flow(engagement=engagement, flow="orders")
    # The overlap re-lists the latest order; it is up to date, so nothing is written.
    assert second.counts["listed"] >= 1 and second.counts["unchanged"] == second.counts["listed"]
    assert second.counts["created"] == 0 and len(_orders(odoo)) == 2


def test_a_dry_run_writes_nothing_anywhere(orders_flow):
    engagement, odoo, _ = orders_flow
    run = runner.run_flow(engagement=engagement, flow="orders", dry_run=True)
    assert run.counts["created"] == 2 and set(run.items.values_list("action", flat=True)) == {"would_create"}
    assert not any(method in WRITES for _, _, method in odoo.calls)
    assert not Binding.objects.exists() and not SyncCursor.objects.exists()


def test_an_order_odoo_already_has_is_adopted_not_duplicated(orders_flow):
    engagement, odoo, _ = orders_flow
    odoo.handle(
        "/jsonrpc",
        {
            "service": "object",
            "method": "execute_kw",
            "args": [
                "lab",
                2,
                "admin",
                "sale.order",
                "create",
                [{"partner_id": 2512, "client_order_ref": "WOO-2001"}],
                {},
            ],
        },
    )
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert len(_orders(odoo, "WOO-2001")) == 1
    # Adopted, and flagged: the order Odoo had carries no lines, so its total is not the shop's.
    assert run.items.get(external_id="2001").reason_code == "adopted,total_mismatch"


@override_settings(INTEGRATION_ODOO_TIMEOUT=0.5)
def test_a_batch_create_that_times_out_after_committing_is_adopted_at_once_by_its_markers(orders_flow):
    engagement, odoo, _ = orders_flow
    odoo.commit_then_stall, odoo.stall_models = 1.2, {"sale.order"}
    first = runner.run_flow(engagement=engagement, flow="orders")
    odoo.commit_then_stall = 0
    assert first.counts["created"] == 2 and first.counts["ambiguous"] == 0, first.counts
    assert [method for _, model, method in odoo.calls if model == "sale.order"].count("create") == 1
    second = runner.run_flow(engagement=engagement, flow="orders")
    assert second.counts["created"] == 0 and len(_orders(odoo, "WOO-2001")) == 1 and len(_orders(odoo)) == 2


@override_settings(INTEGRATION_ODOO_TIMEOUT=0.5)
def test_a_batch_create_that_times_out_unconfirmed_is_adopted_by_the_next_run_not_created_again(orders_flow):
    engagement, odoo, _ = orders_flow
    odoo.commit_then_stall, odoo.stall_models = 1.2, {"sale.order"}
    # The look-up by marker right after the time-out fails too: Odoo's answer is not known.
    odoo.fail_on[("sale.order", "search_read")] = [None, "psycopg2.errors.SerializationFailure"]
    first = runner.run_flow(engagement=engagement, flow="orders")
    odoo.commit_then_stall = 0
    assert first.counts["ambiguous"] == 2 and first.status == SyncRun.Status.PARTIAL
    # The cursor stayed before the uncertain orders, so the next run lists them again and adopts them.
    second = runner.run_flow(engagement=engagement, flow="orders")
    assert second.counts["created"] == 0 and second.counts["ambiguous"] == 0
    assert {i.reason_code for i in second.items.all()} == {"adopted"}
    assert len(_orders(odoo, "WOO-2001")) == 1 and len(_orders(odoo)) == 2


def test_revoked_shop_keys_fail_the_run_and_mark_the_connection_without_retries(orders_flow):
    engagement, _, shop = orders_flow
    shop.revoked = True
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.status == SyncRun.Status.FAILED and "shop_auth" in run.summary
    assert ShopConnection.objects.get(engagement=engagement).health == Health.FAILING
    assert len(shop.requests) == 2


def test_pending_is_postponed_cancelled_skipped_and_the_report_adds_up(orders_flow):
    engagement, _, shop = orders_flow
    shop.orders[2001]["status"] = "pending"
    extra = shop.add_orders(2, start_id=7001)
    shop.orders[extra[0]]["status"] = "cancelled"
    shop.orders[extra[1]]["line_items"][0]["sku"] = "NO-EXISTE"
    shop.orders[extra[1]]["line_items"][0]["variation_id"] = 999
    run = runner.run_flow(engagement=engagement, flow="orders")
    counts = run.counts
    assert (counts["postponed"], counts["skipped"], counts["review"], counts["created"]) == (1, 1, 1, 1)
    assert counts["listed"] == sum(v for k, v in counts.items() if k != "listed")
    review = run.items.get(external_id=str(extra[1]))
    assert "unknown_sku:NO-EXISTE" in review.reason_code


def test_one_run_per_flow_at_a_time(orders_flow):
    engagement, _, _ = orders_flow
    runs.run_start(engagement=engagement, flow="orders")
    with pytest.raises(DomainError):
        runner.run_flow(engagement=engagement, flow="orders")


def test_the_command_prints_the_report(orders_flow, capsys):
    engagement, _, _ = orders_flow
    call_command("sync_run", "--engagement", engagement.code, "--flow", "orders", "--dry-run")
    out = capsys.readouterr().out
    assert "(dry run)" in out and "listed=2" in out and "would_create" in out


def test_the_consultant_runs_from_the_page_and_reads_the_report(
    client, orders_flow, carla, alice, charlie, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    engagement, _, _ = orders_flow
    client.force_login(carla)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("integration:run_now", args=[engagement.code, "orders"]), {"dry_run": "1"})
        client.post(reverse("integration:run_now", args=[engagement.code, "orders"]))
    runs_ = list(SyncRun.objects.order_by("started_at"))
    assert [r.dry_run for r in runs_] == [True, False] and runs_[1].counts["created"] == 2
    page = client.get(reverse("integration:page", args=[engagement.code])).content.decode()
    assert str(runs_[1].public_id) in page
    detail = client.get(reverse("integration:run", args=[runs_[1].public_id])).content.decode()
    assert "S00008" in detail and "S00009" in detail  # the Odoo orders created, named in the report
    assert "/web#id=" in detail and "post=2001" in detail
    assert client.post(reverse("integration:run_now", args=[engagement.code, "nonsense"])).status_code == 404
    client.force_login(alice)
    card = client.get(reverse("engagements:detail", args=[engagement.code])).content.decode()
    assert "2 pedidos" in card or "2 orders" in card
    assert client.get(reverse("integration:run", args=[runs_[1].public_id])).status_code == 403
    client.force_login(charlie)
    assert client.get(reverse("engagements:detail", args=[engagement.code])).status_code == 404


def test_a_malformed_order_does_not_stop_the_others_nor_leave_the_run_running(orders_flow):
    engagement, _, shop = orders_flow
    shop.orders[2001]["line_items"][0]["quantity"] = 0  # would divide by zero
    run = runner.run_flow(engagement=engagement, flow="orders")
    assert run.status == SyncRun.Status.PARTIAL
    assert run.items.get(external_id="2001").reason_code == "unexpected_error"
    assert run.counts["created"] == 1


def test_odoo_over_plain_http_is_refused_outside_loopback():
    from engagements.integration.gateway.base import PermanentError
    from engagements.integration.gateway.odoo import OdoorpcGateway

    with pytest.raises(PermanentError) as refused:
        OdoorpcGateway(url="http://odoo.example.cl", database="x", login="y", api_key="z")
    assert refused.value.code == "odoo_https_required"


def test_people_read_what_went_wrong_in_words_not_codes(client, orders_flow, carla, alice):
    from django.urls import reverse

    engagement, _, shop = orders_flow
    shop.orders[2002]["line_items"][0].update(sku="POL-XL-ROJA", variation_id=999)
    run = runner.run_flow(engagement=engagement, flow="orders")
    client.force_login(alice)
    card = client.get(reverse("engagements:detail", args=[engagement.code])).content.decode()
    assert "No hay producto en Odoo con este SKU" in card and "unknown_sku" not in card
    client.force_login(carla)
    detail = client.get(reverse("integration:run", args=[run.public_id])).content.decode()
    assert "se usó el producto comodín. (POL-XL-ROJA)" in detail and "creado, en borrador" in detail
    assert "por revisar 1" in detail

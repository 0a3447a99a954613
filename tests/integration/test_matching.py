"""Product matching (bootstrap_bindings): Odoo variants ⇄ shop items by SKU then barcode, on the three
shops, over loopback HTTP. A proposal writes nothing; approving matches again and binds what is still
proposed the same way; nothing is ever guessed."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from engagements.integration import matching
from engagements.integration.matching import OdooProduct, match
from engagements.integration.models import Binding, SyncRun
from engagements.integration.shops.base import ShopVariant
from engagements.models import EngagementEvent
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.shopify import FakeShopify, FakeShopifyServer
from tests.integration.fixtures import WRITES, wire

# Odoo's variants that the shop fixtures also sell (CAF-1KG, POL-M-AZUL, POL-L-AZUL); the lab's other
# storable products (TAZ-350, FIL-100, PRE-1L and the four Polera logo variants) are not in any shop.
CAFE, POL_M, POL_L = 4, 15, 16
NOT_IN_SHOPS = {5, 6, 7, 8, 9, 10, 11}


def _odoo(pid: int, sku: str = "", barcode: str = "") -> OdooProduct:
    return OdooProduct(id=pid, sku=sku, barcode=barcode, template_id=pid, name=f"odoo {pid}")


def _shop(vid: str, sku: str = "", barcode: str = "", product: str = "1") -> ShopVariant:
    return ShopVariant(product, vid, sku, barcode, f"shop {vid}", Decimal("1000"))


def _items(run) -> dict[tuple, tuple]:
    """(odoo id, shop id) → (action, reason)."""
    return {(i.odoo_id, i.external_id): (i.action, i.reason_code) for i in run.items.all()}


def _pairs(run) -> set[tuple]:
    return {(i.odoo_id, i.external_id) for i in run.items.filter(action__in=["would_bind", "bound"])}


def _no_writes(odoo, shop_writes) -> None:
    assert not [m for s, _, m in odoo.calls if m in WRITES] and not shop_writes
    assert not Binding.objects.exists()


# ---------------------------------------------------------------- the rule (pure)


def test_a_sku_on_exactly_one_record_each_side_pairs_them_then_the_barcode_does():
    proposal = match(
        [_odoo(1, "A"), _odoo(2, "", "780"), _odoo(3, "C")],
        [_shop("10", "A"), _shop("20", "", "780"), _shop("30", "Z")],
    )
    assert [(m.odoo.id, m.shop.external_id, m.by) for m in proposal.matches] == [(1, "10", "sku"), (2, "20", "barcode")]
    assert {(p.reasons, p.odoo and p.odoo.id, p.shop and p.shop.external_id) for p in proposal.unmatched} == {
        (("unmatched_odoo",), 3, None),
        (("unmatched_shop",), None, "30"),
    }
    assert not proposal.problems


def test_a_duplicate_on_either_side_pairs_nothing_and_every_record_carrying_it_is_reported():
    """Never guessed, not even by the barcode the duplicates may also have."""
    proposal = match(
        [_odoo(1, "A", "780"), _odoo(2, "A"), _odoo(3, "B"), _odoo(4, "D", "999")],
        [_shop("10", "A", "780"), _shop("20", "B"), _shop("21", "B"), _shop("30", "", "999"), _shop("31", "", "999")],
    )
    assert not proposal.matches
    reported = {(p.odoo and p.odoo.id, p.shop and p.shop.external_id): p.reasons for p in proposal.problems}
    assert reported == {
        (1, None): ("duplicate_sku_odoo",),
        (2, None): ("duplicate_sku_odoo",),
        (None, "10"): ("duplicate_sku_odoo",),
        (3, None): ("duplicate_sku_shop",),
        (None, "20"): ("duplicate_sku_shop",),
        (None, "21"): ("duplicate_sku_shop",),
        (4, None): ("duplicate_barcode_shop",),
        (None, "30"): ("duplicate_barcode_shop",),
        (None, "31"): ("duplicate_barcode_shop",),
    }
    both = match([_odoo(1, "A"), _odoo(2, "A")], [_shop("10", "A"), _shop("11", "A")])
    assert {p.reasons for p in both.problems} == {("duplicate_sku_odoo", "duplicate_sku_shop")}


def test_a_pair_whose_other_key_disagrees_is_reported_not_proposed():
    proposal = match(
        [_odoo(1, "A", "780"), _odoo(2, "B", "781"), _odoo(3, "", "782")],
        [_shop("10", "A", "999"), _shop("20", "X", "781"), _shop("30", "", "782")],
    )
    assert [(m.odoo.id, m.shop.external_id) for m in proposal.matches] == [(3, "30")]
    assert {(p.odoo.id, p.shop.external_id, p.reasons) for p in proposal.problems} == {
        (1, "10", ("barcode_conflict",)),
        (2, "20", ("sku_conflict",)),
    }


def test_a_record_with_neither_sku_nor_barcode_is_reported_as_such():
    proposal = match([_odoo(1)], [_shop("10")])
    assert {p.reasons for p in proposal.unmatched} == {("missing_sku_odoo",), ("missing_sku_shop",)}


# ---------------------------------------------------------------- against the three shops


@pytest.fixture
def shopify(engagement, carla):
    odoo, shop = FakeOdoo(), FakeShopify()
    with FakeOdooServer(odoo) as odoo_server, FakeShopifyServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url, platform="shopify")
        yield engagement, odoo, shop


@pytest.fixture
def jumpseller(engagement, carla):
    odoo, shop = FakeOdoo(), FakeJumpseller()
    with FakeOdooServer(odoo) as odoo_server, FakeJumpsellerServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.api_url, platform="jumpseller")
        yield engagement, odoo, shop


@pytest.mark.django_db
def test_woocommerce_simple_products_and_variations_are_proposed_and_nothing_is_written(connected):
    engagement, odoo, shop = connected
    run = matching.bindings_propose(engagement=engagement)
    assert run.dry_run and run.flow == "matching" and run.status == SyncRun.Status.SUCCEEDED, run.summary
    assert _pairs(run) == {(CAFE, "501"), (POL_M, "511"), (POL_L, "512")}
    variation = run.items.get(external_id="511")
    assert variation.diff["parent"] == "510" and variation.diff["by"] == "sku" and variation.diff["key"] == "POL-M-AZUL"
    assert variation.diff["shop_name"] == "Polera algodón (M, Azul)"
    unmatched = {i.odoo_id for i in run.items.filter(reason_code="unmatched_odoo")}
    assert unmatched == NOT_IN_SHOPS  # services (shipping, fees) are not catalogue items: left out
    assert run.counts["created"] == 3 and run.counts["skipped"] == len(NOT_IN_SHOPS)
    assert run.counts["listed"] == run.items.count()
    _no_writes(odoo, shop.writes)
    assert ("GET", "/wp-json/wc/v3/products/510/variations") in shop.requests  # the variable product's


@pytest.mark.django_db
def test_shopify_variants_are_listed_with_cursor_pages_and_proposed(shopify):
    engagement, odoo, shop = shopify
    shop.add_variants(300, product="8200000000001")  # two pages of 250, none of them in Odoo
    run = matching.bindings_propose(engagement=engagement)
    assert run.status == SyncRun.Status.SUCCEEDED, run.summary
    assert _pairs(run) == {(POL_M, "44000000001"), (POL_L, "44000000002"), (CAFE, "44000000003")}
    assert run.items.get(external_id="44000000003").diff["shop_name"] == "Café de grano 1 kg"  # "Default Title"
    assert run.items.get(external_id="44000000001").diff["parent"] == "8100000000001"
    assert run.items.filter(reason_code="unmatched_shop").count() == 300
    listings = [r for r in shop.requests if r["root"] == "productVariants"]
    assert [bool(r["variables"]["after"]) for r in listings] == [False, True]
    assert not [r for r in shop.requests if r["root"] in ("productVariantsBulkUpdate", "inventorySetQuantities")]
    _no_writes(odoo, [])


@pytest.mark.django_db
def test_jumpseller_products_with_and_without_variants_are_proposed(jumpseller):
    engagement, odoo, shop = jumpseller
    shop.add_products(100)  # a full first page, so a second one is asked for
    run = matching.bindings_propose(engagement=engagement)
    assert run.status == SyncRun.Status.SUCCEEDED, run.summary
    assert _pairs(run) == {(POL_M, "88001"), (POL_L, "88002")}
    assert run.items.get(external_id="88002").diff["parent"] == "7001"
    simple = run.items.get(external_id="1001")  # "Classic T-Shirt", no variants: the product is the item
    assert (simple.reason_code, simple.message) == ("unmatched_shop", "TSH-001")
    assert run.items.get(odoo_id=CAFE).reason_code == "unmatched_odoo"
    pages = [path for method, path in shop.requests if path.startswith("/v1/products.json")]
    assert len(pages) == 2
    _no_writes(odoo, shop.writes)


@pytest.mark.django_db
def test_missing_and_duplicate_skus_on_either_side_are_reported_never_guessed(connected):
    """Against WooCommerce and Odoo: duplicates in Odoo (which allows them) and in the shop."""
    engagement, odoo, shop = connected
    odoo.m_create("product.product", {}, {"name": "Café duplicado", "default_code": "CAF-1KG", "type": "product"})
    shop.variations[512]["sku"] = "POL-M-AZUL"  # two shop items with one SKU
    shop.add_products(1, start_id=7000)
    shop.products[7000].update(sku="", global_unique_id="")  # nothing to match it on
    shop.add_products(1, start_id=7001)
    shop.products[7001].update(sku="", global_unique_id="7801000000020")  # TAZ-350's barcode
    run = matching.bindings_propose(engagement=engagement)
    items = _items(run)
    assert items[(CAFE, "")] == ("review", "duplicate_sku_odoo")
    assert items[(17, "")] == ("review", "duplicate_sku_odoo")
    assert items[(None, "501")] == ("review", "duplicate_sku_odoo")
    assert items[(POL_M, "")] == items[(None, "511")] == items[(None, "512")] == ("review", "duplicate_sku_shop")
    assert items[(POL_L, "")] == ("skipped", "unmatched_odoo")
    assert items[(None, "7000")] == ("skipped", "missing_sku_shop")
    assert items[(5, "7001")] == ("would_bind", "matched_by_barcode")
    assert _pairs(run) == {(5, "7001")} and run.status == SyncRun.Status.PARTIAL  # partial: there is to review
    _no_writes(odoo, shop.writes)


# ---------------------------------------------------------------- approval


@pytest.mark.django_db
def test_approving_binds_only_the_pairs_still_proposed_the_same_way(connected, carla):
    engagement, _odoo, shop = connected
    proposal = matching.bindings_propose(engagement=engagement)
    assert _pairs(proposal) == {(CAFE, "501"), (POL_M, "511"), (POL_L, "512")}
    # Meanwhile: a SKU changes in the shop, a new pair appears, and someone binds CAF-1KG elsewhere.
    shop.variations[512]["sku"] = "POL-L-ROJO"
    shop.add_products(1, start_id=7000)
    shop.products[7000]["sku"] = "TAZ-350"
    Binding.objects.create(
        engagement=engagement, kind="product_variant", odoo_model="product.product", odoo_id=CAFE, external_id="999"
    )
    run = matching.bindings_apply(actor=carla, engagement=engagement, proposal=proposal)
    assert not run.dry_run and run.flow == "matching"
    items = _items(run)
    assert items[(POL_M, "511")] == ("bound", "")
    assert items[(POL_L, "512")] == ("skipped", "proposal_changed")
    assert items[(5, "7000")] == ("skipped", "not_in_proposal")
    assert items[(CAFE, "501")] == ("review", "binding_conflict")
    bound = Binding.objects.get(engagement=engagement, odoo_id=POL_M)
    assert (bound.external_id, bound.external_parent_id, bound.sku, bound.kind) == (
        "511",
        "510",
        "POL-M-AZUL",
        "product_variant",
    )
    assert Binding.objects.get(engagement=engagement, odoo_id=CAFE).external_id == "999"  # never overwritten
    assert Binding.objects.filter(engagement=engagement).count() == 2
    event = EngagementEvent.objects.get(engagement=engagement, kind="integration.bindings_approved")
    assert event.actor == carla and not event.client_visible and event.data["bound"] == 1
    again = matching.bindings_apply(actor=carla, engagement=engagement, proposal=proposal)  # safe to run twice
    assert _items(again)[(POL_M, "511")] == ("unchanged", "already_bound")
    assert Binding.objects.filter(engagement=engagement).count() == 2


@pytest.mark.django_db
def test_a_pair_now_found_by_other_evidence_is_not_bound_on_the_old_approval(connected):
    engagement, _odoo, shop = connected
    proposal = matching.bindings_propose(engagement=engagement)
    shop.products[501].update(sku="", global_unique_id="7801000000013")  # CAF-1KG: now found by its barcode
    run = matching.bindings_apply(actor=None, engagement=engagement, proposal=proposal)
    assert _items(run)[(CAFE, "501")] == ("skipped", "proposal_changed")
    assert set(Binding.objects.values_list("external_id", flat=True)) == {"511", "512"}
    fresh = matching.bindings_propose(engagement=engagement)
    assert _items(fresh)[(CAFE, "501")] == ("would_bind", "matched_by_barcode")


@pytest.mark.django_db
def test_an_approved_proposal_binds_a_simple_product_without_parent(connected):
    engagement, _, _ = connected
    proposal = matching.bindings_propose(engagement=engagement)
    matching.bindings_apply(actor=None, engagement=engagement, proposal=proposal)
    simple = Binding.objects.get(engagement=engagement, external_id="501")
    assert (simple.odoo_id, simple.external_parent_id, simple.odoo_model) == (CAFE, "", "product.product")
    assert Binding.objects.filter(engagement=engagement).count() == 3
    fresh = matching.bindings_propose(engagement=engagement)  # what is bound is no longer proposed
    assert not _pairs(fresh) and fresh.counts["unchanged"] == 3


@pytest.mark.django_db
def test_a_failed_proposal_cannot_be_approved_and_says_why(connected):
    engagement, odoo, _ = connected
    odoo.password = "changed"
    run = matching.bindings_propose(engagement=engagement)
    assert run.status == SyncRun.Status.FAILED and run.summary.startswith("odoo_auth")
    from portal.errors import DomainError

    with pytest.raises(DomainError):
        matching.bindings_apply(actor=None, engagement=engagement, proposal=run)
    assert not Binding.objects.exists()


@pytest.mark.django_db
def test_the_command_prints_the_proposal_and_applies_it_on_request(connected, capsys):
    engagement, _, _ = connected
    with pytest.raises(CommandError, match="without --apply first"):
        call_command("bootstrap_bindings", "--engagement", engagement.code, "--apply")
    call_command("bootstrap_bindings", "--engagement", engagement.code)
    out = capsys.readouterr().out
    assert "proposal (dry run: nothing bound)" in out and "created=3" in out
    assert "would_bind" in out and "shop=511" in out and "unmatched_odoo" in out and "--apply" in out
    assert not Binding.objects.exists()
    call_command("bootstrap_bindings", "--engagement", engagement.code, "--apply")
    out = capsys.readouterr().out
    assert "approval" in out and "bound" in out and Binding.objects.count() == 3
    with pytest.raises(CommandError, match="No engagement"):
        call_command("bootstrap_bindings", "--engagement", "E-NOPE")


# ---------------------------------------------------------------- the page


@pytest.mark.django_db
def test_the_consultant_proposes_reviews_and_approves_on_the_page(
    client, connected, carla, django_capture_on_commit_callbacks
):
    engagement, _, _ = connected
    client.force_login(carla)
    page = reverse("integration:bindings", args=[engagement.code])
    empty = client.get(page)
    assert (
        empty.status_code == 200
        and empty.context["proposal"] is None
        and 'name="proposal"' not in empty.content.decode()
    )
    assert page in client.get(reverse("integration:page", args=[engagement.code])).content.decode()  # linked
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("integration:bindings_propose", args=[engagement.code])).status_code == 302
    proposal = SyncRun.objects.get(engagement=engagement, flow="matching")
    body = client.get(page).content.decode()
    assert str(proposal.public_id) in body and "POL-M-AZUL" in body and "Polera algodón (M, Azul)" in body
    assert not Binding.objects.exists()
    approve = reverse("integration:bindings_approve", args=[engagement.code])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(approve, {"proposal": str(proposal.public_id)}).status_code == 302
    assert Binding.objects.filter(engagement=engagement).count() == 3
    assert 'name="proposal"' not in client.get(page).content.decode()  # approved: no second approval offered
    assert client.get(approve).status_code == 405  # POST only


@pytest.mark.django_db
def test_the_approve_button_needs_the_csrf_token(connected, carla):
    engagement, _, _ = connected
    proposal = matching.bindings_propose(engagement=engagement)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(carla)
    url = reverse("integration:bindings_approve", args=[engagement.code])
    assert strict.post(url, {"proposal": str(proposal.public_id)}).status_code == 403
    assert not Binding.objects.exists()


@pytest.mark.django_db
def test_the_matching_page_is_for_the_engagements_consultant_only(
    client, connected, carla, alice, make_engagement, otra
):
    from portal.models import Role
    from tests.conftest import make_user

    engagement, _, _ = connected
    proposal = matching.bindings_propose(engagement=engagement)
    urls = [
        ("get", reverse("integration:bindings", args=[engagement.code]), {}),
        ("post", reverse("integration:bindings_propose", args=[engagement.code]), {}),
        ("post", reverse("integration:bindings_approve", args=[engagement.code]), {"proposal": proposal.public_id}),
    ]
    client.force_login(alice)  # a client of the engagement's own company
    for method, url, data in urls:
        assert getattr(client, method)(url, data).status_code == 403
    other_consultant = make_user("otro@consultora.test", Role.CONSULTANT)
    elsewhere = make_engagement(otra, consultant=other_consultant)  # another company's engagement
    client.force_login(carla)
    assert client.get(reverse("integration:bindings", args=[elsewhere.code])).status_code == 404
    assert client.post(reverse("integration:bindings_propose", args=[elsewhere.code])).status_code == 404
    foreign = reverse("integration:bindings_approve", args=[elsewhere.code])
    assert client.post(foreign, {"proposal": proposal.public_id}).status_code == 404
    client.force_login(other_consultant)  # the proposal of carla's engagement is not approvable from elsewhere
    assert client.post(urls[2][1], {"proposal": proposal.public_id}).status_code == 404
    assert not Binding.objects.exists()

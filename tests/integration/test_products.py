"""Product export against the fake Odoo and the fake shops over loopback HTTP.

The fake Odoo has products, not templates: `_templates` groups its products into `product.template`
records (and attribute values for the two Poleras), as Odoo 17 or 18 would answer them.
"""

from functools import partial

import pytest

from engagements.integration import clients, runner
from engagements.integration.models import Binding, FlowSettings, SyncCursor, SyncRun
from tests.fakes.odoo import VERSION_INFO, FakeOdoo, FakeOdooServer
from tests.fakes.shopify import FakeShopify, FakeShopifyServer
from tests.integration.fixtures import wire

pytestmark = pytest.mark.django_db
CAFE, TAZA, FILTROS, PRENSA, POLERA_LOGO, POLERA = 4, 5, 6, 7, 8, 15  # template ids
POL_M, POL_L, POL_XL = 15, 16, 17  # Polera algodón's variants (POL_XL added by a test)
VALUES = {1: ("Talla", "M"), 2: ("Talla", "L"), 3: ("Color", "Azul"), 4: ("Talla", "S")}
VALUES |= {5: ("Color", "Negro"), 6: ("Color", "Blanco"), 7: ("Talla", "XL")}
OPTIONS = {15: [1, 3], 16: [2, 3], 8: [4, 5], 9: [4, 6], 10: [1, 5], 11: [1, 6], 17: [7, 3]}
PUBLISHED = 6  # CAF-1KG, TAZ-350, FIL-100, PRE-1L, Polera logo (4 variants), Polera algodón (2)
LATER = "2026-11-24 10:00:00"


def _templates(odoo: FakeOdoo, *, major: int = 17) -> None:
    """product.template from the fake's products (16/17: `detailed_type`; 18: `type` and `is_storable`)."""
    odoo.data["product.template.attribute.value"] = {
        vid: {"id": vid, "name": value, "attribute_id": [1 if attribute == "Talla" else 2, attribute]}
        for vid, (attribute, value) in VALUES.items()
    }
    templates: dict[int, dict] = {}
    for product in odoo.data["product.product"].values():
        product["product_template_attribute_value_ids"] = OPTIONS.get(product["id"], [])
        tid = product["product_tmpl_id"][0]
        kind = {"type": product["type"], "detailed_type": product["detailed_type"]}
        if major >= 18:
            storable = product["type"] == "product"
            kind = {"type": "consu" if storable else product["type"], "is_storable": storable}
        template = templates.setdefault(
            tid,
            {"id": tid, "name": product["name"], "active": True, "product_variant_ids": [], "company_id": False}
            | kind
            | {"write_date": product["write_date"]},
        )
        template["product_variant_ids"].append(product["id"])
    odoo.data["product.template"] = templates


def _add_xl(odoo: FakeOdoo) -> None:
    """A variant added to Polera algodón in Odoo."""
    xl = {**odoo.data["product.product"][POL_M], "id": POL_XL, "default_code": "POL-XL-AZUL", "write_date": LATER}
    xl.update(barcode="7801000000217", product_template_attribute_value_ids=OPTIONS[POL_XL])
    odoo.data["product.product"][POL_XL] = xl
    odoo.data["product.template"][POLERA]["product_variant_ids"].append(POL_XL)
    odoo.data["product.template"][POLERA]["write_date"] = LATER


def _archive(odoo: FakeOdoo, *, template: int | None = None, variant: int | None = None, when: str = LATER) -> None:
    if template is not None:  # Odoo archives the variants with their template
        odoo.data["product.template"][template].update(active=False, write_date=when)
        for pid in odoo.data["product.template"][template]["product_variant_ids"]:
            odoo.data["product.product"][pid].update(active=False, write_date=when)
    if variant is not None:
        odoo.data["product.product"][variant].update(active=False, write_date=when)


def _products(engagement, **kw) -> SyncRun:
    return runner.run_flow(engagement=engagement, flow="products", **kw)


def _done(run: SyncRun) -> int:
    return sum(run.counts[k] for k in ("created", "updated", "unchanged", "skipped", "failed", "review"))


@pytest.fixture
def woo(connected):
    engagement, odoo, shop = connected
    _templates(odoo)
    return engagement, odoo, shop


@pytest.fixture
def shopify(engagement, carla):
    odoo, shop = FakeOdoo(), FakeShopify()
    _templates(odoo)
    with FakeOdooServer(odoo) as odoo_server, FakeShopifyServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url, platform="shopify")
        yield engagement, odoo, shop


def _woo_by_sku(shop) -> dict[str, dict]:
    return {r["sku"]: r for r in (*shop.products.values(), *shop.variations.values()) if r.get("sku")}


def _no_woo_delete(shop) -> None:
    assert not [r for r in shop.requests if r[0] == "DELETE"]
    assert not [body for _path, body in shop.writes if body.get("delete")]


def _shopify_by_sku(shop) -> dict[str, dict]:
    return {v["sku"]: v for v in shop.variants.values()}


def _shopify_roots(shop) -> list[str]:
    return [r["root"] for r in shop.requests]


# ---------------------------------------------------------------- WooCommerce


def test_woo_first_run_creates_simple_and_variable_products_and_adopts_what_the_shop_has(woo):
    """The shop's CAF-1KG and Polera algodón (same SKUs) are adopted and updated, not duplicated;
    the others are created, Polera logo as a variable product with its four variations."""
    engagement, _odoo, shop = woo
    run = _products(engagement)
    assert run.status == SyncRun.Status.SUCCEEDED, (run.summary, list(run.items.values("reason_code", "message")))
    assert run.counts["listed"] == PUBLISHED and run.counts["created"] == 4 and run.counts["updated"] == 2
    skus = _woo_by_sku(shop)
    assert [r["id"] for r in shop.products.values() if r["sku"] == "CAF-1KG"] == [501]
    assert skus["CAF-1KG"]["name"] == "Café en grano 1 kg" and skus["CAF-1KG"]["regular_price"] == "19"
    assert skus["TAZ-350"]["type"] == "simple" and skus["TAZ-350"]["status"] == "publish"
    logo = next(p for p in shop.products.values() if p["name"] == "Polera logo")
    assert logo["type"] == "variable"
    assert {a["name"]: a["options"] for a in logo["attributes"]} == {"Talla": ["S", "M"], "Color": ["Negro", "Blanco"]}
    assert {v["sku"] for v in shop.variations.values() if v["parent_id"] == logo["id"]} == {
        "POL-S-NEG",
        "POL-S-BLA",
        "POL-M-NEG",
        "POL-M-BLA",
    }
    assert skus["POL-S-BLA"]["attributes"] == [{"name": "Talla", "option": "S"}, {"name": "Color", "option": "Blanco"}]
    assert Binding.objects.get(kind="product_variant", odoo_id=POL_M).external_id == "511"
    assert Binding.objects.get(kind="product_variant", odoo_id=POL_M).external_parent_id == "510"
    assert Binding.objects.get(kind="product_template", odoo_id=POLERA).external_id == "510"
    cafe = Binding.objects.get(kind="product_variant", odoo_id=CAFE)
    assert (cafe.external_id, cafe.external_parent_id, cafe.last_pushed_value) == ("501", "", {"price": "19"})
    assert Binding.objects.filter(kind="product_variant").count() == 10
    _no_woo_delete(shop)


def test_woo_a_second_run_without_changes_makes_no_call(woo):
    """The fingerprint of what was sent is kept on the template's binding: unchanged, nothing sent."""
    engagement, odoo, shop = woo
    _products(engagement)
    writes = len(shop.writes)
    again = _products(engagement, full=True)
    assert again.counts["unchanged"] == PUBLISHED and again.counts["created"] + again.counts["updated"] == 0
    assert len(shop.writes) == writes and again.api_usage["shop_calls"] == 0
    cursor_run = _products(engagement)  # by the cursor: nothing changed since
    assert cursor_run.counts["listed"] == 0 and cursor_run.api_usage["shop_calls"] == 0
    odoo.data["product.template"][TAZA].update(name="Taza cerámica 350 ml azul", write_date=LATER)
    third = _products(engagement)
    assert third.counts["listed"] == 1 and third.counts["updated"] == 1
    taza = Binding.objects.get(kind="product_variant", odoo_id=TAZA).external_id
    assert shop.writes[-1] == (
        "products/batch",
        {
            "update": [
                {"name": "Taza cerámica 350 ml azul", "status": "publish", "id": int(taza)}
                | {"sku": "TAZ-350", "regular_price": "9"}
            ]
        },
    )


def test_woo_a_variant_added_in_odoo_is_created_and_an_archived_one_hidden(woo):
    """The new variant becomes a variation of the bound product; an archived one gets `private`."""
    engagement, odoo, shop = woo
    _products(engagement)
    _add_xl(odoo)
    run = _products(engagement)
    assert run.counts["listed"] == 1 and run.counts["updated"] == 1, list(run.items.values("reason_code", "message"))
    xl = _woo_by_sku(shop)["POL-XL-AZUL"]
    assert xl["parent_id"] == 510 and xl["status"] == "publish"
    assert xl["attributes"] == [{"name": "Talla", "option": "XL"}, {"name": "Color", "option": "Azul"}]
    assert {a["name"]: a["options"] for a in shop.products[510]["attributes"]}["Talla"] == ["M", "L", "XL"]
    binding = Binding.objects.get(kind="product_variant", odoo_id=POL_XL)
    assert (binding.external_id, binding.external_parent_id) == (str(xl["id"]), "510")
    _archive(odoo, variant=POL_L, when="2026-11-25 10:00:00")
    hidden = _products(engagement)
    assert hidden.counts["updated"] == 1
    assert shop.variations[512]["status"] == "private" and shop.variations[511]["status"] == "publish"
    assert shop.products[510]["status"] == "publish"
    _no_woo_delete(shop)


def test_woo_an_archived_template_is_hidden_never_deleted(woo):
    """The product goes to draft; no DELETE and no batch `delete` reaches the shop."""
    engagement, odoo, shop = woo
    _products(engagement)
    _archive(odoo, template=CAFE)
    run = _products(engagement)
    assert run.counts["updated"] == 1 and run.items.get(odoo_id=CAFE).action == "hide"
    assert shop.products[501]["status"] == "draft" and 501 in shop.products
    assert Binding.objects.get(kind="product_template", odoo_id=CAFE).last_pushed_value["product"] == "hidden"
    writes = len(shop.writes)
    again = _products(engagement, full=True)
    assert again.counts["unchanged"] == PUBLISHED and len(shop.writes) == writes
    _no_woo_delete(shop)


def test_an_archived_product_never_published_is_skipped(woo):
    engagement, odoo, shop = woo
    _archive(odoo, template=TAZA)
    run = _products(engagement)
    assert run.items.get(odoo_id=TAZA).reason_code == "product_archived_unpublished"
    assert "TAZ-350" not in _woo_by_sku(shop) and run.counts["created"] == 3


def test_services_are_never_published(woo):
    """Odoo 17: a `detailed_type` service is left out."""
    engagement, _odoo, shop = woo
    run = _products(engagement)
    assert run.counts["listed"] == PUBLISHED
    assert not {"ENVIO", "RECARGO", "REVISAR"} & set(_woo_by_sku(shop))


def test_odoo_18_selects_by_type_and_leaves_services_and_combos_out(engagement, carla):
    """The fake Odoo says it is 18.0 and its templates have `type` and `is_storable`, no
    `detailed_type` (a domain on it would be refused as an invalid field)."""
    from tests.fakes.woocommerce import FakeShop, FakeShopServer

    version = {**VERSION_INFO, "server_version": "18.0", "server_serie": "18.0"}
    odoo, shop = FakeOdoo(version_info={**version, "server_version_info": [18, 0, 0, "final", 0, ""]}), FakeShop()
    _templates(odoo, major=18)
    combo = {**odoo.data["product.template"][TAZA], "id": 30, "name": "Combo desayuno", "type": "combo"}
    odoo.data["product.template"][30] = combo | {"product_variant_ids": [], "is_storable": False}
    assert not any("detailed_type" in t for t in odoo.data["product.template"].values())
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url)
        run = _products(engagement)
    assert run.status == SyncRun.Status.SUCCEEDED, run.summary
    assert run.counts["listed"] == PUBLISHED
    assert not {"ENVIO", "RECARGO", "REVISAR"} & set(_woo_by_sku(shop))
    assert not [p for p in shop.products.values() if p["name"] == "Combo desayuno"]


def test_only_the_configured_companys_and_shared_products_are_published(woo):
    """With `company_id`, another company's product stays out; shared ones (no company) go."""
    engagement, odoo, shop = woo
    odoo.data["product.template"][TAZA]["company_id"] = [2, "Otra empresa"]
    odoo.data["product.template"][FILTROS]["company_id"] = [1, "Cafés Andes"]
    FlowSettings.objects.create(engagement=engagement, flow="products", options={"company_id": 1})
    run = _products(engagement)
    assert run.counts["listed"] == PUBLISHED - 1
    skus = _woo_by_sku(shop)
    assert "TAZ-350" not in skus and "FIL-100" in skus and "PRE-1L" in skus


def test_a_dry_run_plans_without_any_write(woo):
    engagement, odoo, shop = woo
    run = _products(engagement, dry_run=True)
    assert run.counts["created"] == 4 and run.counts["updated"] == 2
    assert {i.action for i in run.items.all()} == {"would_create", "would_update"}
    assert shop.writes == [] and not Binding.objects.exists() and not SyncCursor.objects.exists()
    _products(engagement)
    _archive(odoo, template=CAFE)
    planned = _products(engagement, dry_run=True)
    assert planned.items.get(odoo_id=CAFE).action == "would_hide" and shop.products[501]["status"] == "publish"


def test_one_refused_product_does_not_stop_the_others_and_comes_back(woo):
    """The shop refuses FIL-100: the others are published, the counts add up, the cursor stays before it."""
    engagement, _odoo, shop = woo
    shop.refuse_skus = {"FIL-100"}
    run = _products(engagement)
    assert run.status == SyncRun.Status.PARTIAL
    assert (run.counts["created"], run.counts["updated"], run.counts["failed"]) == (3, 2, 1)
    assert _done(run) == run.counts["listed"] == PUBLISHED
    assert run.items.get(odoo_id=FILTROS).reason_code == "product_invalid_sku"
    assert "FIL-100" not in _woo_by_sku(shop) and "PRE-1L" in _woo_by_sku(shop)
    shop.refuse_skus = set()
    again = _products(engagement)  # by the cursor
    assert again.counts["created"] == 1 and "FIL-100" in _woo_by_sku(shop)


def test_a_missing_sku_is_reported_not_guessed(woo):
    """A variant without an internal reference stops its template only."""
    engagement, odoo, _shop = woo
    odoo.data["product.product"][PRENSA]["default_code"] = False
    run = _products(engagement)
    assert run.items.get(odoo_id=PRENSA).reason_code == "product_sku_missing" and run.counts["created"] == 3


def test_woo_a_create_that_timed_out_but_succeeded_is_found_by_sku(woo, monkeypatch):
    """The shop made the products and answered too late; the adapter looks them up by SKU instead of
    sending the create again, and takes them as created; the next run sends nothing for them."""
    engagement, odoo, shop = woo
    for tid in (POLERA_LOGO, POLERA, CAFE):  # simple products created from scratch
        del odoo.data["product.template"][tid]
    monkeypatch.setattr(clients, "WooCommerceClient", partial(clients.WooCommerceClient, timeout=0.3))
    shop.stall_writes, shop.stall_delay = 1, 1.0
    first = _products(engagement)
    assert first.counts["created"] == 3 and not first.counts.get("failed"), list(first.items.values("reason_code"))
    second = _products(engagement)
    assert second.counts["created"] == 0 and not second.counts.get("failed"), list(second.items.values("reason_code"))
    for sku in ("TAZ-350", "FIL-100", "PRE-1L"):
        assert len([p for p in shop.products.values() if p["sku"] == sku]) == 1
    assert [body.get("create") for _path, body in shop.writes if body.get("create")] == [
        shop.writes[0][1]["create"]
    ]  # the only create sent is the first one


def test_woo_a_variable_product_whose_create_got_a_502_is_made_once(woo):
    """The host's proxy answers 502 after the shop made Polera logo's parent (a variable product has no SKU
    of its own): the run finds it by its marker and puts its variations under it; no second parent."""
    engagement, odoo, shop = woo
    shop.lost_answers = 1
    for tid in (CAFE, TAZA, FILTROS, PRENSA, POLERA):  # only Polera logo is new to the shop
        del odoo.data["product.template"][tid]
    run = _products(engagement)
    assert run.counts["created"] == 1 and not run.counts.get("failed"), list(run.items.values("reason_code"))
    parents = [p for p in shop.products.values() if p["name"] == "Polera logo"]
    assert len(parents) == 1 and len([v for v in shop.variations.values() if v["parent_id"] == parents[0]["id"]]) == 4
    assert _products(engagement).counts["created"] == 0  # and the next run sends nothing new


# ---------------------------------------------------------------- Shopify


def test_shopify_products_are_set_with_options_and_variants_and_nothing_is_deleted(shopify):
    """One productSet per product; the shop's CAF-1KG and Polera algodón adopted (their variant ids
    kept), the rest created; a second run sends nothing."""
    engagement, _odoo, shop = shopify
    run = _products(engagement)
    assert run.status == SyncRun.Status.SUCCEEDED, list(run.items.values("reason_code", "message"))
    assert (run.counts["created"], run.counts["updated"]) == (4, 2)
    skus = _shopify_by_sku(shop)
    assert skus["CAF-1KG"]["id"] == "gid://shopify/ProductVariant/44000000003" and skus["CAF-1KG"]["price"] == "19.00"
    assert skus["POL-M-AZUL"]["id"] == "gid://shopify/ProductVariant/44000000001"
    assert skus["POL-S-BLA"]["title"] == "S / Blanco" and skus["TAZ-350"]["title"] == "Default Title"
    logo = shop.products[skus["POL-S-BLA"]["product"]]
    assert logo["status"] == "ACTIVE" and [o["name"] for o in logo["options"]] == ["Talla", "Color"]
    assert _shopify_roots(shop).count("productSet") == PUBLISHED and shop.deleted_variants == []
    variant = Binding.objects.get(kind="product_variant", odoo_id=TAZA)
    assert variant.external_parent_id == skus["TAZ-350"]["product"].rsplit("/", 1)[1]
    requests = len(shop.requests)
    again = _products(engagement, full=True)
    assert again.counts["unchanged"] == PUBLISHED and len(shop.requests) == requests


def test_shopify_a_variant_added_is_created_an_archived_one_kept_and_reported(shopify):
    """The new variant is created in the product; the archived one stays listed (productSet would
    delete it otherwise), with `inventoryPolicy: DENY`, and the run says Shopify could not hide it."""
    engagement, odoo, shop = shopify
    _products(engagement)
    _add_xl(odoo)
    _products(engagement)
    xl = _shopify_by_sku(shop)["POL-XL-AZUL"]
    assert xl["product"] == "gid://shopify/Product/8100000000001" and xl["title"] == "XL / Azul"
    _archive(odoo, variant=POL_L, when="2026-11-25 10:00:00")
    run = _products(engagement)
    item = run.items.get(odoo_id=POLERA)
    assert item.reason_code == "shopify_variant_not_hidden" and "POL-L-AZUL" in item.message
    assert _shopify_by_sku(shop)["POL-L-AZUL"]["inventoryPolicy"] == "DENY"
    assert shop.deleted_variants == []


def test_shopify_an_archived_template_is_drafted_never_deleted(shopify):
    engagement, odoo, shop = shopify
    _products(engagement)
    _archive(odoo, template=POLERA)
    run = _products(engagement)
    assert run.items.get(odoo_id=POLERA).action == "hide"
    assert shop.products["gid://shopify/Product/8100000000001"]["status"] == "DRAFT"
    assert "productDelete" not in _shopify_roots(shop) and shop.deleted_variants == []
    assert "POL-M-AZUL" in _shopify_by_sku(shop)


def test_shopify_over_three_options_is_refused_and_the_others_go_on(shopify):
    """Shopify's limits (3 options, 100 variants): the product is reported, not sent; the counts add up."""
    engagement, odoo, shop = shopify
    odoo.data["product.template.attribute.value"] |= {
        vid: {"id": vid, "name": name, "attribute_id": [vid, name]} for vid, name in ((8, "A"), (9, "B"))
    }
    odoo.data["product.product"][8]["product_template_attribute_value_ids"] = [4, 5, 8, 9]
    run = _products(engagement)
    assert run.items.get(odoo_id=POLERA_LOGO).reason_code == "shopify_variant_limit"
    assert (run.counts["created"], run.counts["updated"], run.counts["failed"]) == (3, 2, 1)
    assert _done(run) == PUBLISHED and "POL-S-NEG" not in _shopify_by_sku(shop)


def test_shopify_a_create_that_timed_out_but_succeeded_is_found_by_sku(shopify, monkeypatch):
    """ProductSet made TAZ-350 but the answer came too late; the next run adopts it by SKU."""
    engagement, odoo, shop = shopify
    del odoo.data["product.template"][CAFE]  # so the first productSet is a create (TAZ-350)
    monkeypatch.setattr(clients, "ShopifyClient", partial(clients.ShopifyClient, timeout=0.3))
    shop.slow_replies, shop.reply_delay = 1, 1.0
    first = _products(engagement)
    assert first.items.get(odoo_id=TAZA).reason_code == "shop_write_ambiguous" and first.counts["failed"] == 1
    assert first.counts["created"] == 3 and "TAZ-350" in _shopify_by_sku(shop)
    second = _products(engagement)
    assert second.items.get(odoo_id=TAZA).outcome == "updated", list(second.items.values("reason_code"))
    assert len([v for v in shop.variants.values() if v["sku"] == "TAZ-350"]) == 1


def test_shopify_dry_run_sends_no_mutation(shopify):
    engagement, _odoo, shop = shopify
    run = _products(engagement, dry_run=True)
    assert run.counts["created"] == 4 and run.counts["updated"] == 2
    assert not {"productSet", "productUpdate"} & set(_shopify_roots(shop)) and not Binding.objects.exists()


# ---------------------------------------------------------------- Jumpseller


@pytest.fixture
def jumpseller(engagement, carla):
    from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer

    odoo, shop = FakeOdoo(), FakeJumpseller()
    _templates(odoo)
    with FakeOdooServer(odoo) as odoo_server, FakeJumpsellerServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.api_url, platform="jumpseller")
        yield engagement, odoo, shop


def _jumpseller_by_sku(shop) -> dict[str, dict]:
    items = {}
    for product in shop.products.values():
        for item in [product, *(product.get("variants") or [])]:
            if item.get("sku"):
                items[item["sku"]] = {**item, "product": product["id"]}
    return items


def test_jumpseller_products_variants_added_and_archived_templates_disabled(jumpseller):
    """Polera algodón adopted (7001), the rest created with their variants; an added
    variant is created in its product; an archived template is disabled, never deleted."""
    engagement, odoo, shop = jumpseller
    run = _products(engagement)
    assert (run.counts["created"], run.counts["updated"]) == (5, 1), list(run.items.values("reason_code", "message"))
    skus = _jumpseller_by_sku(shop)
    assert skus["POL-M-AZUL"]["product"] == 7001 and skus["CAF-1KG"]["price"] == 19
    logo = shop.products[skus["POL-S-BLA"]["product"]]
    assert logo["name"] == "Polera logo" and len(logo["variants"]) == 4
    assert skus["POL-S-BLA"]["options"] == [{"name": "Talla", "value": "S"}, {"name": "Color", "value": "Blanco"}]
    requests = len(shop.requests)
    assert _products(engagement, full=True).counts["unchanged"] == PUBLISHED and len(shop.requests) == requests
    _add_xl(odoo)
    _products(engagement)
    assert _jumpseller_by_sku(shop)["POL-XL-AZUL"]["product"] == 7001
    _archive(odoo, template=TAZA, when="2026-11-25 10:00:00")
    hidden = _products(engagement)
    assert hidden.items.get(odoo_id=TAZA).action == "hide"
    assert shop.products[skus["TAZ-350"]["product"]]["status"] == "disabled"
    assert not [r for r in shop.requests if r[0] == "DELETE"]


def test_the_consultant_sets_the_product_company(client, woo, carla, alice):
    """From the settings page: the company is stored and the next run keeps to it."""
    from django.urls import reverse

    engagement, odoo, shop = woo
    odoo.data["product.template"][TAZA]["company_id"] = [2, "Otra empresa"]
    url = reverse("integration:flow_settings", args=[engagement.code, "products"])
    client.force_login(carla)
    assert client.get(url).status_code == 200
    response = client.post(url, {"enabled": "on", "company_id": "1", "every_minutes": ""})
    assert response.status_code == 302
    assert FlowSettings.objects.get(engagement=engagement, flow="products").options == {"company_id": 1}
    assert _products(engagement).counts["listed"] == PUBLISHED - 1 and "TAZ-350" not in _woo_by_sku(shop)
    assert client.post(url, {"company_id": "0"}).status_code == 200
    client.force_login(alice)
    assert client.get(url).status_code == 403

"""The customer import, shop → Odoo, and its shop payload mappers.

Both sides are real over loopback HTTP: the fake Odoo 17 through the odoorpc gateway, and the fake
shops (WooCommerce for most cases; Shopify and Jumpseller too) through the platform adapters'
`iter_customers` and `get_customer`, whose payloads are the recorded fixtures' (tests/fakes/data).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stdnum.cl import rut as stdnum_rut

from engagements.integration import connections, runner
from engagements.integration.flows import partners
from engagements.integration.models import Binding, FlowSettings, SyncCursor, SyncRun
from engagements.integration.shops.customers import (
    jumpseller_customer,
    jumpseller_customer_signature,
    shopify_customer,
    woocommerce_customer,
)
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.shopify import MUTATIONS, FakeShopify, FakeShopifyServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import WRITES, wire

SHOPS = Path(__file__).resolve().parents[1] / "fakes" / "data"
WOO_TIME = "%Y-%m-%dT%H:%M:%S"
CL, RM, VALPARAISO = 46, 1113, 1105  # the fake Odoo's Chile and two of its regions ("13", "05")
COMPANY_RUT = "76086428-5"  # valid check digit, above 50.000.000: a company


def _load(platform: str, name: str):
    return json.loads((SHOPS / platform / name).read_text())


def _rut(body: int) -> str:
    return f"{body}-{stdnum_rut.calc_check_digit(str(body))}"


def woo(customer_id: int, email: str, first: str = "Cliente", last: str = "Prueba", **changes) -> dict:
    """built_customer.json (María González, RUT in meta_data) as another customer."""
    raw = copy.deepcopy(_load("woocommerce", "built_customer.json"))
    raw.update(id=customer_id, email=email, first_name=first, last_name=last)
    raw["billing"].update(first_name=first, last_name=last, email=email)
    raw["shipping"].update(first_name=first, last_name=last)
    raw["meta_data"] = []
    for key, value in changes.items():
        if key == "rut":
            raw["meta_data"] = [{"id": 1, "key": "billing_rut", "value": value}]
        elif key in ("billing", "shipping"):
            raw[key].update(value)
        else:
            raw[key] = value
    return raw


def touch(raw: dict, minutes: int = 60) -> None:
    """The shop saves the customer again (date_modified moves)."""
    moment = datetime.strptime(raw["date_modified_gmt"], WOO_TIME) + timedelta(minutes=minutes)
    raw["date_modified_gmt"] = moment.strftime(WOO_TIME)


@pytest.fixture
def flow(engagement, carla):
    """(engagement, fake odoo, fake WooCommerce shop) with the customer import on and both connections
    saved; the shop has one customer, María González (31, built_customer.json)."""
    odoo, shop = FakeOdoo(), FakeShop()
    shop.customers = {31: copy.deepcopy(_load("woocommerce", "built_customer.json"))}
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.url)
        FlowSettings.objects.create(engagement=engagement, flow="customers", enabled=True, options={})
        yield engagement, odoo, shop


def run(engagement, **kwargs) -> SyncRun:
    return runner.run_flow(engagement=engagement, flow="customers", **kwargs)


def item(result: SyncRun, customer_id):
    return result.items.get(external_id=str(customer_id))


def partners_named(odoo, name: str) -> list[dict]:
    return [p for p in odoo.data["res.partner"].values() if p.get("name") == name]


def writes(odoo) -> list:
    return [c for c in odoo.calls if c[2] in WRITES]


def rpc(odoo) -> list:
    return [c for c in odoo.calls if c[0] == "object" and c[2] != "context_get"]


def adds_up(result: SyncRun) -> None:
    assert result.counts["listed"] == sum(v for k, v in result.counts.items() if k != "listed"), result.counts


# ---------------------------------------------------------------- mappers (pure)


def test_the_woocommerce_customer_fixture_maps_with_its_rut_and_iso_state():
    customer = woocommerce_customer(_load("woocommerce", "built_customer.json"))
    assert (customer.id, customer.email, customer.name) == ("31", "maria.gonzalez@example.cl", "María González")
    assert customer.tax_id == "16.543.210-K" and customer.phone == "+56912345678"
    assert customer.modified == datetime(2026, 3, 10, 14, 20, tzinfo=UTC)
    assert (customer.billing.street, customer.billing.street2) == ("Av. Providencia 1234", "Depto 501")
    assert (customer.billing.state, customer.billing.country, customer.billing.zip) == ("CL-RM", "CL", "7500000")
    docs = woocommerce_customer(_load("woocommerce", "docs_customer_25.json"))
    assert docs.billing.state == "US-CA" and not docs.tax_id and docs.shipping.city == "San Francisco"


def test_a_shopify_customer_node_maps_from_its_default_address():
    order = _load("shopify", "built_orders_query.json")["response"]["data"]["orders"]["edges"][1]["node"]
    node = {  # built from the order fixture's customer and billing address (Customer fields, 2026-04)
        **order["customer"],
        "updatedAt": "2026-03-10T15:30:10Z",
        "defaultAddress": order["billingAddress"],
        "metafields": {"nodes": [{"namespace": "custom", "key": "rut", "value": "16.543.210-K"}]},
    }
    customer = shopify_customer(node)
    assert (customer.id, customer.email, customer.phone) == (
        "7500000000001",
        "maria.gonzalez@example.cl",
        "+56912345678",
    )
    assert customer.billing.state == "CL-RM" and customer.tax_id == "16.543.210-K" and customer.shipping is None
    assert customer.modified == datetime(2026, 3, 10, 15, 30, 10, tzinfo=UTC)


def jumpseller_raw() -> dict:
    """A /customers.json row (OpenAPI CustomerFields), built from built_orders_list.json's buyer."""
    order = _load("jumpseller", "built_orders_list.json")[1]["order"]
    billing = {k: v for k, v in order["billing_address"].items() if k in ("name", "surname", "taxid", "address")}
    billing.update(city="Santiago", municipality="Ñuñoa", postal="", region="12", country="CL")
    return {"customer": {**order["customer"], "billing_address": billing, "shipping_address": dict(billing)}}


def test_a_jumpseller_customer_maps_its_fips_region_and_is_versioned_by_content():
    raw = jumpseller_raw()
    moment = datetime(2026, 3, 10, 12, tzinfo=UTC)
    customer = jumpseller_customer(raw, modified=moment)
    assert customer.email == "juan.perez@example.cl" and customer.phone == "+56 987654321"
    assert (customer.tax_id, customer.billing.state, customer.billing.city) == ("12.345.678-5", "CL-RM", "Ñuñoa")
    assert customer.modified == moment
    before = jumpseller_customer_signature(raw)
    raw["customer"]["phone"] = "911111111"
    assert jumpseller_customer_signature(raw) != before
    raw["customer"]["billing_address"]["region"] = "05"  # a FIPS code nobody verified: not guessed
    assert jumpseller_customer(raw, modified=moment).billing.state == ""


def test_states_are_found_by_code_then_name_and_never_guessed():
    odoo = FakeOdoo()
    chile = [s for s in odoo.data["res.country.state"].values() if s["country_id"][0] == CL]
    assert partners.resolve_state("CL-RM", "CL", chile) == RM  # ISO code → Odoo's "13"
    assert partners.resolve_state("13", "CL", chile) == RM
    assert partners.resolve_state("Región de Valparaíso", "CL", chile) == VALPARAISO  # by name
    assert partners.resolve_state("Región Metropolitana de Santiago", "CL", chile) == RM  # a name inside
    assert partners.resolve_state("CL-ZZ", "CL", chile) is None
    assert partners.resolve_state("Los", "CL", chile) is None  # several would fit: none is taken
    assert partners.parse_rut("16.543.210-k").vat == "16543210-K" and not partners.parse_rut("16.543.210-k").company
    assert partners.parse_rut(COMPANY_RUT).company and partners.parse_rut("12.345.678-9").invalid
    assert {"76.086.428-5", "76086428-5", "760864285", "CL760864285"} <= set(partners.rut_variants("760864285"))


# ---------------------------------------------------------------- each adapter over HTTP

# platform: (its fake, the fake's server, the server's attribute with the URL to save)
PLATFORMS = {
    "woocommerce": (FakeShop, FakeShopServer, "url"),
    "shopify": (FakeShopify, FakeShopifyServer, "url"),
    "jumpseller": (FakeJumpseller, FakeJumpsellerServer, "api_url"),
}


def _email(customer: dict) -> str:
    """A fake customer's e-mail: Shopify's `defaultEmailAddress`, the others' `email`."""
    return ((customer.get("defaultEmailAddress") or {}).get("emailAddress") or customer["email"]).lower()


def _only_read(fake) -> bool:
    """Every request a read: a GET, or a GraphQL query (no mutation)."""
    return all(r["root"] not in MUTATIONS if isinstance(r, dict) else r[0] == "GET" for r in fake.requests)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_adapter_lists_its_shops_customers_over_http_and_they_become_partners(platform, engagement, carla):
    make_fake, make_server, url = PLATFORMS[platform]
    odoo, shop = FakeOdoo(), make_fake()
    expected = sorted(_email(customer) for customer in shop.customers.values())
    with FakeOdooServer(odoo) as odoo_server, make_server(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=getattr(shop_server, url), platform=platform)
        FlowSettings.objects.create(engagement=engagement, flow="customers", enabled=True, options={})
        first = run(engagement)
        again = run(engagement)
    assert first.status == SyncRun.Status.SUCCEEDED and first.api_usage["shop_calls"] > 0, first.summary
    assert first.counts["listed"] == len(expected) == first.counts["created"] + first.counts["updated"]
    bound = Binding.objects.filter(engagement=engagement, kind="partner")
    assert sorted(odoo.data["res.partner"][b.odoo_id]["email"] for b in bound) == expected
    assert again.counts["created"] == again.counts["updated"] == 0 and _only_read(shop)


# ---------------------------------------------------------------- the flow


def test_it_creates_the_partner_with_rut_country_and_state_and_binds_it(flow):
    engagement, odoo, _shop = flow
    result = run(engagement)
    assert result.status == SyncRun.Status.SUCCEEDED, list(result.items.values_list("reason_code", "message"))
    assert result.counts["listed"] == 1 and result.counts["created"] == 1
    (partner,) = partners_named(odoo, "María González")[1:]  # 2513 is the lab's María, of Comercial Andes
    assert partner["email"] == "maria.gonzalez@example.cl" and partner["vat"] == "16543210-K"
    assert partner["country_id"] == [CL, "Chile"] and partner["state_id"] == [RM, "Metropolitana"]
    assert partner["ref"] == "WOO-C31" and not partner.get("is_company")
    binding = Binding.objects.get(kind="partner", external_id="customer:31")
    assert binding.odoo_id == partner["id"] and binding.last_pushed_hash and binding.last_pushed_value
    assert SyncCursor.objects.get(flow="customers").value == "2026-03-10T14:20:00"
    children = [p for p in odoo.data["res.partner"].values() if (p.get("parent_id") or [0])[0] == partner["id"]]
    assert not children  # its shipping address is its billing one: no delivery contact


def test_g44_the_same_email_with_another_name_is_the_same_partner_and_its_name_is_kept(flow):
    engagement, odoo, shop = flow
    shop.customers = {40: woo(40, "MARIA.GONZALEZ@andes.example", "María José", "González Soto")}
    result = run(engagement)
    found = item(result, 40)
    assert found.odoo_id == 2513 and found.outcome == "review"
    assert "odoo_values_kept" in found.reason_code and "matched_by_email" in found.reason_code
    assert found.diff["kept"]["name"] == {"odoo": "María González", "shop": "María José González Soto"}
    assert odoo.data["res.partner"][2513]["name"] == "María González"  # not overwritten
    assert odoo.data["res.partner"][2513]["phone"] == "+56912345678"  # an empty field is filled
    assert not [c for c in odoo.calls if c[2] == "create"]
    assert "street" not in odoo.data["res.partner"][2512]  # its company is not touched without its RUT


def test_g44_two_shop_customers_with_one_email_share_one_new_partner(flow):
    engagement, odoo, shop = flow
    shop.customers = {
        41: woo(41, "hogar@example.cl", "Ana", "Rojas"),
        42: woo(42, "hogar@example.cl", "Pedro", "Rojas"),
    }
    result = run(engagement)
    adds_up(result)
    created = [p for p in odoo.data["res.partner"].values() if p.get("email") == "hogar@example.cl"]
    assert len(created) == 1 and created[0]["name"] == "Ana Rojas"
    assert item(result, 42).odoo_id == created[0]["id"] and "odoo_values_kept" in item(result, 42).reason_code


def test_g44_a_customer_with_only_a_phone_is_bound_and_never_merged_by_phone(flow):
    engagement, odoo, shop = flow
    odoo.data["res.partner"][2513]["phone"] = "+56 9 5555 0000"
    shop.customers = {
        n: woo(n, "", f"Cliente{n}", "Sin Correo", billing={"email": "", "phone": "+56 9 5555 0000"}) for n in (50, 51)
    }
    result = run(engagement)
    assert result.counts["created"] == 2, list(result.items.values_list("reason_code", flat=True))
    ids = {item(result, 50).odoo_id, item(result, 51).odoo_id}
    assert len(ids) == 2 and 2513 not in ids
    touch(shop.customers[50])
    shop.customers[50]["billing"]["city"] = "Ñuñoa"  # a real change: found by its binding, updated
    again = run(engagement)
    assert item(again, 50).outcome == "updated" and item(again, 50).odoo_id == item(result, 50).odoo_id
    assert len([p for p in odoo.data["res.partner"].values() if p.get("phone") == "+56 9 5555 0000"]) == 3


def test_g45_a_rut_in_another_format_matches_and_an_invalid_one_is_reported_not_used(flow):
    engagement, odoo, shop = flow
    odoo.data["res.partner"][3000] = {
        "id": 3000,
        "name": "Juan Pérez",
        "email": "jperez@otro.example",
        "vat": "12.345.678-5",
        "is_company": False,
        "parent_id": False,
        "type": "contact",
        "country_id": [CL, "Chile"],
    }
    shop.customers = {
        60: woo(60, "juan.perez@example.cl", "Juan", "Pérez", rut="123456785"),
        61: woo(61, "otra@example.cl", "Otra", "Persona", rut="12.345.678-9"),  # wrong check digit
        62: woo(62, "k@example.cl", "Ka", "Ka", rut="16.543.210-k"),
    }
    result = run(engagement)
    adds_up(result)
    assert item(result, 60).odoo_id == 3000 and "matched_by_rut" in item(result, 60).reason_code
    invalid = item(result, 61)
    assert invalid.outcome == "review" and invalid.action == "create" and "invalid_rut" in invalid.reason_code
    assert odoo.data["res.partner"][invalid.odoo_id]["vat"] is False
    assert odoo.data["res.partner"][item(result, 62).odoo_id]["vat"] == "16543210-K"


def test_g45_a_rut_two_odoo_partners_share_is_never_guessed(flow):
    engagement, odoo, shop = flow
    for pid, vat in ((3001, "76.086.428-5"), (3002, "CL760864285")):
        odoo.data["res.partner"][pid] = {"id": pid, "name": f"Sur {pid}", "email": False, "vat": vat}
        odoo.data["res.partner"][pid].update(is_company=True, parent_id=False, type="contact")
    shop.customers = {70: woo(70, "compras@sur.example", "Luis", "Soto", rut=COMPANY_RUT, billing={"company": "Sur"})}
    result = run(engagement)
    found = item(result, 70)
    assert (found.outcome, found.reason_code, found.action) == ("review", "duplicate_rut", "skip")
    assert not writes(odoo) and not Binding.objects.filter(kind="partner").exists()


def test_a_company_rut_makes_a_company_with_the_buyer_as_its_contact(flow):
    engagement, odoo, shop = flow
    shop.customers = {
        80: woo(80, "compras@distsur.example", "Luis", "Soto", rut=COMPANY_RUT, billing={"company": "Dist Sur"}),
        81: woo(81, "pedro@example.cl", "Pedro", "Lagos", rut=_rut(9876543), billing={"company": "Mi Pyme"}),
    }
    result = run(engagement)
    assert result.counts["created"] == 2, list(result.items.values_list("reason_code", flat=True))
    (company,) = partners_named(odoo, "Dist Sur")
    assert company["is_company"] is True and company["vat"] == COMPANY_RUT and company["state_id"][0] == RM
    contact = odoo.data["res.partner"][item(result, 80).odoo_id]
    assert contact["parent_id"][0] == company["id"] and contact["type"] == "contact"
    assert (contact["name"], contact["email"], contact["ref"]) == ("Luis Soto", "compras@distsur.example", "WOO-C80")
    # A personal RUT with a company name is what Odoo's shop checkout does: company_name on the person.
    person = odoo.data["res.partner"][item(result, 81).odoo_id]
    assert person["company_name"] == "Mi Pyme" and not person.get("is_company") and not person.get("parent_id")
    # Another buyer of the same company (its RUT) becomes a second contact, not a second company.
    shop.customers = {
        82: woo(82, "ana@distsur.example", "Ana", "Mora", rut="76.086.428-5", billing={"company": "Dist"})
    }
    later = run(engagement, full=True)
    assert item(later, 82).outcome == "created" and "matched_by_rut" in item(later, 82).reason_code
    assert odoo.data["res.partner"][item(later, 82).odoo_id]["parent_id"][0] == company["id"]
    assert len([p for p in odoo.data["res.partner"].values() if p.get("is_company") and p.get("vat")]) == 1


def test_a_company_name_alone_makes_a_company_when_the_settings_say_so(flow):
    engagement, odoo, shop = flow
    FlowSettings.objects.filter(flow="customers").update(options={"company_names": True})
    shop.customers = {83: woo(83, "eva@example.cl", "Eva", "Paz", billing={"company": "Taller Paz"})}
    result = run(engagement)
    (company,) = partners_named(odoo, "Taller Paz")
    assert company["is_company"] and odoo.data["res.partner"][item(result, 83).odoo_id]["parent_id"][0] == company["id"]


def test_g46_country_and_state_by_code_then_name_and_an_unknown_one_left_empty_with_a_warning(flow):
    engagement, odoo, shop = flow
    shop.customers = {
        90: woo(90, "a@example.cl", billing={"state": "Región de Valparaíso"}),  # free text in the shop
        91: woo(91, "b@example.cl", billing={"state": "CL-ZZ"}),
        92: woo(92, "c@example.cl", billing={"country": "ZZ", "state": ""}),
        93: woo(93, "d@example.us", billing={"country": "US", "state": "CA"}),
    }
    result = run(engagement)
    adds_up(result)
    partner = {cid: odoo.data["res.partner"][item(result, cid).odoo_id] for cid in (90, 91, 92, 93)}
    assert partner[90]["state_id"] == [VALPARAISO, "Valparaíso"] and item(result, 90).outcome == "created"
    assert partner[91]["country_id"][0] == CL and not partner[91].get("state_id")
    assert (item(result, 91).outcome, item(result, 91).reason_code) == ("review", "state_unknown:CL-ZZ")
    assert not partner[92].get("country_id") and item(result, 92).reason_code == "country_unknown:ZZ"
    assert partner[93]["state_id"][1] == "California"
    geo = [m for _, m, method in odoo.calls if m in ("res.country", "res.country.state")]
    assert geo == ["res.country", "res.country.state"]  # one search each for the whole page


def test_g47_our_own_values_coming_back_change_nothing_and_odoo_edits_are_not_reverted(flow):
    engagement, odoo, shop = flow
    partner_id = item(run(engagement), 31).odoo_id
    before = len(writes(odoo))
    touch(shop.customers[31])  # saved again in the shop with the same values (or an export echoing ours)
    echo = run(engagement)
    assert item(echo, 31).outcome == "unchanged" and len(writes(odoo)) == before
    # A real change in the shop follows where Odoo still has the value we wrote.
    touch(shop.customers[31])
    shop.customers[31].update(last_name="González Rojas")
    changed = run(engagement)
    assert item(changed, 31).outcome == "updated" and len(writes(odoo)) == before + 1
    assert odoo.data["res.partner"][partner_id]["name"] == "María González Rojas"
    # Edited in Odoo, then the shop record is saved again unchanged: Odoo's edit stays (no ping-pong).
    odoo.data["res.partner"][partner_id]["phone"] = "+56 2 2222 2222"
    touch(shop.customers[31])
    again = run(engagement)
    assert item(again, 31).outcome == "unchanged" and len(writes(odoo)) == before + 1
    assert odoo.data["res.partner"][partner_id]["phone"] == "+56 2 2222 2222"
    # A shop change over values edited in Odoo since our write: Odoo's are kept, and reported.
    odoo.data["res.partner"][partner_id]["name"] = "María G. Rojas (mayorista)"
    touch(shop.customers[31])
    shop.customers[31].update(first_name="Mari")
    conflict = run(engagement)
    found = item(conflict, 31)
    assert found.outcome == "review" and found.reason_code == "odoo_values_kept"
    assert set(found.diff["kept"]) == {"name", "phone"}
    assert odoo.data["res.partner"][partner_id]["name"] == "María G. Rojas (mayorista)"
    # Odoo → shop is not in scope: the shop was only ever read.
    assert {method for method, _path in shop.requests} == {"GET"}


def test_shipping_addresses_become_delivery_contacts_without_duplicates(flow):
    engagement, odoo, shop = flow
    raw = shop.customers[31]
    raw["shipping"].update(address_1="Camino Real 77", address_2="", city="Pucón", postcode="4920000")
    first = run(engagement)
    partner_id = item(first, 31).odoo_id

    def deliveries():
        children = odoo.data["res.partner"].values()
        return [p for p in children if p.get("type") == "delivery" and (p.get("parent_id") or [0])[0] == partner_id]

    assert [d["street"] for d in deliveries()] == ["Camino Real 77"]
    touch(raw)
    raw["billing"]["phone"] = "+56 9 0000 1111"
    raw["shipping"].update(address_1="camino real  77")  # the same address, typed differently
    run(engagement)
    assert len(deliveries()) == 1
    touch(raw)
    raw["shipping"].update(address_1="Los Aromos 456", city="Ñuñoa")
    run(engagement)
    assert sorted(d["street"] for d in deliveries()) == ["Camino Real 77", "Los Aromos 456"]


def test_a_dry_run_writes_nothing_anywhere_and_plans_what_the_run_does(flow):
    engagement, odoo, shop = flow
    shop.customers.update(
        {
            40: woo(40, "maria.gonzalez@andes.example", "María José", "González"),
            80: woo(80, "compras@distsur.example", "Luis", "Soto", rut=COMPANY_RUT, billing={"company": "Dist"}),
            91: woo(91, "b@example.cl", billing={"state": "CL-ZZ"}),
        }
    )
    plan = run(engagement, dry_run=True)
    assert not writes(odoo) and not Binding.objects.exists() and not SyncCursor.objects.exists()
    assert {i.action for i in plan.items.all()} <= {"would_create", "would_update", "review", "unchanged"}
    done = run(engagement)

    def outcome(result):
        return sorted((i.external_id, i.outcome, i.reason_code) for i in result.items.all())

    assert plan.counts == done.counts and outcome(plan) == outcome(done)


def test_a_customer_odoo_refuses_does_not_stop_the_others(flow):
    engagement, odoo, shop = flow
    odoo.constraints.append(
        lambda model, values: (
            "Nombre reservado" if model == "res.partner" and values.get("name") == "Roto Roto" else None
        )
    )
    shop.customers.update({n: woo(n, f"c{n}@example.cl", "Buen", f"Cliente{n}") for n in range(100, 104)})
    shop.customers[102] = woo(102, "roto@example.cl", "Roto", "Roto")
    result = run(engagement)
    adds_up(result)
    assert result.counts["created"] == 4 and result.counts["failed"] == 1 and result.status == SyncRun.Status.PARTIAL
    assert item(result, 102).reason_code == "odoo_rejected" and "Nombre reservado" in item(result, 102).message
    assert not partners_named(odoo, "Roto Roto")
    # A refusal is permanent: the cursor moves on past it (fixing the customer in the shop lists it again).
    assert SyncCursor.objects.get(flow="customers").value == "2026-03-10T14:20:00"


def test_the_number_of_odoo_calls_does_not_grow_with_the_customers(flow, carla):
    engagement, _, shop = flow

    def calls_for(count: int) -> tuple[int, int]:
        odoo = FakeOdoo()
        with FakeOdooServer(odoo) as server:
            connections.odoo_connection_save(
                actor=carla, engagement=engagement, url=server.url, database="lab", login="admin", api_key="admin"
            )
            Binding.objects.all().delete()
            shop.customers = {
                n: woo(n, f"c{n}@example.cl", "C", str(n), rut=_rut(10_000_000 + n)) for n in range(count)
            }
            for n in range(0, count, 2):  # half of them with their own shipping address
                shop.customers[n]["shipping"].update(address_1=f"Pasaje {n}", city="Temuco")
            first = run(engagement, full=True)
            assert first.counts["created"] == count, first.counts
            calls = len(rpc(odoo))
            for raw in shop.customers.values():
                touch(raw)
            run(engagement, full=True)
            return calls, len(rpc(odoo)) - calls

    few, many = calls_for(3), calls_for(40)
    assert few == many and few[0] <= 5 and few[1] <= 4, (few, many)


def test_a_webhook_named_customer_is_fetched_again_and_the_cursor_stays(flow):
    engagement, _odoo, shop = flow
    result = run(engagement, trigger="webhook", external_ids=["31", "31", "999"])
    assert result.counts["listed"] == 2 and result.counts["created"] == 1 and result.counts["failed"] == 1
    assert ("GET", "/wp-json/wc/v3/customers/31") in shop.requests and not SyncCursor.objects.exists()


def test_a_bound_partner_deleted_in_odoo_is_reported_not_recreated(flow):
    engagement, odoo, shop = flow
    partner_id = item(run(engagement), 31).odoo_id
    del odoo.data["res.partner"][partner_id]
    touch(shop.customers[31])
    result = run(engagement)
    assert item(result, 31).reason_code == "odoo_record_deleted" and not partners_named(odoo, "María González")[1:]
    assert Binding.objects.get(kind="partner", external_id="customer:31").state == Binding.State.ORPHANED


def test_a_jumpseller_customer_known_by_phone_only_is_imported_once(engagement, carla):
    odoo, shop = FakeOdoo(), FakeJumpseller()
    raw = jumpseller_raw()["customer"]
    shop.customers = {20100009: {**raw, "id": 20100009, "email": None, "fullname": "Juan Pérez"}}
    with FakeOdooServer(odoo) as odoo_server, FakeJumpsellerServer(shop) as shop_server:
        wire(engagement, carla, odoo_url=odoo_server.url, shop_url=shop_server.api_url, platform="jumpseller")
        FlowSettings.objects.create(engagement=engagement, flow="customers", enabled=True, options={})
        first = run(engagement)
        # Jumpseller gives customers no update time: the adapter versions them by content (its state).
        again = run(engagement, full=True)
    partner = odoo.data["res.partner"][item(first, 20100009).odoo_id]
    assert partner["ref"] == "JS-C20100009" and partner["email"] is False and partner["phone"] == "+56 987654321"
    assert partner["state_id"] == [RM, "Metropolitana"] and partner["vat"] == "12345678-5"
    assert item(again, 20100009).outcome == "unchanged" and len(partners_named(odoo, "Juan Pérez")) == 1


def test_the_order_import_finds_the_partner_the_customer_import_made(flow):
    """One upsert for both flows: customer 31's order is placed on the partner its customer import created."""
    from engagements.integration.demo import ORDER_OPTIONS

    engagement, odoo, _shop = flow
    first = run(engagement)
    FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
    orders_run = runner.run_flow(engagement=engagement, flow="orders")
    assert orders_run.counts["created"] == 2, list(orders_run.items.values_list("reason_code", flat=True))
    order = next(o for o in odoo.data["sale.order"].values() if o["client_order_ref"] == "WOO-2002")
    assert order["partner_id"][0] == item(first, 31).odoo_id
    assert len([p for p in odoo.data["res.partner"].values() if p.get("email") == "maria.gonzalez@example.cl"]) == 1

"""Concurrency smoke: parallel writes on one tenant all land, nothing lost or doubled."""
from concurrent.futures import ThreadPoolExecutor

from conftest import XML_HEADERS, StoreClient, child_text, item_xml, parse_xml


def test_fifty_parallel_creates(tenant):
    skus = [f"PAR-{n:02d}" for n in range(50)]

    def create(sku):
        client = StoreClient(tenant.base, tenant.key, tenant.token)
        resp = client.post("/api/items/create", data=item_xml(sku, f"Parallel {sku}"), headers=XML_HEADERS)
        return sku, resp.status_code, resp.text

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(create, skus))
    failures = [(sku, status, text[:200]) for sku, status, text in results if status != 201]
    assert not failures, failures
    listed = tenant.skus()
    assert len(listed) == 50
    assert sorted(listed) == skus


def test_parallel_duplicate_creates_exactly_one_wins(tenant):
    def create(_):
        client = StoreClient(tenant.base, tenant.key, tenant.token)
        return client.post("/api/items/create", data=item_xml("RACE", "race"), headers=XML_HEADERS).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(create, range(20)))
    assert statuses.count(201) == 1, statuses
    assert statuses.count(422) == 19, statuses
    assert tenant.skus() == ["RACE"]


def test_parallel_reads_and_writes(tenant, demo):
    def work(n):
        client = StoreClient(tenant.base, tenant.key, tenant.token)
        if n % 2:
            r = client.post("/api/items/create", data=item_xml(f"RW-{n:02d}"), headers=XML_HEADERS)
            return r.status_code == 201
        r = demo.get("/api/items/BILL-WAX")
        return r.status_code == 200 and child_text(parse_xml(r), "sku") == "BILL-WAX"

    with ThreadPoolExecutor(max_workers=30) as pool:
        assert all(pool.map(work, range(60)))
    assert len(tenant.skus()) == 30

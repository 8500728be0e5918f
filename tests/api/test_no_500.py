"""Whatever a client sends to any write endpoint, the answer is never a 500."""

import re

import pytest

from tests import factories

JUNK = [None, 0, -1, 1.5, "", "x" * 5000, [], {}, [1, "a"], {"a": {"b": {"c": None}}},
        True, "2026-02-30", "１２３", "\u0000", 10**30]


def _bodies(schema_fields):
    yield {}
    yield []
    yield "not an object"
    for junk in JUNK:
        yield {field: junk for field in schema_fields} or {"x": junk}


def _fill(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


@pytest.fixture
def world(app):
    inst = factories.institution()
    lic = factories.licence(inst)
    return {"institution_id": inst.id, "licence_id": lic.id, "id": 1, "uscc": inst.uscc,
            "code": "OFFLINE_ENDS_AFTER_2030", "date": "2026-10-01"}


def test_no_write_endpoint_answers_500_to_junk(client, admin, world):
    spec = client.get("/api/v1/openapi.json").json
    components = spec.get("components", {}).get("schemas", {})
    seen = 0
    for path, operations in spec["paths"].items():
        for method in ("post", "put", "patch"):
            op = operations.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            fields = list(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            url = _fill(path, world)
            for payload in _bodies(fields):
                resp = client.open(url, method=method.upper(), json=payload, headers=admin)
                seen += 1
                assert resp.status_code < 500, (method, url, payload, resp.json)
    assert seen > 100

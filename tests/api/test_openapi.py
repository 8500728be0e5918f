"""The OpenAPI document is complete, and the docs page works without the internet."""

import re

import pytest

# The foundation's part of api.md; the other areas' paths are checked through the route map.
FOUNDATION = {
    "/api/v1/health": {"get"},
    "/api/v1/institutions": {"get", "post"},
    "/api/v1/institutions/{institution_id}": {"get", "patch"},
    "/api/v1/institutions/{institution_id}/licences": {"post"},
    "/api/v1/licences/{licence_id}": {"get"},
    "/api/v1/licences/{licence_id}/suspend": {"post"},
    "/api/v1/licences/{licence_id}/reinstate": {"post"},
    "/api/v1/licences/{licence_id}/revoke": {"post"},
    "/api/v1/licences/{licence_id}/renew": {"post"},
    "/api/v1/audit": {"get"},
}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.json


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def response(spec, resp: dict) -> dict:
    if "$ref" in resp:
        return spec["components"]["responses"][resp["$ref"].rsplit("/", 1)[-1]]
    return resp


def test_document_is_openapi_3_with_bearer_security(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http",
                                                               "scheme": "bearer"}


def test_every_foundation_path_and_method_is_documented(spec):
    for path, methods in FOUNDATION.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), path


def test_every_registered_api_route_is_in_the_document(app, spec):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        assert path in spec["paths"], path
        documented = set(spec["paths"][path]) & METHODS
        assert {m.lower() for m in rule.methods} & METHODS <= documented, path


def test_every_operation_documents_success_and_its_errors(spec):
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        codes = set(op["responses"])
        assert op.get("summary"), where
        assert any(c.startswith("2") for c in codes), where
        assert "default" in codes, where
        if op.get("security"):
            assert {"401", "403"} <= codes, where
        if "{" in path:
            assert "404" in codes, where
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= codes, where
        for code in codes - {"default"}:
            if int(code) >= 400 and (path, code) != ("/api/v1/health", "503"):
                content = response(spec, op["responses"][code]).get("content", {})
                assert "application/problem+json" in content, f"{where} {code}"


def test_protected_operations_name_the_bearer_scheme_and_roles(spec):
    for path, method, op in operations(spec):
        if path.startswith("/api/v1/public/") or path == "/api/v1/health":
            assert not op.get("security"), path
        else:
            assert op.get("security") == [{"bearer": []}], f"{method} {path}"
    audit = spec["paths"]["/api/v1/audit"]["get"]
    assert audit["x-roles"] == ["admin"]
    assert spec["paths"]["/api/v1/institutions"]["post"]["x-roles"] == ["admin", "supervisor"]


def test_problem_schema_carries_the_stable_code_and_field_errors(spec):
    schemas = spec["components"]["schemas"]
    problem = next(s for name, s in schemas.items() if name.startswith("Problem"))
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])


def test_docs_page_serves_swagger_ui_from_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "SwaggerUIBundle" in html
    assert "/api/v1/openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/api/docs/static/"), asset  # nothing from a CDN
        got = client.get(asset)
        assert got.status_code == 200, asset
        assert len(got.data) > 1000

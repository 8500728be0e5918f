"""OpenAPI: every operation documents the errors it can answer, as application/problem+json.

An apispec plugin, so no view has to repeat them: a secured operation can answer 401 and 403,
one with a path parameter 404, one with a body 400 (malformed JSON), 413 and 415.
"""

import http

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin

PROBLEM = "application/problem+json"
METHODS = {"get", "put", "post", "patch", "delete"}


def _status_name(code: int) -> str:
    return http.HTTPStatus(code).name  # the names flask-smorest registers components under


class ErrorResponses(BasePlugin):
    def __init__(self, problem_schema):
        self.problem_schema = problem_schema
        self.spec = None

    def init_spec(self, spec):
        super().init_spec(spec)
        self.spec = spec

    def _problem_ref(self) -> dict:
        for plugin in self.spec.plugins:
            if isinstance(plugin, MarshmallowPlugin):
                return plugin.converter.resolve_nested_schema(self.problem_schema)
        return {"type": "object"}

    def response_helper(self, response, **kwargs):
        """Error components are served as application/problem+json."""
        content = response.get("content") or {}
        if "application/json" in content and self._is_problem(content["application/json"]):
            response["content"] = {PROBLEM: content["application/json"]}
        return response

    def _is_problem(self, media: dict) -> bool:
        schema = media.get("schema")
        if isinstance(schema, dict):
            return schema.get("$ref", "").endswith("/" + self._problem_name())
        return schema is self.problem_schema or isinstance(schema, self.problem_schema)

    def _problem_name(self) -> str:
        return self._problem_ref().get("$ref", "").rsplit("/", 1)[-1]

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            codes = []
            if operation.get("security"):
                codes += [401, 403]
            if "{" in (path or ""):
                codes.append(404)
            if "requestBody" in operation:
                codes += [400, 413, 415]
            for code in codes:
                if code not in responses and str(code) not in responses:
                    responses[code] = _status_name(code)
            for code, response in responses.items():
                if str(code).isdigit() and int(code) >= 400 and isinstance(response, dict) \
                        and not response.get("content"):
                    response["content"] = {PROBLEM: {"schema": self._problem_ref()}}

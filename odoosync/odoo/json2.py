"""JSON-2 (``POST /json/2/<model>/<method>``), Odoo 19 and later.

Each call is one HTTP request authenticated by ``Authorization: bearer <api key>`` with
the database in ``X-Odoo-Database``, and runs in its own transaction. The body holds
named arguments only (``addons/rpc/controllers/json2.py``): ``ids`` for record methods,
``context``, and the method's own parameters by name. ``execute_kw``'s positional
arguments are mapped to those names with the ORM's signatures below; for other methods
only the record ids may be positional (``message_post``, ``action_feedback`` take
keywords). Errors come back as HTTP statuses with Odoo's exception in the body.

The user id comes from ``res.users.context_get`` (it returns ``uid``), since JSON-2 has
no login call: the API key identifies the user.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from odoosync.exceptions import InvalidRequest, OdooServerError
from odoosync.odoo.errors import error_from_http_response
from odoosync.odoo.transport import Transport

__all__ = ["Json2Transport", "named_arguments"]

# method → (is an @api.model method (no ids), positional parameter names), from
# odoo/orm/models.py (Odoo 19) and mail's models.
_SIGNATURES: dict[str, tuple[bool, tuple[str, ...]]] = {
    "search_read": (True, ("domain", "fields", "offset", "limit", "order")),
    "search": (True, ("domain", "offset", "limit", "order")),
    "search_count": (True, ("domain", "limit")),
    "search_fetch": (True, ("domain", "field_names", "offset", "limit", "order")),
    "name_search": (True, ("name", "domain", "operator", "limit")),
    "name_create": (True, ("name",)),
    "create": (True, ("vals_list",)),
    "fields_get": (True, ("allfields", "attributes")),
    "default_get": (True, ("fields",)),
    "context_get": (True, ()),
    "load": (True, ("fields", "data")),
    "read": (False, ("fields", "load")),
    "write": (False, ("vals",)),
    "unlink": (False, ()),
    "copy": (False, ("default",)),
    "action_feedback": (False, ("feedback", "attachment_ids")),
}


def _is_ids(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, list | tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


def named_arguments(model: str, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-2 body for an ``execute_kw``-style call."""
    body: dict[str, Any] = dict(kwargs)
    rest = list(args)
    is_model_method, names = _SIGNATURES.get(method, (not (rest and _is_ids(rest[0])), ()))
    if not is_model_method:
        if not rest:
            raise InvalidRequest(f"{model}.{method}: the record ids are missing", model=model, method=method)
        ids = rest.pop(0)
        body["ids"] = [ids] if isinstance(ids, int) else list(ids)
    if len(rest) > len(names):
        raise InvalidRequest(
            f"{model}.{method}: JSON-2 takes named arguments only; pass the arguments after the record ids as keywords",
            model=model,
            method=method,
        )
    for name, value in zip(names, rest, strict=False):  # trailing arguments may be left out
        if name in body:
            raise InvalidRequest(f"{model}.{method}: argument {name!r} given twice", model=model, method=method)
        body[name] = value
    return body


class Json2Transport(Transport):
    protocol = "json2"

    def login(self, db: str, login: str, secret: str) -> int:
        context = self._post(db, secret, "res.users", "context_get", {})
        try:
            return int(context["uid"])
        except (KeyError, TypeError, ValueError):
            raise OdooServerError(
                "res.users.context_get did not return the user id", model="res.users", method="context_get"
            ) from None

    def execute_kw(
        self,
        db: str,
        uid: int,
        secret: str,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> Any:
        return self._post(db, secret, model, method, named_arguments(model, method, args, kwargs))

    def version(self) -> dict[str, Any]:
        answer = self.channel.request("GET", "/web/version")
        if answer.status != 200:
            raise error_from_http_response(answer.status, answer.headers, answer.body, db=self.config.db, json2=True)
        info = self._decode(answer.body)
        return {"server_version": info.get("version"), "server_version_info": info.get("version_info")}

    def _post(self, db: str, secret: str, model: str, method: str, body: Mapping[str, Any]) -> Any:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"bearer {secret}",
            "X-Odoo-Database": db,
        }
        answer = self.channel.request(
            "POST",
            f"/json/2/{model}/{method}",
            content=json.dumps(body).encode(),
            headers=headers,
            model=model,
            method=method,
        )
        if answer.status != 200:
            raise error_from_http_response(
                answer.status, answer.headers, answer.body, db=db, json2=True, model=model, method=method
            )
        return self._decode(answer.body, model=model, method=method)

    @staticmethod
    def _decode(body: bytes, *, model: str | None = None, method: str | None = None) -> Any:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise OdooServerError(
                f"JSON-2 answered something that is not JSON ({len(body)} bytes)", model=model, method=method
            ) from None

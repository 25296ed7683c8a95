"""JSON-RPC (``POST /jsonrpc``, services ``common`` and ``object``), Odoo 8 to 19.

Odoo answers HTTP 200 for its own errors and puts them in the ``error`` member
(``odoo/http.py`` ``JsonRPCDispatcher``); statuses other than 200 come from whatever sits
in front of Odoo (429, 502, ...). A wrong login is not an error on this protocol:
``common.login`` returns ``False``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from odoosync.exceptions import OdooServerError
from odoosync.odoo.errors import error_from_http_response, error_from_jsonrpc, login_rejected
from odoosync.odoo.transport import Transport

__all__ = ["JsonRpcTransport"]

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class JsonRpcTransport(Transport):
    protocol = "jsonrpc"

    _ids = itertools.count(1)

    def login(self, db: str, login: str, secret: str) -> int:
        uid = self._call("common", "login", [db, login, secret])
        if not uid:
            raise login_rejected(db, login)
        return int(uid)

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
        return self._call(
            "object", "execute_kw", [db, uid, secret, model, method, list(args), dict(kwargs)], model=model, method=method
        )

    def version(self) -> dict:
        return dict(self._call("common", "version", []))

    def _call(self, service: str, rpc_method: str, args: list, *, model: str | None = None, method: str | None = None) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": rpc_method, "args": args},
            "id": next(self._ids),
        }
        answer = self.channel.request(
            "POST", "/jsonrpc", content=json.dumps(payload).encode(), headers=_HEADERS, model=model, method=method
        )
        if answer.status != 200:
            raise error_from_http_response(answer.status, answer.headers, answer.body, db=self.config.db, model=model, method=method)
        try:
            body = json.loads(answer.body)
        except (ValueError, UnicodeDecodeError):
            raise OdooServerError(f"/jsonrpc answered something that is not JSON ({len(answer.body)} bytes)", model=model, method=method) from None
        if not isinstance(body, dict):
            raise OdooServerError("/jsonrpc answered JSON that is not a JSON-RPC response", model=model, method=method)
        if body.get("error") is not None:
            raise error_from_jsonrpc(body["error"], model=model, method=method)
        return body.get("result")

"""JSON-RPC (``POST /jsonrpc``, services ``common`` and ``object``), Odoo 8 to 19.

Odoo answers HTTP 200 for its own errors and puts them in the ``error`` member
(``odoo/http.py`` ``JsonRPCDispatcher``); statuses other than 200 come from whatever sits
in front of Odoo (429, 502, ...). A wrong login is not an error on this protocol:
``common.login`` returns ``False``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

from odoosync.exceptions import OdooServerError
from odoosync.odoo.errors import error_from_http_response, error_from_jsonrpc
from odoosync.odoo.transport import ServiceTransport

__all__ = ["JsonRpcTransport"]

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class JsonRpcTransport(ServiceTransport):
    protocol = "jsonrpc"

    _ids = itertools.count(1)

    def version(self) -> dict[str, Any]:
        return dict(self._call("common", "version", []))

    def _call(
        self, service: str, rpc_method: str, args: Sequence[Any], *, model: str | None = None, method: str | None = None
    ) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": rpc_method, "args": list(args)},
            "id": next(self._ids),
        }
        answer = self.channel.request(
            "POST", "/jsonrpc", content=json.dumps(payload).encode(), headers=_HEADERS, model=model, method=method
        )
        if answer.status != 200:
            raise error_from_http_response(
                answer.status, answer.headers, answer.body, db=self.config.db, model=model, method=method
            )
        try:
            body = json.loads(answer.body)
        except (ValueError, UnicodeDecodeError):
            raise OdooServerError(
                f"/jsonrpc answered something that is not JSON ({len(answer.body)} bytes)", model=model, method=method
            ) from None
        if not isinstance(body, dict):
            raise OdooServerError("/jsonrpc answered JSON that is not a JSON-RPC response", model=model, method=method)
        if body.get("error") is not None:
            raise error_from_jsonrpc(body["error"], model=model, method=method)
        return body.get("result")

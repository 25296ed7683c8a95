"""XML-RPC (``POST /xmlrpc/2/common`` and ``/xmlrpc/2/object``), Odoo 8 to 19.

Encoded and decoded with the standard library's ``xmlrpc.client`` ``dumps``/``loads`` but
sent over the backend's shared httpx channel, so pooling, timeouts, the concurrency limit
and the counters are the same as for the other protocols. Odoo reports errors as faults
with integer codes (``/xmlrpc/2``), translated in ``odoosync.odoo.errors``.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Sequence
from typing import Any
from xml.parsers.expat import ExpatError

from odoosync.exceptions import InvalidRequest, OdooServerError
from odoosync.odoo.errors import error_from_http_response, error_from_xmlrpc_fault
from odoosync.odoo.transport import ServiceTransport

__all__ = ["XmlRpcTransport"]

_HEADERS = {"Content-Type": "text/xml"}


class XmlRpcTransport(ServiceTransport):
    protocol = "xmlrpc"

    def version(self) -> dict[str, Any]:
        return dict(self._call("common", "version", ()))

    def _call(
        self,
        service: str,
        rpc_method: str,
        params: Sequence[Any],
        *,
        model: str | None = None,
        method: str | None = None,
    ) -> Any:
        try:
            body = xmlrpc.client.dumps(tuple(params), rpc_method, allow_none=True).encode("utf-8")
        except (TypeError, OverflowError) as exc:
            raise InvalidRequest(f"cannot encode the call as XML-RPC: {exc}", model=model, method=method) from None
        answer = self.channel.request(
            "POST", f"/xmlrpc/2/{service}", content=body, headers=_HEADERS, model=model, method=method
        )
        if answer.status != 200:
            raise error_from_http_response(
                answer.status, answer.headers, answer.body, db=self.config.db, model=model, method=method
            )
        try:
            (result,), _ = xmlrpc.client.loads(answer.body, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            raise error_from_xmlrpc_fault(fault, model=model, method=method) from None
        except (ExpatError, ValueError, xmlrpc.client.ResponseError):
            raise OdooServerError(
                f"/xmlrpc/2/{service} answered something that is not XML-RPC", model=model, method=method
            ) from None
        return result

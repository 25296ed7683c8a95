"""The one small interface every Odoo wire protocol implements, and the choice of one.

A transport encodes a call, sends it over the backend's shared ``HttpChannel`` and
translates Odoo's answer (result or error) into Python values or our exceptions. It
holds no policy: retries, re-authentication, context and normalisation belong to
``OdooClient``. ``execute_kw`` takes Odoo's RPC calling convention (positional ``args``
with the record ids first for record methods, keyword ``kwargs`` including ``context``)
whatever the protocol, so the three are interchangeable.

``make_transport`` picks one: ``auto`` asks ``/web/version`` (Odoo 19+ answers it) and
uses JSON-2 when the server is 19 or later and an API key is configured, else JSON-RPC.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from odoosync.exceptions import ConfigError, OdooError
from odoosync.odoo.channel import HttpChannel
from odoosync.odoo.config import OdooConfig
from odoosync.odoo.errors import login_rejected
from odoosync.odoo.stats import ClientStats

__all__ = ["Transport", "ServiceTransport", "make_transport", "server_major_version"]


class Transport(ABC):
    """Send calls to one Odoo backend in one wire protocol."""

    protocol: ClassVar[str]

    def __init__(self, config: OdooConfig, channel: HttpChannel):
        self.config = config
        self.channel = channel

    @property
    def stats(self) -> ClientStats:
        return self.channel.stats

    @abstractmethod
    def login(self, db: str, login: str, secret: str) -> int:
        """Check the credentials and return the user id (AuthenticationError if refused)."""

    @abstractmethod
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
        """Call ``model.method(*args, **kwargs)`` as Odoo's ``execute_kw`` would."""

    @abstractmethod
    def version(self) -> dict[str, Any]:
        """``{"server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""], ...}``."""

    def close(self) -> None:
        self.channel.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.channel.base_url!r}, db={self.config.db!r})"


class ServiceTransport(Transport):
    """The two protocols that name an RPC service and method (JSON-RPC, XML-RPC).

    They differ only in how one ``service.rpc_method(*params)`` call is encoded, which
    each implements in ``_call``; login and ``execute_kw`` are the same for both.
    """

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
        params = [db, uid, secret, model, method, list(args), dict(kwargs)]
        return self._call("object", "execute_kw", params, model=model, method=method)

    @abstractmethod
    def _call(
        self,
        service: str,
        rpc_method: str,
        params: Sequence[Any],
        *,
        model: str | None = None,
        method: str | None = None,
    ) -> Any:
        """Send one RPC call and return its result (errors translated to exceptions.py)."""


def server_major_version(channel: HttpChannel) -> int | None:
    """The major version ``/web/version`` reports (Odoo 19+), or None if it does not answer."""
    answer = channel.request("GET", "/web/version")
    if answer.status != 200:
        return None
    try:
        info = json.loads(answer.body).get("version_info")
        return int(info[0])
    except (ValueError, TypeError, AttributeError, IndexError):
        return None


def make_transport(config: OdooConfig, *, stats: ClientStats | None = None) -> Transport:
    """The transport ``config.protocol`` names; ``auto`` probes the server (network I/O)."""
    from odoosync.odoo.json2 import Json2Transport
    from odoosync.odoo.jsonrpc import JsonRpcTransport
    from odoosync.odoo.xmlrpc import XmlRpcTransport

    by_name: dict[str, type[Transport]] = {
        "jsonrpc": JsonRpcTransport,
        "xmlrpc": XmlRpcTransport,
        "json2": Json2Transport,
    }
    if config.protocol not in (*by_name, "auto"):
        raise ConfigError(f"unknown Odoo protocol {config.protocol!r}: use auto, jsonrpc, xmlrpc or json2")
    if config.protocol == "json2" and not config.api_key and config.secret_source is None:
        raise ConfigError("the json2 protocol needs an API key: set ODOO_API_KEY")
    channel = HttpChannel(config, stats)
    try:
        if config.protocol != "auto":
            return by_name[config.protocol](config, channel)
        major = server_major_version(channel)
        chosen = Json2Transport if (major is not None and major >= 19 and config.api_key) else JsonRpcTransport
        return chosen(config, channel)
    except OdooError:
        channel.close()
        raise

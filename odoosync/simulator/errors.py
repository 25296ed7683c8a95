"""The exceptions the simulated Odoo raises, named and shaped like Odoo's own.

The server turns each into the wire shape of the protocol in use: the JSON-RPC
``error.data`` object (``name`` is ``odoo_name``), an XML-RPC fault (``fault_code`` as
Odoo 17's ``xmlrpc_handle_exception_int``), or a JSON-2 HTTP status (``http_status`` as
Odoo 19's ``odoo.exceptions``) with the same JSON body.
"""

from __future__ import annotations

__all__ = [
    "OdooException",
    "UserError",
    "AccessDenied",
    "AccessError",
    "MissingError",
    "ValidationError",
    "InvalidValue",
    "UnknownModel",
    "PythonError",
    "NotFound",
    "UnprocessableEntity",
    "Unauthorized",
]

FAULT_APPLICATION_ERROR = 1
FAULT_WARNING = 2
FAULT_ACCESS_DENIED = 3
FAULT_ACCESS_ERROR = 4


class OdooException(Exception):
    """Base: an error Odoo would report to the caller."""

    odoo_name = "builtins.Exception"
    http_status = 500
    fault_code = FAULT_APPLICATION_ERROR

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class UserError(OdooException):
    odoo_name = "odoo.exceptions.UserError"
    http_status = 422
    fault_code = FAULT_WARNING


class AccessDenied(UserError):
    """Wrong login, password or API key."""

    odoo_name = "odoo.exceptions.AccessDenied"
    http_status = 403
    fault_code = FAULT_ACCESS_DENIED

    def __init__(self, message: str = "Access Denied"):
        super().__init__(message)


class AccessError(UserError):
    odoo_name = "odoo.exceptions.AccessError"
    http_status = 403
    fault_code = FAULT_ACCESS_ERROR


class MissingError(UserError):
    odoo_name = "odoo.exceptions.MissingError"
    http_status = 404


class ValidationError(UserError):
    odoo_name = "odoo.exceptions.ValidationError"


class InvalidValue(OdooException):
    """Odoo's ``ValueError``: invalid field, malformed domain, bad value."""

    odoo_name = "builtins.ValueError"


class UnknownModel(UserError):
    """RPC on a model that does not exist: Odoo 17's ``execute_cr`` raises
    ``UserError("Object x doesn't exist")``."""


class PythonError(OdooException):
    """A plain Python exception inside Odoo (TypeError, AttributeError, ...)."""

    def __init__(self, message: str, odoo_name: str):
        super().__init__(message)
        self.odoo_name = odoo_name


class NotFound(OdooException):
    """JSON-2: werkzeug's 404 (unknown model or method)."""

    odoo_name = "werkzeug.exceptions.NotFound"
    http_status = 404


class UnprocessableEntity(OdooException):
    """JSON-2: werkzeug's 422 (arguments do not fit the method's signature)."""

    odoo_name = "werkzeug.exceptions.UnprocessableEntity"
    http_status = 422


class Unauthorized(OdooException):
    """JSON-2: werkzeug's 401 (missing or invalid bearer API key)."""

    odoo_name = "werkzeug.exceptions.Unauthorized"
    http_status = 401

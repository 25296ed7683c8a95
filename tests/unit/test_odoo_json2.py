"""JSON-2 bodies: Odoo's RPC-style positional arguments mapped to Odoo 19's named ones."""

from __future__ import annotations

import pytest

from odoosync.exceptions import InvalidRequest
from odoosync.odoo.json2 import named_arguments


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "body"),
    [
        (
            "search_read",
            [[["id", ">", 5]], ["name"]],
            {"limit": 10, "context": {"active_test": False}},
            {"domain": [["id", ">", 5]], "fields": ["name"], "limit": 10, "context": {"active_test": False}},
        ),
        ("search", [[], 0, 5, "id"], {}, {"domain": [], "offset": 0, "limit": 5, "order": "id"}),
        ("search_count", [[["active", "=", False]]], {}, {"domain": [["active", "=", False]]}),
        ("create", [[{"name": "a"}, {"name": "b"}]], {}, {"vals_list": [{"name": "a"}, {"name": "b"}]}),
        ("fields_get", [], {"attributes": ["type"]}, {"attributes": ["type"]}),
        ("read", [[1, 2], ["name"]], {}, {"ids": [1, 2], "fields": ["name"]}),
        ("write", [[3], {"name": "x"}], {}, {"ids": [3], "vals": {"name": "x"}}),
        ("unlink", [[4, 5]], {}, {"ids": [4, 5]}),
        ("load", [["id", "name"], [["x.y", "n"]]], {}, {"fields": ["id", "name"], "data": [["x.y", "n"]]}),
        ("action_feedback", [[7]], {"feedback": "done"}, {"ids": [7], "feedback": "done"}),
        ("message_post", [[8]], {"body": "hi"}, {"ids": [8], "body": "hi"}),
        ("message_post", [8], {"body": "hi"}, {"ids": [8], "body": "hi"}),
        ("action_archive", [[9, 10]], {}, {"ids": [9, 10]}),
        ("some_model_method", [], {"x": 1}, {"x": 1}),
    ],
)
def test_positional_arguments_become_named(method, args, kwargs, body):
    assert named_arguments("crm.lead", method, args, kwargs) == body


def test_extra_positional_arguments_of_an_unknown_method_are_refused():
    with pytest.raises(InvalidRequest, match="named arguments"):
        named_arguments("crm.lead", "message_post", [[1], "body text"], {})
    with pytest.raises(InvalidRequest, match="named arguments"):
        named_arguments("crm.lead", "odd_model_method", ["not ids"], {})


def test_an_argument_given_twice_is_refused():
    with pytest.raises(InvalidRequest, match="given twice"):
        named_arguments("crm.lead", "search", [[]], {"domain": []})


def test_record_methods_need_ids():
    with pytest.raises(InvalidRequest, match="ids are missing"):
        named_arguments("crm.lead", "write", [], {})

"""Stream catalogue and pull configuration: validated up front, every problem at once."""

from __future__ import annotations

import pytest

from odoosync.exceptions import ConfigError, OdooTransportError, OdooValidationError
from odoosync.streams.base import Stream
from odoosync.streams.registry import (
    check_against_odoo,
    parse_pull_config,
    parse_pull_config_rows,
    select_streams,
    stream_catalog,
    validate_domain,
)

BUILTIN_ORDER = [
    "stages",
    "users",
    "teams",
    "tags",
    "lost_reasons",
    "activity_types",
    "partners",
    "leads",
    "chatter",
    "activities",
]


def test_all_runs_reference_data_then_partners_then_leads() -> None:
    names = [s.name for s in select_streams("all", stream_catalog())]
    assert names[: len(BUILTIN_ORDER)] == BUILTIN_ORDER  # what hangs off leads comes after


def test_streams_are_found_by_name_or_model() -> None:
    catalog = stream_catalog()
    assert select_streams("leads", catalog)[0].model == "crm.lead"
    assert select_streams("crm.lost.reason", catalog)[0].name == "lost_reasons"


def test_unknown_stream_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown stream 'lead'.*leads"):
        select_streams("lead", stream_catalog())


def test_config_adds_generic_streams_and_narrows_builtin_ones() -> None:
    configs = parse_pull_config(
        {
            "odoo_to_sb:res.partner": {"domain": [["is_company", "=", True]], "page_size": 50},
            "odoo_to_sb:product.template": {"fields": ["name", "list_price"]},
            "sb_to_odoo:res.partner": {"max_batch": 5},
        }
    )
    catalog = stream_catalog(configs)
    partners = select_streams("partners", catalog)[0]
    assert partners.domain == (("is_company", "=", True),)
    assert partners.page_size == 50
    product = select_streams("product.template", catalog)[0]
    assert product.target.table.name == "odoo_records"
    assert product.read_fields({"name": "char", "list_price": "float"}) == ["id", "write_date", "name", "list_price"]
    assert [s.name for s in catalog][-1] == "product.template"


def test_generic_stream_without_fields_reads_every_plain_field() -> None:
    (stream,) = [s for s in stream_catalog(parse_pull_config({"odoo_to_sb:x.y": {}})) if s.model == "x.y"]
    available = {"id": "integer", "name": "char", "image": "binary", "line_ids": "one2many", "write_date": "datetime"}
    assert stream.read_fields(available) == ["id", "write_date", "name"]


def test_every_config_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_pull_config(
            {
                "odoo_to_sb:crm.lead": {"domain": [["stage_id", "~~", 3]], "page_size": 0},
                "odoo_to_sb:res.partner": {"fields": "name"},
                "odoo_to_sb:x": [1],
            }
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert any("unknown operator '~~'" in p for p in problems)
    assert any("page_size" in p for p in problems)
    assert any("fields must be a list" in p for p in problems)
    assert any("JSON object" in p for p in problems)


@pytest.mark.parametrize(
    ("domain", "problem"),
    [
        ("is_company = True", "must be a list"),
        ([["a", "="]], "triple"),
        (["|", ["a", "=", 1]], "lacks its operands"),
        (["&&", ["a", "=", 1]], "is not '&'"),
        ([[1, "=", 1]], "not a string"),
    ],
)
def test_malformed_domains(domain: object, problem: str) -> None:
    assert any(problem in p for p in validate_domain(domain))


@pytest.mark.parametrize(
    "domain",
    [
        [],
        [["a", "=", 1], ["b", "in", [1, 2]]],
        ["|", ["a", "=", 1], "!", ["b", "ilike", "x"]],
        ["&", "|", ("a", "=", 1), ("b", "=", 2), ("c", "!=", False)],
    ],
)
def test_wellformed_domains(domain: list) -> None:
    assert validate_domain(domain) == []


def test_required_fields_missing_on_the_server_are_named() -> None:
    stream = select_streams("leads", stream_catalog())[0]
    assert isinstance(stream, Stream)
    available = {f: "char" for f in ("id", *stream.fields) if f != "tag_ids"}
    assert stream.missing_fields(available) == ["tag_ids"]
    # optional fields the server lacks are simply not read
    assert "mobile" not in stream.read_fields(available)


def test_each_stream_comes_after_what_its_mapping_looks_up() -> None:
    catalog = stream_catalog()
    position = {s.name: i for i, s in enumerate(catalog)}
    by_name = {s.name: s for s in catalog}
    assert set(by_name["leads"].after) == {"stages", "tags", "partners"}
    for stream in catalog:
        assert all(position[d] < position[stream.name] for d in stream.after), stream.name


def test_a_bad_row_disables_only_its_own_stream() -> None:
    configs, disabled = parse_pull_config_rows(
        {
            "odoo_to_sb:bad name": {},
            "odoo_to_sb:res.users": {"domain": [["share", "~~", 1]]},
            "odoo_to_sb:crm.lead": {"page_size": 50},
            "odoo_to_sb:x_studio_thing": {"fields": ["x_name"]},
        }
    )
    assert set(configs) == {"crm.lead", "x_studio_thing"}
    assert set(disabled) == {"odoo_to_sb:bad name", "odoo_to_sb:res.users"}
    assert "not a model name" in disabled["odoo_to_sb:bad name"][0]
    catalog = stream_catalog(configs, disabled=["res.users"])
    names = [s.name for s in catalog]
    assert "users" not in names and {"leads", "stages", "x_studio_thing"} <= set(names)
    assert select_streams("leads", catalog, disabled)[0].page_size == 50
    with pytest.raises(ConfigError, match=r"stream 'users' is disabled.*unknown operator"):
        select_streams("users", catalog, disabled)
    with pytest.raises(ConfigError, match="disabled"):
        select_streams("res.users", catalog, disabled)


def test_field_names_odoo_does_not_know_are_named_and_an_outage_disables_nothing() -> None:

    configs = parse_pull_config(
        {
            "odoo_to_sb:res.users": {"domain": [["no_such_field", "=", 1]]},
            "odoo_to_sb:crm.lead": {"domain": [["stage_id.name", "=", "New"]], "fields": ["name"]},
            "odoo_to_sb:x_gone": {"fields": ["x_a"]},
        }
    )
    known = {"res.users": {"name": {}}, "crm.lead": {"name": {}, "stage_id": {}}}

    def fields_of(model: str) -> dict:
        if model not in known:
            raise OdooValidationError(f"Object {model} doesn't exist")
        return known[model]

    bad = check_against_odoo(configs, fields_of)
    assert bad == {
        "odoo_to_sb:res.users": ["sync config 'odoo_to_sb:res.users': res.users has no field(s) no_such_field"],
        "odoo_to_sb:x_gone": ["sync config 'odoo_to_sb:x_gone': Odoo does not serve 'x_gone' (OdooValidationError)"],
    }

    def down(model: str) -> dict:
        raise OdooTransportError("connection refused")

    with pytest.raises(OdooTransportError):
        check_against_odoo(configs, down)

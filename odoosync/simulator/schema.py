"""The models the simulator knows: Odoo 17's field names, types, labels and orders.

Only the fields odoosync (and a typical integration script) touches are declared, with
the names, types and ``fields_get`` attributes Odoo 17 uses (checked against
``addons/crm``, ``addons/mail`` and ``base``; Odoo 18 has the same ones). Every model also
gets Odoo's magic fields ``id``, ``display_name``, ``create_date``, ``write_date``,
``create_uid`` and ``write_uid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Field", "ModelSpec", "MODELS", "PRIORITIES", "MESSAGE_TYPES", "REMOVED_FIELDS", "ADDED_FIELDS", "spec_for"]

PRIORITIES = (("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High"))
MESSAGE_TYPES = (
    ("email", "Incoming Email"),
    ("comment", "Comment"),
    ("email_outgoing", "Outgoing Email"),
    ("notification", "System notification"),
    ("auto_comment", "Automated Targeted Notification"),
    ("user_notification", "User Specific Notification"),
)


@dataclass(frozen=True)
class Field:
    """One field: its Odoo type and the attributes ``fields_get`` reports."""

    name: str
    type: str
    string: str
    relation: str | None = None
    required: bool = False
    readonly: bool = False
    selection: tuple[tuple[str, str], ...] | None = None
    default: Any = None
    inverse: str | None = None  # one2many: the many2one (or res_id) field on the comodel
    tracking: bool = False
    store: bool = True
    help: str | None = None
    domain: tuple[Any, ...] = ()  # x2many: the field's domain on the comodel
    model_field: str | None = None  # many2one_reference: the field holding the model name
    active_test: bool | None = None  # x2many: the field's context (Odoo 18+ only)
    auto_join: bool = False  # domains follow it without the comodel's record rules
    depends: tuple[str, ...] = ()  # computed and stored: what it is computed from

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default

    @property
    def comodel(self) -> str:
        """The model a relational field points to."""
        if self.relation is None:
            raise ValueError(f"{self.name} ({self.type}) is not a relational field")
        return self.relation


@dataclass(frozen=True)
class ModelSpec:
    """One model: name, label, default order, which field names it, and its fields."""

    name: str
    description: str
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    company_rule: bool = False  # record rule: company_id in allowed companies (or empty)


def _char(name: str, string: str, **kw: Any) -> Field:
    return Field(name, "char", string, **kw)


def _m2o(name: str, relation: str, string: str, **kw: Any) -> Field:
    return Field(name, "many2one", string, relation=relation, **kw)


def _m2m(name: str, relation: str, string: str, **kw: Any) -> Field:
    return Field(name, "many2many", string, relation=relation, **kw)


def _o2m(name: str, relation: str, inverse: str, string: str, **kw: Any) -> Field:
    return Field(name, "one2many", string, relation=relation, inverse=inverse, **kw)


def _bool(name: str, string: str, default: bool = False, **kw: Any) -> Field:
    return Field(name, "boolean", string, default=default, **kw)


def _sel(name: str, string: str, selection: tuple[tuple[str, str], ...], **kw: Any) -> Field:
    return Field(name, "selection", string, selection=selection, **kw)


def _model(
    name: str,
    description: str,
    fields: list[Field],
    *,
    order: str = "id",
    rec_name: str = "name",
    company_rule: bool = False,
) -> ModelSpec:
    magic = [
        Field("id", "integer", "ID", readonly=True),
        Field("display_name", "char", "Display Name", readonly=True, store=False),
        Field("create_date", "datetime", "Created on", readonly=True),
        Field("write_date", "datetime", "Last Updated on", readonly=True),
        _m2o("create_uid", "res.users", "Created by", readonly=True),
        _m2o("write_uid", "res.users", "Last Updated by", readonly=True),
    ]
    return ModelSpec(
        name,
        description,
        {f.name: f for f in [*fields, *magic]},
        order=order,
        rec_name=rec_name,
        company_rule=company_rule,
    )


_ACTIVE = _bool("active", "Active", default=True)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        _model(
            "res.company",
            "Companies",
            [
                _char("name", "Company Name", required=True),
                _m2o("partner_id", "res.partner", "Partner"),
                _m2o("parent_id", "res.company", "Parent Company"),
                _char("email", "Email"),
                _char("phone", "Phone"),
                Field("sequence", "integer", "Sequence", default=10),
                _ACTIVE,
            ],
            order="sequence, name",
        ),
        _model(
            "res.partner",
            "Contact",
            [
                _char("name", "Name"),
                _char(
                    "complete_name",
                    "Complete Name",
                    readonly=True,
                    depends=("is_company", "name", "parent_id.name", "type", "company_name", "commercial_company_name"),
                ),
                _char("email", "Email"),
                _char("phone", "Phone"),
                _char("mobile", "Mobile"),
                _bool("is_company", "Is a Company"),
                _m2o("parent_id", "res.partner", "Related Company"),
                # Odoo 18 added context={'active_test': False}; the domain is in 17 too
                _o2m(
                    "child_ids",
                    "res.partner",
                    "parent_id",
                    "Contact",
                    domain=(("active", "=", True),),
                    active_test=False,
                ),
                _m2o(
                    "commercial_partner_id",
                    "res.partner",
                    "Commercial Entity",
                    readonly=True,
                    depends=("is_company", "parent_id.commercial_partner_id"),
                ),
                _char(
                    "commercial_company_name",
                    "Company Name Entity",
                    readonly=True,
                    depends=("company_name", "parent_id.is_company", "commercial_partner_id.name"),
                ),
                _char("company_name", "Company Name"),
                _m2o("company_id", "res.company", "Company"),
                _m2o("user_id", "res.users", "Salesperson"),
                _sel(
                    "type",
                    "Address Type",
                    (
                        ("contact", "Contact"),
                        ("invoice", "Invoice Address"),
                        ("delivery", "Delivery Address"),
                        ("other", "Other Address"),
                    ),
                    default="contact",
                ),
                _char("function", "Job Position"),
                _char("street", "Street"),
                _char("city", "City"),
                _char("zip", "Zip"),
                _char("website", "Website Link"),
                _char("ref", "Reference"),
                _char("lang", "Language"),
                _ACTIVE,
            ],
            order="complete_name, id desc",
            rec_name="complete_name",
            company_rule=True,
        ),
        _model(
            "res.users",
            "User",
            [
                _char("name", "Name", required=True),
                _char("login", "Login", required=True),
                _char("email", "Email"),
                _m2o("partner_id", "res.partner", "Related Partner", required=True, auto_join=True),
                _m2o("company_id", "res.company", "Company", required=True),
                _m2m("company_ids", "res.company", "Companies"),
                _bool("share", "Share User"),
                _char("lang", "Language", default="en_US"),
                _char("tz", "Timezone"),
                _ACTIVE,
            ],
            order="name, login",
        ),
        _model(
            "crm.stage",
            "CRM Stages",
            [
                _char("name", "Stage Name", required=True),
                Field("sequence", "integer", "Sequence", default=1),
                _bool("is_won", "Is Won Stage?"),
                _bool("fold", "Folded in Pipeline"),
                Field("requirements", "text", "Requirements"),
                _m2o("team_id", "crm.team", "Sales Team"),
            ],
            order="sequence, name, id",
        ),
        _model(
            "crm.team",
            "Sales Team",
            [
                _char("name", "Sales Team", required=True),
                Field("sequence", "integer", "Sequence", default=10),
                _m2o("company_id", "res.company", "Company"),
                _m2o("user_id", "res.users", "Team Leader"),
                _m2m("member_ids", "res.users", "Salespersons"),
                _ACTIVE,
            ],
            order="sequence ASC, create_date DESC, id DESC",
            company_rule=True,
        ),
        _model(
            "crm.tag",
            "CRM Tag",
            [
                _char("name", "Tag Name", required=True),
                Field("color", "integer", "Color", default=0),
            ],
            order="name",
        ),
        _model(
            "crm.lost.reason",
            "Opp. Lost Reason",
            [
                _char("name", "Description", required=True),
                _ACTIVE,
            ],
            order="name",
        ),
        _model(
            "crm.lead",
            "Lead/Opportunity",
            [
                _char("name", "Opportunity", required=True),
                _m2o("user_id", "res.users", "Salesperson", tracking=True),
                _m2o("team_id", "crm.team", "Sales Team", tracking=True),
                _m2o("company_id", "res.company", "Company"),
                _char("referred", "Referred By"),
                Field("description", "html", "Notes"),
                Field("active", "boolean", "Active", default=True, tracking=True),
                _sel(
                    "type",
                    "Type",
                    (("lead", "Lead"), ("opportunity", "Opportunity")),
                    required=True,
                    default="opportunity",
                ),
                _sel("priority", "Priority", PRIORITIES, default="0"),
                _m2o("stage_id", "crm.stage", "Stage", tracking=True),
                _m2m("tag_ids", "crm.tag", "Tags"),
                Field("color", "integer", "Color Index", default=0),
                Field("expected_revenue", "monetary", "Expected Revenue", default=0.0, tracking=True),
                Field("prorated_revenue", "monetary", "Prorated Revenue", readonly=True, default=0.0),
                Field("date_closed", "datetime", "Closed Date", readonly=True),
                Field("date_open", "datetime", "Assignment Date", readonly=True),
                Field("date_last_stage_update", "datetime", "Last Stage Update"),
                Field("date_deadline", "date", "Expected Closing"),
                _m2o("partner_id", "res.partner", "Customer", tracking=True),
                _char("contact_name", "Contact Name"),
                _char("partner_name", "Company Name"),
                _char("function", "Job Position"),
                _char("email_from", "Email"),
                _char("phone", "Phone", tracking=True),
                _char("mobile", "Mobile"),
                _char("website", "Website"),
                _char("street", "Street"),
                _char("zip", "Zip"),
                _char("city", "City"),
                Field("probability", "float", "Probability", default=10.0),
                _m2o("lost_reason_id", "crm.lost.reason", "Lost Reason", tracking=True),
                _o2m("activity_ids", "mail.activity", "res_id", "Activities", auto_join=True),
                _o2m(
                    "message_ids",
                    "mail.message",
                    "res_id",
                    "Messages",
                    auto_join=True,
                    domain=(("message_type", "!=", "user_notification"),),
                ),
            ],
            order="priority desc, id desc",
            company_rule=True,
        ),
        _model(
            "mail.message.subtype",
            "Message subtypes",
            [
                _char("name", "Message Type", required=True),
                Field("description", "text", "Description"),
                _bool("internal", "Internal Only"),
                _char("res_model", "Model"),
                _bool("default", "Default", default=True),
                Field("sequence", "integer", "Sequence", default=1),
                _bool("hidden", "Hidden"),
            ],
            order="sequence, id",
        ),
        _model(
            "mail.message",
            "Message",
            [
                _char("subject", "Subject"),
                Field("date", "datetime", "Date"),
                Field("body", "html", "Contents", default=""),
                _char("model", "Related Document Model"),
                Field("res_id", "many2one_reference", "Related Document ID", model_field="model"),
                _char("record_name", "Message Record Name", readonly=True),
                _sel("message_type", "Type", MESSAGE_TYPES, required=True, default="comment"),
                _m2o("subtype_id", "mail.message.subtype", "Subtype"),
                _bool("is_internal", "Employee Only"),
                _m2o("author_id", "res.partner", "Author"),
                _char("email_from", "From"),
                _m2o("parent_id", "mail.message", "Parent Message"),
                _m2m("partner_ids", "res.partner", "Recipients"),
                _m2o("mail_activity_type_id", "mail.activity.type", "Mail Activity Type"),
                _char("message_id", "Message-Id"),
                _o2m("tracking_value_ids", "mail.tracking.value", "mail_message_id", "Tracking values"),
            ],
            order="id desc",
            rec_name="record_name",
        ),
        _model(
            "ir.model.fields",
            "Fields",
            [
                _char("name", "Field Name", required=True),
                _char("model", "Model Name", required=True),
                _char("field_description", "Field Label", required=True),
                _char("ttype", "Field Type", required=True),
            ],
            rec_name="field_description",
        ),
        _model(
            "mail.tracking.value",
            "Mail Tracking Value",
            [
                _m2o("field_id", "ir.model.fields", "Field", readonly=True),
                Field("old_value_integer", "integer", "Old Value Integer", readonly=True, default=0),
                Field("old_value_float", "float", "Old Value Float", readonly=True, default=0.0),
                _char("old_value_char", "Old Value Char", readonly=True),
                Field("old_value_text", "text", "Old Value Text", readonly=True),
                Field("old_value_datetime", "datetime", "Old Value DateTime", readonly=True),
                Field("new_value_integer", "integer", "New Value Integer", readonly=True, default=0),
                Field("new_value_float", "float", "New Value Float", readonly=True, default=0.0),
                _char("new_value_char", "New Value Char", readonly=True),
                Field("new_value_text", "text", "New Value Text", readonly=True),
                Field("new_value_datetime", "datetime", "New Value Datetime", readonly=True),
                _m2o("mail_message_id", "mail.message", "Message ID", required=True),
            ],
            order="id DESC",
            rec_name="field_id",
        ),
        _model(
            "mail.activity.type",
            "Activity Type",
            [
                _char("name", "Name", required=True),
                _char("summary", "Default Summary"),
                Field("sequence", "integer", "Sequence", default=10),
                _ACTIVE,
                Field("delay_count", "integer", "Schedule", default=0),
                _char("icon", "Icon"),
                _sel(
                    "category",
                    "Action",
                    (
                        ("default", "None"),
                        ("upload_file", "Upload Document"),
                        ("phonecall", "Phonecall"),
                        ("meeting", "Meeting"),
                    ),
                    default="default",
                ),
                _char("res_model", "Model"),
                _bool("keep_done", "Keep Done"),
            ],
            order="sequence, id",
        ),
        _model(
            "mail.activity",
            "Activity",
            [
                _m2o("res_model_id", "ir.model", "Document Model"),
                _char("res_model", "Related Document Model"),
                Field("res_id", "many2one_reference", "Related Document ID", model_field="res_model"),
                _char("res_name", "Document Name", readonly=True),
                _m2o("activity_type_id", "mail.activity.type", "Activity Type"),
                _sel(
                    "activity_category",
                    "Action",
                    (
                        ("default", "None"),
                        ("upload_file", "Upload Document"),
                        ("phonecall", "Phonecall"),
                        ("meeting", "Meeting"),
                    ),
                    readonly=True,
                    store=False,
                ),
                _char("summary", "Summary"),
                Field("note", "html", "Note"),
                Field("date_deadline", "date", "Due Date", required=True),
                Field("date_done", "date", "Done Date", readonly=True),
                _m2o("user_id", "res.users", "Assigned to"),
                _sel(
                    "state",
                    "State",
                    (
                        ("overdue", "Overdue"),
                        ("today", "Today"),
                        ("planned", "Planned"),
                        ("done", "Done"),
                    ),
                    readonly=True,
                    store=False,
                ),
                _ACTIVE,
            ],
            order="date_deadline ASC, id ASC",
            rec_name="summary",
        ),
        _model(
            "ir.model.data",
            "Model Data",
            [
                _char("name", "External Identifier", required=True),
                _char("complete_name", "Complete ID", readonly=True),
                _char("model", "Model Name", required=True),
                _char("module", "Module", required=True, default=""),
                Field("res_id", "many2one_reference", "Record ID", model_field="model"),
                _bool("noupdate", "Non Updatable"),
            ],
            order="module, model, name",
            rec_name="complete_name",
        ),
        _model(
            "ir.model",
            "Models",
            [
                _char("name", "Model Description", required=True),
                _char("model", "Model", required=True),
            ],
            order="model",
        ),
    ]
}


REMOVED_FIELDS: dict[int, dict[str, tuple[str, ...]]] = {
    # Odoo 16 (seen on 16.0): activities are never archived; done ones are deleted.
    16: {"mail.activity": ("active", "date_done"), "mail.activity.type": ("keep_done",)},
    # Odoo 19 (seen on 19.0): every done activity is archived; phones lost their mobile.
    19: {
        "res.partner": ("mobile",),
        "crm.lead": ("mobile",),
        "mail.activity.type": ("keep_done",),
        "crm.stage": ("team_id",),
    },
}
"""Per version, the fields of 17's models that Odoo does not have: 16's apply to 16 and
earlier, 19's to 19 and later."""

ADDED_FIELDS: dict[int, dict[str, tuple[Field, ...]]] = {
    # Odoo 19: a stage belongs to any number of teams (team_ids) instead of one (team_id).
    19: {"crm.stage": (_m2m("team_ids", "crm.team", "Sales Teams"),)},
}
"""Per version (from that version on), fields Odoo has that 17's models do not."""


def spec_for(spec: ModelSpec, major: int) -> ModelSpec:
    """``spec`` as Odoo ``major`` has it (17's fields less :data:`REMOVED_FIELDS`)."""
    removed = {
        name
        for version, models in REMOVED_FIELDS.items()
        if (major <= version if version < 17 else major >= version)
        for name in models.get(spec.name, ())
    }
    added = [f for version, models in ADDED_FIELDS.items() if major >= version for f in models.get(spec.name, ())]
    if not removed and not added:
        return spec
    fields = {k: f for k, f in spec.fields.items() if k not in removed} | {f.name: f for f in added}
    return ModelSpec(spec.name, spec.description, fields, spec.order, spec.rec_name, spec.company_rule)

"""Model-specific behaviour: display names, computed fields, chatter, tracking, activities.

What Odoo 17's ``base``, ``crm`` and ``mail`` modules do on top of the generic ORM, as
far as odoosync can observe it:

* ``res.partner`` keeps its commercial entity (``commercial_partner_id``) and the names
  derived from it up to date down the hierarchy, stamping what it recomputes, and syncs
  addresses and companies to contacts (see ``Partner``);
* ``crm.lead.message_post`` creates a ``mail.message`` (plain-text bodies are escaped,
  default subtype ``mail.mt_note``) and returns its id;
* writing a tracked field of a lead (``stage_id``, ``user_id``, ``team_id``, ``active``,
  ``expected_revenue``, ``partner_id``, ``phone``, ``lost_reason_id``) posts a
  ``notification`` message with ``mail.tracking.value`` rows, with the subtype Odoo's
  ``_track_subtype`` picks (stage changed / won / lost / restored);
* ``crm.lead.action_set_lost`` archives with ``probability = 0`` (plus the given values,
  e.g. ``lost_reason_id``); ``action_set_won`` moves to the first won stage with
  ``probability = 100``;
* ``mail.activity.action_feedback`` posts the "… done" message (subtype
  ``mail.mt_activities``) on the document, then archives the activity when its type has
  ``keep_done`` and deletes it otherwise; returns the message id;
* creating a lead posts the "Opportunity Created" message (empty body) unless the
  context has ``mail_create_nolog`` or ``tracking_disable``; ``mail_notrack`` and
  ``tracking_disable`` also turn tracking off;
* deleting a lead deletes its messages and activities (``mail.thread.unlink``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from odoosync.simulator.errors import InvalidValue, UserError, ValidationError
from odoosync.simulator.records import Env, Model
from odoosync.simulator.values import ids_of

__all__ = ["model_class", "display_name", "computed_value", "escape_text", "TRACKED_LEAD_FIELDS"]

TRACKED_LEAD_FIELDS = (
    "stage_id",
    "user_id",
    "team_id",
    "active",
    "expected_revenue",
    "partner_id",
    "phone",
    "lost_reason_id",
)


def escape_text(text: str) -> str:
    """Escape a plain-text body the way ``markupsafe.escape`` does."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")
    )


def display_name(env: Env, model: str, row: Mapping[str, Any]) -> str:
    """Odoo's ``display_name`` for one stored row."""
    tables = env.database.tables
    if model == "res.partner":
        return row.get("complete_name") or row.get("name") or ""
    if model == "mail.activity":
        if row.get("summary"):
            return row["summary"]
        type_row = tables["mail.activity.type"].get(row.get("activity_type_id"))
        return type_row.get("name", "") if type_row else ""
    if model == "mail.message":
        return row.get("record_name") or row.get("subject") or ""
    if model == "mail.tracking.value":
        field_row = tables["ir.model.fields"].get(row.get("field_id"))
        return field_row.get("field_description", "") if field_row else ""
    if model == "ir.model.data":
        return f"{row.get('module', '')}.{row.get('name', '')}"
    if model == "ir.model.fields":
        return row.get("field_description") or ""
    rec_name = tables[model].spec.rec_name
    value = row.get(rec_name)
    return value if isinstance(value, str) else (f"{model},{row['id']}" if value is None else str(value))


def computed_value(model: Model, row: Mapping[str, Any], name: str) -> Any:
    """Non-stored computed fields (``mail.activity.state`` / ``activity_category``)."""
    if model.name == "mail.activity" and name == "state":
        if row.get("active") is not True:
            return "done"
        today = model.env.database.clock.now().date().isoformat()
        deadline = row.get("date_deadline") or today
        return "overdue" if deadline < today else "today" if deadline == today else "planned"
    if model.name == "mail.activity" and name == "activity_category":
        type_row = model.env.database.tables["mail.activity.type"].get(row.get("activity_type_id"))
        return (type_row or {}).get("category", "default") if type_row else False
    return False


ADDRESS_FIELDS = ("street", "zip", "city")
"""Odoo's ``ADDRESS_FIELDS`` the simulator has (no ``street2``, ``state_id``, ``country_id``)."""
_NAME_DEPENDS = frozenset({"name", "parent_id", "is_company", "type", "company_name"})
_DISPLAYED_TYPES = {"invoice": "Invoice Address", "delivery": "Delivery Address", "other": "Other Address"}


class Partner(Model):
    """``res.partner`` as Odoo 17/18's ``base`` module keeps it consistent.

    * computed, stored: ``commercial_partner_id`` (itself when a company or without
      parent, else the parent's), ``commercial_company_name`` and ``complete_name``;
      a change of ``name``, ``parent_id``, ``is_company``, ``type`` or ``company_name``
      recomputes the partner and all its descendants, and a descendant whose value
      changes gets a new ``write_date`` (Odoo writes recomputed fields with ``_write``);
    * ``_fields_sync``: setting a parent clears ``company_name`` and re-writes the
      non-company contacts below (commercial fields, so their ``write_date`` moves), a
      contact attached to a parent takes the parent's address when it has one, address
      changes are written to the children of type ``contact``, ``company_id`` to all
      children, and a company's first contact gives it its address when it has none;
    * a parent cannot be its own ancestor; deleting a partner empties its children's
      ``parent_id`` (``ondelete='set null'``);
    * ``company_id`` has no default (a new partner is shared by all companies).
    """

    def _default(self, name: str) -> Any:
        if name == "company_id" and "default_company_id" not in self.env.context:
            return None
        return super()._default(name)

    def _before_create(self, values: dict[str, Any]) -> None:
        if values.get("parent_id"):
            values["company_name"] = None

    def _after_create(self, record_id: int) -> None:
        row = self.table.rows[record_id]
        self.table.update(record_id, self._derived(row))
        self._fields_sync(record_id, set(row), created=True)

    def _before_write(self, record_id: int, values: dict[str, Any]) -> None:
        if values.get("parent_id"):
            self._check_no_cycle(record_id, values["parent_id"])
            values["company_name"] = None
        if _NAME_DEPENDS & values.keys():
            values.update(self._derived({**self.table.rows[record_id], **values}))

    def _after_write(self, record_id: int, old: Mapping[str, Any]) -> None:
        written = set(old)
        row = self.table.rows[record_id]
        if "company_id" in written:
            children = self._children(record_id, visible=True)
            if children:
                self.write(children, {"company_id": row.get("company_id") or False})
        if (_NAME_DEPENDS | {"commercial_partner_id", "commercial_company_name"}) & written:
            for child in sorted(self.table.index("parent_id").get(record_id, ())):
                self._refresh_tree(child)
        self._fields_sync(record_id, written, created=False)

    def _before_unlink(self, record_id: int) -> None:
        for child in sorted(self.table.index("parent_id").get(record_id, ())):
            self.env.journal.before_change(self.table, child)
            self.table.update(child, {"parent_id": None})
            self._refresh_tree(child)

    # -- computed fields -------------------------------------------------------------------

    def _derived(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The three computed fields of ``row`` (its current values, ``id`` included),
        from its parent's stored ones (Odoo's ``_compute_commercial_partner``,
        ``_compute_commercial_company_name``, ``_get_complete_name``)."""
        rows = self.table.rows
        parent = rows.get(row["parent_id"]) if row.get("parent_id") else None
        if row.get("is_company") or parent is None:
            commercial, entity = row["id"], row
        else:
            commercial = parent.get("commercial_partner_id") or parent["id"]
            entity = rows.get(commercial) or {}
        company_name = (entity.get("name") if entity.get("is_company") else None) or row.get("company_name")
        name = row.get("name") or ""
        if row.get("company_name") or parent is not None:
            if not name and row.get("type") in _DISPLAYED_TYPES:
                name = _DISPLAYED_TYPES[row["type"]]
            if not row.get("is_company"):  # Odoo formats a missing parent name as "False"
                name = f"{company_name or (parent or {}).get('name') or False}, {name}"
        return {
            "commercial_partner_id": commercial,
            "commercial_company_name": company_name or None,
            "complete_name": name.strip() or None,
        }

    def _refresh_tree(self, record_id: int) -> None:
        """Recompute ``record_id`` and its descendants, parents first; rows whose value
        changes are written with this call's stamp."""
        queue = [record_id]
        while queue:
            current = queue.pop(0)
            row = self.table.rows[current]
            changed = {k: v for k, v in self._derived(row).items() if row.get(k) != v}
            if changed:
                self._write_stored([current], changed)
            queue.extend(sorted(self.table.index("parent_id").get(current, ())))

    def _check_no_cycle(self, record_id: int, parent_id: int) -> None:
        seen: set[int] = set()
        current: int | None = parent_id
        while current is not None and current not in seen:
            if current == record_id:
                raise ValidationError("You cannot create recursive Partner hierarchies.")
            seen.add(current)
            current = (self.table.rows.get(current) or {}).get("parent_id")

    # -- _fields_sync ----------------------------------------------------------------------

    def _fields_sync(self, record_id: int, written: set[str], *, created: bool) -> None:
        rows = self.table.rows
        row = rows[record_id]
        parent_set = "parent_id" in written and row.get("parent_id")
        if parent_set or ("type" in written and row.get("type") == "contact"):
            if parent_set and row.get("commercial_partner_id") != record_id:
                self._rewrite_contacts_below(record_id)
            parent = rows.get(row["parent_id"]) if row.get("parent_id") else None
            if parent is not None and row.get("type") == "contact":
                address = {f: parent.get(f) for f in ADDRESS_FIELDS}
                if any(address.values()):
                    self._write_stored([record_id], address)
        if created:
            self._give_first_address(record_id)
            return
        changed_address = [f for f in ADDRESS_FIELDS if f in written]
        if changed_address:
            contacts = [c for c in self._children(record_id, visible=True) if rows[c].get("type") == "contact"]
            self._write_stored(contacts, {f: row.get(f) for f in changed_address})

    def _rewrite_contacts_below(self, record_id: int) -> None:
        """``_commercial_sync_to_children``: the non-company contacts below are written
        (their commercial fields), which stamps them even when nothing else changes."""
        contacts = [c for c in self._children(record_id, visible=False) if not self.table.rows[c].get("is_company")]
        for child in contacts:
            self._rewrite_contacts_below(child)
        self._write_stored(contacts, {})

    def _give_first_address(self, record_id: int) -> None:
        """``_handle_first_contact_creation``: a company (or root) without address takes
        the address of its first contact."""
        row = self.table.rows[record_id]
        parent = self.table.get(row.get("parent_id")) if row.get("parent_id") else None
        if parent is None or not (parent.get("is_company") or not parent.get("parent_id")):
            return
        if (
            any(row.get(f) for f in ADDRESS_FIELDS)
            and not any(parent.get(f) for f in ADDRESS_FIELDS)
            and len(self._children(parent["id"], visible=True)) == 1
        ):
            self._write_stored([parent["id"]], {f: row.get(f) for f in ADDRESS_FIELDS})

    def _children(self, record_id: int, *, visible: bool) -> list[int]:
        """``child_ids``: active children (its domain), the ones this call may see unless
        ``visible`` is False (Odoo's ``sudo()``)."""
        rule = self._rule() if visible else None
        rows = self.table.rows
        return [
            c
            for c in sorted(self.table.index("parent_id").get(record_id, ()))
            if rows[c].get("active") is True and (rule is None or rule(rows[c]))
        ]

    def _write_stored(self, ids: Sequence[int], values: Mapping[str, Any]) -> None:
        """A low-level write (no business logic): the values and this call's stamp."""
        stamp = {"write_date": self.env.stamp_stored, "write_uid": self.env.uid}
        for record_id in ids:
            self.env.journal.before_change(self.table, record_id)
            self.table.update(record_id, {**values, **stamp})


class Users(Model):
    """``res.users``: ``context_get`` (JSON-2 clients learn their uid from it)."""

    MODEL_METHODS = Model.MODEL_METHODS | {"context_get"}

    def context_get(self) -> dict[str, Any]:
        """The user's ``lang``, ``tz`` and ``uid``, as Odoo's ``res.users.context_get``."""
        user = self.env.user
        return {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or False, "uid": self.env.uid}


class IrModelData(Model):
    """``ir.model.data``: ``complete_name`` is ``module.name``."""

    def _before_create(self, values: dict[str, Any]) -> None:
        values["complete_name"] = f"{values.get('module', '')}.{values.get('name', '')}"

    def _before_write(self, record_id: int, values: dict[str, Any]) -> None:
        merged = {**self.table.rows[record_id], **values}
        values["complete_name"] = f"{merged.get('module', '')}.{merged.get('name', '')}"


class Message(Model):
    """``mail.message``: ``record_name`` from the document, ``is_internal`` from the subtype."""

    def _before_create(self, values: dict[str, Any]) -> None:
        if values.get("model") and values.get("res_id") and "record_name" not in values:
            table = self.env.database.tables.get(values["model"])
            row = table.rows.get(values["res_id"]) if table else None
            if row is not None:
                values["record_name"] = display_name(self.env, values["model"], row)
        subtype = self.env.database.tables["mail.message.subtype"].get(values.get("subtype_id"))
        if subtype and subtype.get("internal"):
            values["is_internal"] = True
        values.setdefault("date", self.env.stamp_text)
        if "author_id" not in values and "email_from" not in values:
            values["author_id"] = self.env.partner_id

    def _before_unlink(self, record_id: int) -> None:
        trackings = self.env["mail.tracking.value"]
        trackings.unlink(sorted(trackings.table.index("mail_message_id").get(record_id, set())))


class Activity(Model):
    """``mail.activity``: ``res_name``, ``res_model_id``, done/archived behaviour."""

    RECORD_METHODS = Model.RECORD_METHODS | {"action_feedback", "action_done"}

    def _before_create(self, values: dict[str, Any]) -> None:
        res_model = values.get("res_model")
        if res_model is None and values.get("res_model_id"):
            res_model = self.env.database.tables["ir.model"].rows[values["res_model_id"]]["model"]
            values["res_model"] = res_model
        if res_model not in self.env.database.tables:
            raise InvalidValue(f"Invalid res_model {res_model!r} for mail.activity")
        values.setdefault("res_model_id", _ir_model_id(self.env, res_model))
        row = self.env.database.tables[res_model].get(values.get("res_id"))
        if row is None:
            raise UserError(
                f"The document {res_model},{values.get('res_id')} to attach the activity to does not exist."
            )
        values["res_name"] = display_name(self.env, res_model, row)
        values.setdefault("user_id", self.env.uid)
        values.setdefault("date_deadline", self.env.database.clock.now().date().isoformat())

    def action_feedback(
        self, ids: Sequence[int] | int, feedback: Any = False, attachment_ids: Any = None
    ) -> int | bool:
        """Mark done: post the "done" message, archive (``keep_done``, or always from 19) or delete."""
        messages = []
        keep: list[int] = []
        drop: list[int] = []
        types = self.env.database.tables["mail.activity.type"]
        for record_id in ids_of(ids):
            row = self.table.rows.get(record_id)
            if row is None:
                raise self._missing_error("write", [record_id])
            self._check_rules([record_id], "write")
            type_row = types.get(row.get("activity_type_id")) or {}
            messages.append(self._post_done(row, type_row, feedback))
            # Odoo 19 archives every done activity (``keep_done`` is gone); 16-18 only
            # those whose type says ``keep_done`` and delete the rest (recorded on real servers).
            (keep if self.env.database.major >= 19 or type_row.get("keep_done") else drop).append(record_id)
        if keep:
            self.write(keep, {"active": False, "date_done": self.env.stamp.date().isoformat()})
        self.unlink(drop)
        return messages[0] if messages else False

    def action_done(self, ids: Sequence[int] | int) -> int | bool:
        """As ``action_feedback`` without feedback; answers the done message's id (16.0-19.0)."""
        return self.action_feedback(ids)

    def _post_done(self, row: Mapping[str, Any], type_row: Mapping[str, Any], feedback: Any) -> int:
        parts = [
            f'<div><p><span class="fa {type_row.get("icon") or "fa-tasks"} fa-fw"></span>'
            f"<span>{escape_text(type_row.get('name', ''))}</span> done"
        ]
        if row.get("user_id") and row["user_id"] != self.env.uid:
            user = self.env.database.tables["res.users"].rows.get(row["user_id"]) or {}
            parts.append(f" (originally assigned to <span>{escape_text(user.get('name', ''))}</span>)")
        if row.get("summary"):
            parts.append(f"<span>: </span><span>{escape_text(row['summary'])}</span>")
        parts.append("</p>")
        if row.get("note"):
            parts.append(f'<div class="o_mail_note_title fw-bold">Original note:</div><div>{row["note"]}</div>')
        if feedback:
            parts.append(f'<div class="fw-bold">Feedback:</div><div>{escape_text(str(feedback))}</div>')
        parts.append("</div>")
        return self.env["mail.message"].create(
            {
                "model": row["res_model"],
                "res_id": row["res_id"],
                "message_type": "notification",
                "subtype_id": self.env.ref("mail.mt_activities"),
                "mail_activity_type_id": row.get("activity_type_id") or False,
                "body": "".join(parts),
                "author_id": self.env.partner_id,
            }
        )


class Lead(Model):
    """``crm.lead``: chatter, tracking, won/lost, cascade delete of chatter."""

    RECORD_METHODS = Model.RECORD_METHODS | {"message_post", "action_set_lost", "action_set_won"}

    def message_post(
        self,
        ids: Sequence[int] | int,
        *,
        body: str = "",
        subject: str | None = None,
        message_type: str = "notification",
        email_from: str | None = None,
        author_id: int | None = None,
        parent_id: int | bool = False,
        subtype_xmlid: str | None = None,
        subtype_id: int | bool = False,
        partner_ids: Sequence[int] | None = None,
        attachments: Any = None,
        attachment_ids: Any = None,
        body_is_html: bool = False,
        **kwargs: Any,
    ) -> int:
        """Post on one lead (Odoo: ``ensure_one``); returns the new message's id."""
        record_ids = ids_of(ids)
        if len(record_ids) != 1:
            raise InvalidValue(f"Expected singleton: {self.name}({', '.join(map(str, record_ids))},)")
        [record_id] = record_ids
        if record_id not in self.table.rows:
            raise self._missing_error("read", [record_id])
        self._check_rules([record_id], "read")
        if message_type == "user_notification":
            raise InvalidValue("Use message_notify to send a notification to an user.")
        if subtype_xmlid:
            subtype_id = self.env.ref(subtype_xmlid)
        if not subtype_id:
            subtype_id = self.env.ref("mail.mt_note")
        values: dict[str, Any] = {
            "model": self.name,
            "res_id": record_id,
            "body": body if body_is_html else escape_text(body or ""),
            "subject": subject or False,
            "message_type": message_type,
            "parent_id": parent_id or False,
            "subtype_id": subtype_id,
            "partner_ids": [(6, 0, list(partner_ids or []))],
        }
        if author_id or not email_from:
            values["author_id"] = author_id or self.env.partner_id
        if email_from:
            values["email_from"] = email_from
        for key in ("mail_activity_type_id", "message_id"):
            if key in kwargs:
                values[key] = kwargs[key]
        return self.env["mail.message"].create(values)

    def action_set_lost(self, ids: Sequence[int] | int, **additional_values: Any) -> None:
        """Archive and write; returns nothing, as Odoo's (``action_archive``'s result)."""
        self.write(ids, {"active": False, "probability": 0, **additional_values})

    def action_set_won(self, ids: Sequence[int] | int) -> bool:
        stages = self.env["crm.stage"]
        won = stages.search([("is_won", "=", True)], limit=1)
        if not won:
            raise UserError("There is no won stage: create a stage marked as won first.")
        return self.write(ids, {"stage_id": won[0], "probability": 100})

    def _before_write(self, record_id: int, values: dict[str, Any]) -> None:
        if "stage_id" in values:
            values["date_last_stage_update"] = self.env.stamp_text
            stage = self.env.database.tables["crm.stage"].rows.get(values["stage_id"]) or {}
            if stage.get("is_won"):
                values["probability"] = 100.0
                values["date_closed"] = self.env.stamp_text
        if values.get("active") is False:
            values["date_closed"] = self.env.stamp_text

    def _before_create(self, values: dict[str, Any]) -> None:
        if values.get("user_id"):
            values.setdefault("date_open", self.env.stamp_text)
        values.setdefault("date_last_stage_update", self.env.stamp_text)
        if "stage_id" not in values:
            stages = self.env["crm.stage"].search([], limit=1)
            if stages:
                values["stage_id"] = stages[0]

    def _after_create(self, record_id: int) -> None:
        """``mail.thread.create``: post the creation message (subtype ``crm.mt_lead_create``,
        empty body) unless the context says ``mail_create_nolog`` or ``tracking_disable``."""
        if self.env.context.get("mail_create_nolog") or self.env.context.get("tracking_disable"):
            return
        self.env["mail.message"].create(
            {
                "model": self.name,
                "res_id": record_id,
                "message_type": "notification",
                "subtype_id": self.env.ref("crm.mt_lead_create"),
                "body": "",
                "author_id": self.env.partner_id,
            }
        )

    def _after_write(self, record_id: int, old: Mapping[str, Any]) -> None:
        row = self.table.rows[record_id]
        if self.env.database.major >= 19 and ("stage_id" in old or "probability" in old):
            stage = self.env.database.tables["crm.stage"].get(row.get("stage_id")) or {}
            if stage.get("is_won") and row.get("probability") != 100:  # crm_lead._check_won_validity (19)
                raise ValidationError("A lead in a Won stage cannot be lost. Move it to another stage first.")
        if self.env.context.get("tracking_disable") or self.env.context.get("mail_notrack"):
            return
        changed = [name for name in TRACKED_LEAD_FIELDS if name in old and old[name] != row.get(name)]
        if changed:
            self._post_tracking(record_id, row, old, changed)

    def _post_tracking(
        self, record_id: int, row: Mapping[str, Any], old: Mapping[str, Any], changed: list[str]
    ) -> None:
        if "stage_id" in changed and row.get("probability") == 100 and row.get("stage_id"):
            subtype = "crm.mt_lead_won"
        elif "lost_reason_id" in changed and row.get("lost_reason_id"):
            subtype = "crm.mt_lead_lost"
        elif "stage_id" in changed:
            subtype = "crm.mt_lead_stage"
        elif "active" in changed:
            subtype = "crm.mt_lead_restored" if row.get("active") else "crm.mt_lead_lost"
        else:
            subtype = "mail.mt_note"
        message_id = self.env["mail.message"].create(
            {
                "model": self.name,
                "res_id": record_id,
                "message_type": "notification",
                "subtype_id": self.env.ref(subtype),
                "body": "",
            }
        )
        trackings = self.env["mail.tracking.value"]
        for name in changed:
            trackings.create(
                tracking_values(self, name, old.get(name), row.get(name)) | {"mail_message_id": message_id}
            )

    def _before_unlink(self, record_id: int) -> None:
        for model in ("mail.message", "mail.activity"):
            comodel = self.env[model]
            model_field = "model" if model == "mail.message" else "res_model"
            ids = [
                i
                for i in sorted(comodel.table.index("res_id").get(record_id, set()))
                if comodel.table.rows[i].get(model_field) == self.name
            ]
            comodel.unlink(ids)


def tracking_values(model: Model, name: str, old: Any, new: Any) -> dict[str, Any]:
    """The ``mail.tracking.value`` fields Odoo 17 stores for one changed field."""
    field = model.spec.fields[name]
    values: dict[str, Any] = {"field_id": _ir_field_id(model.env, model.name, name)}
    if field.type == "many2one":
        table = model.env.database.tables[field.comodel]

        def label(value: Any) -> str:
            row = table.rows.get(value) if value else None
            return display_name(model.env, field.comodel, row) if row else ""

        values.update(
            old_value_integer=old or 0,
            new_value_integer=new or 0,
            old_value_char=label(old),
            new_value_char=label(new),
        )
    elif field.type == "boolean":
        values.update(old_value_integer=int(bool(old)), new_value_integer=int(bool(new)))
    elif field.type in ("float", "monetary"):
        values.update(old_value_float=old or 0.0, new_value_float=new or 0.0)
    elif field.type in ("char", "text", "integer", "datetime"):
        values.update({f"old_value_{field.type}": old or False, f"new_value_{field.type}": new or False})
    elif field.type == "selection":
        labels = dict(field.selection or ())
        values.update(old_value_char=labels.get(old, old or ""), new_value_char=labels.get(new, new or ""))
    elif field.type == "date":
        values.update(
            old_value_datetime=f"{old} 00:00:00" if old else False,
            new_value_datetime=f"{new} 00:00:00" if new else False,
        )
    return values


def _ir_model_id(env: Env, model: str) -> int:
    table = env.database.tables["ir.model"]
    found = table.index("model").get(model)
    if found:
        return min(found)
    return env["ir.model"].create(
        {
            "name": table.spec.description if model == "ir.model" else env.database.tables[model].spec.description,
            "model": model,
        }
    )


def _ir_field_id(env: Env, model: str, name: str) -> int:
    table = env.database.tables["ir.model.fields"]
    for record_id in table.index("name").get(name, set()):
        if table.rows[record_id].get("model") == model:
            return record_id
    field = env.database.tables[model].spec.fields[name]
    return env["ir.model.fields"].create(
        {
            "name": name,
            "model": model,
            "field_description": field.string,
            "ttype": field.type,
        }
    )


_CLASSES: dict[str, type[Model]] = {
    "res.partner": Partner,
    "res.users": Users,
    "ir.model.data": IrModelData,
    "mail.message": Message,
    "mail.activity": Activity,
    "crm.lead": Lead,
}


@cache
def model_class(model: str) -> type[Model]:
    """The Python class implementing ``model`` (generic ``Model`` unless it has behaviour)."""
    return _CLASSES.get(model, Model)

"""A Django system check of the admin settings that would show a record's managed values.

`check_admin` runs with ``manage.py check`` (and every ``runserver`` and ``migrate``); the
Django record kind registers it when the first Django record is declared. It looks at every
admin site's model admins:

- ``purposeful.E001``: a ``list_filter`` on a managed field (directly or across a relation):
  Django's filter sidebar lists the field's distinct values from the database, undecided;
- ``purposeful.E002``: a ``date_hierarchy`` on a managed field: its drill-down lists the
  years, months and days the database holds;
- ``purposeful.W001``: the subject field editable in the change form: saving a changed
  subject is refused (`SubjectChangeRefused`, a server error); make it read-only.

`check_models` runs with them, over every installed model:

- ``purposeful.E003``: a relation (a ``ForeignKey`` or ``OneToOneField``, ``to_field=``)
  whose key is a record's managed field: the value is kept in the referring row's own
  column (``person_id``), which serialisers, forms and ``values()`` read undecided;
- ``purposeful.E004``: a record whose subject is a relation's column (``client_id``) keyed
  by something other than the related record's subject (its primary key, when the related
  record's subject is ``nhi``): one person would be known by two ids, so consent would be
  asked of the wrong person and access histories and reports would split or join people.

What this module must not do: read a managed field or a subject id (it looks at
declarations only); import the admin where it is not installed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.core import checks
from django.core.exceptions import FieldDoesNotExist

from .._policies import nearest_policy

__all__ = ["admin_problems", "check_admin", "check_models", "model_problems", "register"]


@functools.cache
def register() -> None:
    """Register `check_admin` with Django's system checks, once."""
    checks.register(check_admin, checks.Tags.admin)
    checks.register(check_models, checks.Tags.models)


def check_models(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The system check of relations keyed by a managed field (see the module docstring)."""
    from django.apps import apps

    configs = app_configs if app_configs is not None else apps.get_app_configs()
    return model_problems(model for config in configs for model in config.get_models())


def model_problems(models: Iterable[Any]) -> list[checks.CheckMessage]:
    """What `check_models` finds in *models*: each relation whose key is a managed field,
    each subject that is a relation's column keyed by another id than the related record's
    subject."""
    found: list[checks.CheckMessage] = []
    for model in models:
        subject_problem = _subject_problem(model)
        if subject_problem is not None:
            found.append(subject_problem)
        for field in model._meta.local_fields:
            if not (field.is_relation and (field.many_to_one or field.one_to_one)):
                continue
            try:  # every field the relation is keyed by (a ForeignObject may name several)
                targets: Any = list(field.foreign_related_fields)
            except Exception:  # a model named by a string Django has not resolved yet
                continue
            target = next((t for t in targets if _is_managed_field(t)), None)
            if target is None:
                continue
            found.append(
                checks.Error(
                    f"{model.__name__}.{field.name} refers to {target.model.__name__} by "
                    f"{target.name}, a managed field: the value would be kept in "
                    f"{model.__name__}.{field.attname}, which serialisers, forms and values() "
                    f"read undecided",
                    hint=f"refer to {target.model.__name__} by its primary key, or by an "
                    f"unmanaged unique field (drop to_field={target.name!r})",
                    obj=field,
                    id="purposeful.E003",
                )
            )
    return found


def _subject_problem(model: Any) -> checks.CheckMessage | None:
    """``purposeful.E004`` for *model*, a record whose subject is a relation's column keyed
    by another field than the related record's subject; else None."""
    policy = nearest_policy(model)
    if policy is None:
        return None
    relation = next(
        (
            f
            for f in model._meta.fields
            if f.is_relation and (f.many_to_one or f.one_to_one) and f.attname == policy.subject
        ),
        None,
    )
    if relation is None:
        return None
    try:
        targets: Any = list(relation.foreign_related_fields)
        related = nearest_policy(relation.related_model)
    except Exception:  # a model named by a string Django has not resolved yet
        return None
    if related is None or len(targets) != 1:
        return None
    key = targets[0]
    # a multi-table child's primary key is its link to the parent: the parent's key, then
    chain = [key]
    while len(chain) < 16 and chain[-1].is_relation and chain[-1].target_field is not None:
        chain.append(chain[-1].target_field)
    if any(related.subject in (field.name, field.attname) for field in chain):
        return None
    other = relation.related_model.__name__
    return checks.Error(
        f"{model.__name__}'s subject is {policy.subject}, which holds {other}.{key.name}, "
        f"not {other}'s subject {related.subject}: one person would be known by two ids, so "
        f"consent would be asked of the wrong person and access histories and reports would "
        f"split or join people",
        hint=f"refer to {other} by its subject (ForeignKey({other}, "
        f"to_field={related.subject!r}), with a data migration for the rows there are), or "
        f"give {model.__name__} a subject field of its own holding the person's "
        f"{related.subject}",
        obj=model,
        id="purposeful.E004",
    )


def check_admin(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The system check: every admin site's model admins (see the module docstring)."""
    from django.apps import apps

    if not apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib.admin.sites import all_sites

    return admin_problems(list(all_sites))


def admin_problems(sites: Iterable[Any]) -> list[checks.CheckMessage]:
    """What `check_admin` finds in the model admins of *sites*."""
    found: list[checks.CheckMessage] = []
    for site in sites:
        for model, model_admin in getattr(site, "_registry", {}).items():
            where = f"{type(model_admin).__qualname__} ({site.name})"
            for entry in model_admin.list_filter or ():
                path = entry[0] if isinstance(entry, list | tuple) else entry
                if isinstance(path, str) and _managed(model, path):
                    found.append(
                        checks.Error(
                            f"{where}.list_filter names {path!r}, a managed field: the admin's "
                            f"filter sidebar lists its values from the database, undecided and "
                            f"unaudited",
                            hint="remove it from list_filter, or filter on a plain field",
                            obj=model_admin,
                            id="purposeful.E001",
                        )
                    )
            hierarchy = model_admin.date_hierarchy
            if isinstance(hierarchy, str) and _managed(model, hierarchy):
                found.append(
                    checks.Error(
                        f"{where}.date_hierarchy is {hierarchy!r}, a managed field: its "
                        f"drill-down lists the dates the database holds, undecided",
                        hint="remove date_hierarchy, or use a plain date field",
                        obj=model_admin,
                        id="purposeful.E002",
                    )
                )
            subject = _subject_field(model)
            if subject is not None and _editable(model_admin, subject):
                found.append(
                    checks.Warning(
                        f"{where} lets the change form edit {model.__name__}.{subject}, the "
                        f"subject: saving a change to it is refused (SubjectChangeRefused, a "
                        f"server error)",
                        hint=f"make {subject!r} read-only on the change form alone, where "
                        f"an object is given: get_readonly_fields(self, request, obj=None) "
                        f"returning ({subject!r},) if obj else () (the add form sets it)",
                        obj=model_admin,
                        id="purposeful.W001",
                    )
                )
    return found


def _managed(model: Any, path: str) -> bool:
    """Whether the field at *path* (``name`` or ``client__name``) from *model* is managed."""
    current = model
    parts = path.split("__")
    for depth, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a lookup (``name__isnull``) or Django's own error
        if depth == len(parts) - 1 or field.related_model is None:
            policy = nearest_policy(current)
            return policy is not None and field.name in policy.fields
        current = field.related_model
    return False


def _subject_field(model: Any) -> str | None:
    """The name of *model*'s form field that holds the subject, if it is a record."""
    policy = nearest_policy(model)
    if policy is None:
        return None
    for field in model._meta.get_fields():
        if policy.subject in (field.name, getattr(field, "attname", None)):
            return str(field.name) if getattr(field, "editable", False) else None
    return None


def _editable(model_admin: Any, name: str) -> bool:
    """Whether *model_admin*'s change form shows field *name* editable (as declared). An
    admin with its own ``get_readonly_fields`` (read-only on the change form alone, as W001's
    hint says) decides it there."""
    from django.contrib.admin.options import BaseModelAdmin

    if name in (model_admin.readonly_fields or ()):
        return False
    if type(model_admin).get_readonly_fields is not BaseModelAdmin.get_readonly_fields:
        return False
    if model_admin.fieldsets:
        shown = {
            field
            for _, options in model_admin.fieldsets
            for entry in options.get("fields", ())
            for field in (entry if isinstance(entry, list | tuple) else (entry,))
        }
        return name in shown
    if model_admin.fields:
        return name in {
            field
            for entry in model_admin.fields
            for field in (entry if isinstance(entry, list | tuple) else (entry,))
        }
    return name not in (model_admin.exclude or ())


def _is_managed_field(field: Any) -> bool:
    """Whether *field*, a model field, is a managed field of its model's record."""
    policy = nearest_policy(field.model) if getattr(field, "model", None) is not None else None
    return policy is not None and field.name in policy.fields

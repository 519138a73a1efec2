"""A database's own errors, kept free of the rows' values once a record is declared.

PostgreSQL's message for a refused row quotes it (``DETAIL: Failing row contains (…)``,
``Key (…)=(…)``): managed values and subject ids, whatever the ORM's ``hide_parameters``
says, in text that logs and error trackers keep. `scrub.database_error` takes that detail
out, and replaces what of the message still quotes one of the statement's parameters. It is
applied to every error of every connection, not only to statements on a record's tables: a
person is named as well by an association table's row, by raw SQL, or by a deferred
constraint refused at the commit, where there is no statement.

- Django: every driver error passes through ``DatabaseErrorWrapper.__exit__`` (statements,
  commits, connecting), which copies its text into Django's own: the detail is taken out
  there; an execute wrapper on each connection checks the message against the statement's
  parameters.
- SQLAlchemy: a ``handle_error`` listener on every engine, given the parameters.

What this module must not do: change an error's class or lose it for another (an exit
exception, a cancellation pass through untouched); import Django or SQLAlchemy before the
kind that needs them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import scrub

__all__ = ["scrub_django", "scrub_sqlalchemy"]

#: Marks a Django connection whose statements are checked (`_scrub_connection`).
_MARK = "_purposeful_scrubbed"


@functools.cache
def scrub_sqlalchemy() -> None:
    """Clean every SQLAlchemy engine's database errors (`_scrubbed_error`); once."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "handle_error", _scrubbed_error)


def _scrubbed_error(context: Any) -> None:
    """SQLAlchemy's ``handle_error``: a database error loses the values of the rows it
    quotes, keeping its class; an error SQLAlchemy does not wrap (an interrupt, a
    cancellation) passes untouched."""
    error = context.sqlalchemy_exception
    if error is None:
        return
    execution = context.execution_context
    many = bool(getattr(execution, "executemany", False))
    values = scrub.parameter_values(context.parameters, many)
    scrub.database_error(error, values)


@functools.cache
def scrub_django() -> None:
    """Clean every Django connection's database errors, made now or later; once."""
    from django.db import connections
    from django.db.backends.signals import connection_created
    from django.db.utils import DatabaseErrorWrapper

    exit_ = DatabaseErrorWrapper.__exit__

    @functools.wraps(exit_)
    def __exit__(self: Any, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
        # the driver's own error, before Django copies its text into one of its own
        driver_errors: Any = getattr(self.wrapper.Database, "Error", ())
        if isinstance(exc_value, driver_errors):
            scrub.database_error(exc_value, ())
        return exit_(self, exc_type, exc_value, traceback)

    DatabaseErrorWrapper.__exit__ = __exit__
    connection_created.connect(_scrub_connection, weak=False, dispatch_uid="purposeful.scrub")
    for connection in connections.all(initialized_only=True):
        _scrub_connection(None, connection)


def _scrub_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Check *connection*'s errors against its statements' parameters: marked on the
    connection, not looked for in its wrappers, and first in the list, so that a
    ``connection.execute_wrapper()`` block (which pops the last) never takes it out."""
    if getattr(connection, _MARK, False):
        return
    setattr(connection, _MARK, True)
    connection.execute_wrappers.insert(0, _scrubbed_execute)


def _scrubbed_execute(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
) -> Any:
    """A connection's execute wrapper: a database error that still quotes one of the
    statement's parameters loses it (`scrub.database_error`), keeping its class."""
    from django.db import DatabaseError

    try:
        return execute(sql, params, many, context)
    except DatabaseError as exc:
        scrub.database_error(exc, scrub.parameter_values(params, many))
        raise

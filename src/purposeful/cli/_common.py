"""What the command groups share: the `CommandGroup` value, the exit status of a user error
and the one line that reports it, and parsing the strings a command line gives into values
(dates, times, secrets named by environment variables), once, at this edge.

Text read from files or given on the command line (a path, a name in a register) can hold
control characters a terminal would act on: `shown` writes each as its escape.

What this module must not do: print, or put a secret in a message.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Literal, TypeVar, overload

import attrs

from .._shared.checks import is_module_name
from .._shared.document import printable
from .._shared.files import atomic_file
from ..errors import ConfigurationError, PassphraseError, PurposefulError

__all__ = [
    "USAGE_ERROR",
    "CommandGroup",
    "error_line",
    "load_app",
    "parse_date",
    "parse_moment",
    "secret_from_env",
    "shown",
    "subject_from",
]

#: Exit status of a user error: bad arguments, a refused or failed operation.
USAGE_ERROR = 2

_T = TypeVar("_T")

#: what a shell accepts as an environment variable's name
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


#: What to do when the module APP names imports a Django project's models unset up.
_DJANGO_SETUP = (
    "a Django project's models need Django set up first: name a module that sets "
    "DJANGO_SETTINGS_MODULE and calls django.setup() before it imports them"
)


def load_app(spec: str, kind: type[_T], *, example: str, what: str) -> _T:
    """The *kind* object an application names by ``module:attribute`` (or a function
    returning one), imported from the current directory first.

    Args:
        spec: ``module:attribute``, as the user gave it.
        kind: the class the object must be an instance of.
        example: a ``module:attribute`` to show in a message (``myapp.access:access``).
        what: what APP must point at, in words, for the message.

    Raises:
        ConfigurationError: *spec* is not ``module:attribute`` naming a module, the module
            cannot be imported, or the attribute is not a *kind*.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute or not is_module_name(module_name):
        raise ConfigurationError(
            f"APP must be module:attribute naming your {kind.__name__}, e.g. {example}, "
            f"not {spec!r}"
        )
    here = os.getcwd()  # once: the module may change directory as it is imported
    sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"cannot import {module_name!r} ({exc}); run from your project's directory or "
            f"install it"
        ) from None
    except PurposefulError:
        raise
    except Exception as exc:  # the module's own code failed: its type, never its message
        raise ConfigurationError(
            f"importing {module_name!r} failed: it raised {type(exc).__name__}; run "
            f"`python -c 'import {module_name}'` to see where"
            + (
                f"; {_DJANGO_SETUP}"
                if type(exc).__name__ in ("AppRegistryNotReady", "ImproperlyConfigured")
                else ""
            )
        ) from None
    finally:
        if here in sys.path:
            sys.path.remove(here)
    found = getattr(module, attribute, None)
    if callable(found) and not isinstance(found, kind):
        try:
            found = found()
        except PurposefulError:
            raise
        except Exception as exc:  # the application's function failed: its type only
            raise ConfigurationError(
                f"{spec}() failed: it raised {type(exc).__name__}; call it from Python to see where"
            ) from None
    if not isinstance(found, kind):
        raise ConfigurationError(
            f"{spec} is not a {kind.__name__} (nor a function returning one); point APP at {what}"
        )
    return found


def shown(text: str) -> str:
    """*text* for a terminal, exactly: every character that is not printable (a line
    break, a tab, an escape sequence, a bidirectional override) shown as its escape."""
    return printable(text, exact=True)


def error_line(error: BaseException) -> str:
    """The one line on stderr that reports a user error, safe to print: a path or a name in
    its message cannot move the cursor, colour the terminal or start a new line."""
    return f"purposeful: error: {shown(str(error))}"


@attrs.frozen
class CommandGroup:
    """One group of subcommands, such as ``keys``.

    Attributes:
        name: the word after ``purposeful``.
        help: one line for ``purposeful --help``.
        add_commands: adds the group's commands to the subparsers it is given.
    """

    name: str
    help: str
    add_commands: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]


def secret_from_env(var: str | None, what: str) -> str | None:
    """The secret in environment variable *var* (None when *var* is None)."""
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise PassphraseError(
            f"${var} is not set or is empty: set it to the passphrase for {what}, or leave out "
            f"the option that names it",
            source=f"${var}",
        )
    return value


@overload
def subject_from(args: argparse.Namespace, *, required: Literal[True]) -> str: ...
@overload
def subject_from(args: argparse.Namespace, *, required: bool) -> str | None: ...
def subject_from(args: argparse.Namespace, *, required: bool) -> str | None:
    """The person's identifier of ``--subject-env VAR`` (kept out of the process list and
    the shell history) or ``--subject ID``; None if neither is given and not *required*.

    Raises:
        ConfigurationError: both are given, neither when *required*, or VAR is unset.
    """
    given = getattr(args, "subject", None)
    var = getattr(args, "subject_env", None)
    if given is not None and var is not None:
        raise ConfigurationError("give --subject-env or --subject, not both")
    if var is not None:
        value = os.environ.get(var)
        if not value:
            # only a command that has --subject is told to give it
            other = ", or give --subject" if hasattr(args, "subject") else ""
            if _ENV_NAME.match(var) is None:
                # not a variable's name: most likely the person's id itself, never echoed
                raise ConfigurationError(
                    f"--subject-env takes the name of an environment variable (letters, "
                    f"digits and '_', e.g. SUBJECT) that holds the person's identifier, not "
                    f"the identifier itself; set one and name it{other}"
                )
            raise ConfigurationError(
                f"${var} is not set or is empty: set it to the person's identifier{other}"
            )
        return value
    if given is None and required:
        raise ConfigurationError(
            "give the person's identifier with --subject-env VAR (it stays out of the process "
            "list and shell history) or --subject ID"
        )
    return given


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-10") from None


def parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time with its offset, like 2026-12-20T09:00:00+13:00"
        )
    return moment


def write_out(
    target: Path, text: str, *, overwrite: bool, what: str, flag: str = "--overwrite"
) -> None:
    """Write *text* (UTF-8) to *target* whole or not at all, mode 0600, replacing a file
    (or a symbolic link itself, never what it points to) only with *overwrite*: what every
    command writing to ``--out`` shares. *what* names it in messages (``"the report"``);
    *flag* is the command's option that allows replacing a file.

    Raises:
        ConfigurationError: *target* is a directory, its directory is missing, it exists
            without *overwrite*, or it cannot be written; nothing was written.
    """
    if target.is_dir():
        raise ConfigurationError(
            f"cannot write {what} to {shown(str(target))}: it is a directory; give a file name"
        )
    if not target.parent.is_dir():
        raise ConfigurationError(
            f"cannot write {what} to {shown(str(target))}: its directory does not exist; "
            f"create it first"
        )
    try:
        with atomic_file(target, overwrite=overwrite) as file:
            file.write(text.encode("utf-8"))
    except FileExistsError:
        raise ConfigurationError(
            f"{shown(str(target))} already exists; give {flag} to replace it, or choose "
            f"another name (nothing was written)"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write {what} to {shown(str(target))} "
            f"({exc.strerror or type(exc).__name__}); check free space and permissions; "
            f"nothing was written"
        ) from None

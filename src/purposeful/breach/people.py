"""Naming the people a breach reached: pseudonyms matched back to subject ids, into a file.

A pseudonym cannot be reversed. To name the people, `name_people` re-hashes subject ids
the agency holds (every client id of its case system; a registered data source takes an id
and cannot list them, so the agency supplies the ids) with the pseudonym key, or keys, the
trail was written with, and keeps those whose pseudonym the assessment found. The list
goes only to the file the operator names, written atomically (mode 0600); what comes back
is counts.

What this module must not do: return, print, log or put in a span or an exception message
a subject identifier; keep the ids after writing them; leave a partial file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import attrs

from .._shared.files import atomic_file
from .._shared.keys import PseudonymKey
from ..errors import BreachAssessmentError
from .assessment import Assessment

__all__ = ["PeopleNamed", "name_people"]


@attrs.frozen
class PeopleNamed:
    """What `name_people` wrote: counts only.

    Attributes:
        path: the file the people were written to.
        named: people written to it.
        not_found: people the assessment counted whose id was not among those supplied:
            supply more ids, or the older key a rotation left.
        ids_checked: subject ids re-hashed.
    """

    path: Path
    named: int
    not_found: int
    ids_checked: int

    def describe(self) -> str:
        """One line: how many were named, and how many were not found."""
        line = f"{self.named} people named in {self.path}"
        if self.not_found:
            line += (
                f"; {self.not_found} not found among the {self.ids_checked} ids given "
                "(give every id the agency holds, and every pseudonym key of the window)"
            )
        return line


def name_people(
    assessment: Assessment,
    subject_ids: Iterable[str],
    keys: Iterable[PseudonymKey],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> PeopleNamed:
    """Write the subject ids of the people *assessment* found to *path*, one a line, sorted.

    Args:
        assessment: what `assess` found.
        subject_ids: the ids to re-hash (each a str); duplicates are fine.
        keys: every pseudonym key the trail of the window was written with.
        path: the file to write (mode 0600), for the people who will contact them.
        overwrite: replace *path* if it exists.

    Raises:
        BreachAssessmentError: no key was given, an id is not a str, or *path* exists (and
            not *overwrite*) or cannot be written; nothing was written.
    """
    keys = list(keys)
    if not keys:
        raise BreachAssessmentError(
            "naming the people needs the pseudonym key (or keys) the trail was written with; "
            "load it with load_pseudonym_key"
        )
    wanted = assessment.pseudonyms
    found: dict[str, str] = {}
    checked = 0
    for subject in subject_ids:
        if not isinstance(subject, str):
            raise BreachAssessmentError(
                f"subject ids to match are str, not {type(subject).__name__}; convert each "
                "with str() first"
            )
        checked += 1
        for key in keys:
            pseudonym = key.pseudonym(subject)
            if pseudonym in wanted:
                found[pseudonym] = subject
    for key in keys:
        key.clear_cache()  # the key remembers ids it hashed: forget the agency's list
    target = Path(path)
    named = sorted(set(found.values()))
    if any("\n" in subject or "\r" in subject for subject in named):
        raise BreachAssessmentError(
            "a subject id that matched holds a line break, which the file of one id a line "
            "cannot hold; nothing was written"
        )
    try:
        with atomic_file(target, overwrite=overwrite) as file:
            file.write("".join(f"{subject}\n" for subject in named).encode("utf-8"))
    except FileExistsError:
        raise BreachAssessmentError(
            f"{target} exists: name a new file for the people, or allow overwriting"
        ) from None
    except OSError as error:
        raise BreachAssessmentError(
            f"cannot write the people to {target} ({type(error).__name__}); check the "
            "directory exists and can be written"
        ) from None
    return PeopleNamed(target, len(named), len(wanted) - len(found), checked)

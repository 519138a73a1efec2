"""Insights: non-personal aggregates, counted under a purpose and protected for release.

DPUP's Kaitiakitanga principle asks services to offer non-personal insights safely. This
package counts annotated records inside an aggregate purpose (so each grouped field's
declaration is enforced like any other read) and publishes the counts the way Stats NZ and
the Ministry of Social Development do: small counts suppressed, with secondary suppression so
they cannot be worked out from the totals, and random rounding to base 3 (RR3).

- `crosstab(records, by, purpose=, actor=)`: a table of counts by one or more fields;
- `count(records, purpose=, actor=)`: a one-cell table, the total;
- `Table`, `Cell`: the result, with `to_markdown()`, `to_rows()` and `to_json()`;
- `TOTAL`: the key for a dimension summed over in a margin;
- `rr3(count, rng)`: random rounding to base 3 of one count.

What it must not do: return a raw count of a published cell when rounding, any value of a
suppressed cell, a record value other than a category grouped by, or a subject identifier.
It builds on the core (scope, records, categories) and the core never imports it.
"""

from ._aggregate import count, crosstab
from ._protect import rr3
from ._table import TOTAL, Cell, Table, Total

__all__ = ["TOTAL", "Cell", "Table", "Total", "count", "crosstab", "rr3"]

"""The tamper-evident audit ledger: scope reports in an append-only, chained JSONL file.

`Ledger` is an `AuditSink`. Each `ScopeReport` becomes one line of the ledger file, and each
line carries an HMAC-SHA256 of its content keyed by the previous line's mac, so the lines
form a chain. Every ``checkpoint_every`` lines, and at `Ledger.close`, an Ed25519-signed
checkpoint of the chain head is appended to a separate checkpoint file. `verify_ledger`
checks both with the public key alone and names the first line that breaks.

The package has one module per job:

- `purposeful.audit.ledger.format`: what a line is (canonical JSON, the mac chain, the
  header, scope, format, recovery and checkpoint lines, decoding), shared by the writer, the
  verifier and the report's ledger reader;
- `purposeful.audit.ledger.writer`: `Ledger`, which appends;
- `purposeful.audit.ledger.verifier`: `verify_ledger`, which checks;
- `purposeful.audit.ledger.index`: the verified index a verification can leave beside the
  ledger (`default_index_path`), so that one person's access history reads only their lines.
- `purposeful.audit.ledger.disposals`: the disposal evidence (IPP 9) read back, and the
  disposals a crash left begun and not done;
- `purposeful.audit.ledger.files`: reading the files backwards from their end, putting a new
  file in place whole, and the side files a writer sets a torn last line aside to when it
  opens a ledger after a crash.

Besides scope lines, a ledger holds the evidence of disposals (`purposeful.retention`):
``disposal`` lines, chained and checkpointed like every line.

What this package must not do: write a field's value or a subject identifier; change a line
once written; need the private key to verify.
"""

from .disposals import DisposalEvidence, read_disposals, unfinished_disposals
from .format import default_checkpoints_path
from .index import default_index_path
from .verifier import VerifyReason, VerifyResult, verify_ledger
from .writer import FsyncPolicy, Ledger

__all__ = [
    "DisposalEvidence",
    "FsyncPolicy",
    "Ledger",
    "VerifyReason",
    "VerifyResult",
    "default_checkpoints_path",
    "default_index_path",
    "read_disposals",
    "unfinished_disposals",
    "verify_ledger",
]

"""One private home for what several rooms of the library share.

Agency details, key handling, New Zealand time, validators, files written atomically, the
SQLite and PostgreSQL plumbing of the stores, and the document renderer live here, once.
The core and every room import from these modules; nothing here imports a room (consent,
corrections, sharing, access, audit, notices, insights, testing, cli). Users never import
from here: the public names are re-exported where users meet them.
"""

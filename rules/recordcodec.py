"""doit's records through orjson (dodo.py's `codec_cls`), in a module of its own: the prerender
worker reads the records with it too, and a module the renderer reaches is an input of every page
(rules/codedeps.py), which doit's edge (rules/doitedge.py, the reporter) should not be."""

from __future__ import annotations

import json
from typing import Any

import orjson


class RecordCodec:
    """doit's records (one JSON document per task in its sqlite3 file) through orjson, not the
    json module: a no-change run at France scale decodes 35,000 of them (0.25 s with json) and a
    full render encodes as many. Records either codec wrote read back equal through the other.
    Where orjson and json differ, json decides: integers beyond 64 bits, which orjson will not
    write, and NaN or infinities, which it writes as null, are written by json (any record with a
    null is: rare, and exact); records orjson cannot read (json's NaN, Infinity) are read by json.
    orjson would read an integer beyond 64 bits as a float: doit's records hold none (sizes,
    mtimes, digests, counts)."""

    def encode(self, data: Any) -> str:
        try:
            text = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, for instance
            return json.dumps(data)
        return json.dumps(data) if b"null" in text else text.decode()

    def decode(self, data: str | bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:  # NaN, Infinity: what json writes and orjson refuses
            return json.loads(data)

"""Pure, streaming decoders of the message formats an order system publishes.

In: the bytes (or lines) of one message or file that a source received, plus
what describes them (a JSON Schema, an XSD and record XPath, a layout
dictionary). Out: for each record, a ``records.DecodedRecord`` (a dict and
where it came from) or a ``records.RecordError`` (a ``errors.DecodeError``
with its closed ``ReasonCode`` and the raw text, for a dead letter). A failure
of the whole input raises ``errors.DecodeError``.

| format                    | module          | entry point                          |
|---------------------------|-----------------|--------------------------------------|
| JSON, array, NDJSON       | ``json_format`` | ``decode_json``, ``decode_ndjson``   |
| XML (hardened, XSD)       | ``xml_format``  | ``decode_xml``                       |
| delimited (CSV, TSV, ...) | ``delimited``   | ``decode_delimited``                 |
| fixed width               | ``fixed_width`` | ``decode_fixed_width``               |
| either flat kind          | ``flatfile``    | ``decode_flat``, ``parse_flat``      |
| ANSI X12 850/855/856/810  | ``x12``         | ``decode_x12``                       |
| layout dictionaries       | ``layout_yaml`` | ``load_layout``, ``parse_layout``    |

Never: network, database, clock, or reading files other than a layout the
caller names; never resolves an XML entity or DTD.
"""

"""Indonesian extractors shared by every normalizer (pure functions, no I/O).

``phone`` (E.164), ``emails``, ``nik`` (structure check and masking), ``places`` (areaid
gazetteer), ``dates`` (incident time), ``classify`` (category and severity), ``sla`` (due_at)
and ``language``. ``normalizers.enrich`` applies them to a normalizer's draft.
"""

"""The VideoDownload API (``videodl.dev/v1alpha1``).

The pydantic models in this package are the single source of truth for the custom
resource: the operator and the worker parse objects with them, and
``python -m videodl.api.generate`` derives the CRD (``crds/``) and the reference
documentation (``docs/api.md``) from them. Validation rules exist twice on purpose: as
CEL rules in the CRD, so the apiserver rejects a bad manifest before it reaches the
operator, and as pydantic validators with the same messages, so the operator applies
the same rules to what it reads. Each such rule is declared once, as a table entry that
yields both (``rules``).

Modules:

- the spec, one module per part: ``spec`` (the top-level fields and the whole
  ``VideoDownloadSpec``), ``media`` (format, audio, subtitles, thumbnail, metadata),
  ``output`` (volume and file names), ``access`` (cookies, network) and ``retry``;
- ``status`` (what the operator reports: phase, conditions with their types and reasons);
- ``resource`` (the whole object and its names) and ``errors`` (readable validation
  errors);
- shared pieces: ``_base`` (model bases, name formats), ``quantity`` (resource
  quantities) and ``rules`` (CEL rules and their Python checks from one table);
- the generator: ``schema``, ``structural``, ``crd``, ``reference`` and ``generate``.
"""

"""The VideoDownload API (``videodl.dev/v1alpha1``).

The pydantic models in this package are the single source of truth for the custom
resource: the operator and the worker parse objects with them, and
``python -m videodl.api.generate`` derives the CRD (``crds/``) and the reference
documentation (``docs/api.md``) from them. Validation rules exist twice on purpose: as
CEL rules in the CRD, so the apiserver rejects a bad manifest before it reaches the
operator, and as pydantic validators with the same messages, so the operator applies
the same rules to what it reads.

Modules: ``spec`` (what the user asks for), ``status`` (what the operator reports),
``resource`` (the whole object and its names), ``errors`` (readable validation errors),
and the generator pieces ``schema``, ``structural``, ``crd``, ``reference`` and
``generate``.
"""

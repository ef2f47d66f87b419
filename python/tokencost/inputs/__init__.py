"""Inputs: what the model is fed, validated once at the boundary.

``schema`` (the input vocabulary as typed specs: names, units, bounds),
``validate`` (raw tables -> validated :class:`~tokencost.inputs.validate.Inputs`,
every problem located), ``csvfile`` (reading a CSV file people saved),
``datasets`` (the shipped seed data files), ``catalog`` (GPU and model
catalogs), ``reference_tables`` (reference data such as rental quotes) and
``pricecatalog`` (LiteLLM-format price catalogs). Depends on :mod:`tokencost.core`
and :mod:`tokencost.errors` only.
"""

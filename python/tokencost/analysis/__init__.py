"""Analysis: orchestration over the whole model, above the pure core.

``model`` (validated inputs -> the result tables: GPU costs, cost per MTok,
markups, subscriptions), ``report`` (the post's tables), ``sensitivity``
(tornado, grid, Monte Carlo), ``deployment`` (rent vs own, token mix, power
budget, fleet P&L), ``physics_checks`` (memory fit, decode bound, cost floor,
the frontier). Reads :mod:`tokencost.inputs`, calls :mod:`tokencost.core`; no
file I/O and no Excel.
"""

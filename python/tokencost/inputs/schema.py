"""Declarative specs of the input tables: the project's input vocabulary.

One :class:`TableSpec` per kind of input (hardware, cost components, model
profiles, prices, subscriptions, variants). The same specs drive the CSV data
files, the workbook's Excel Tables (headers, units, validation), the CLI's
``--set name=value`` and the checks. Specs are plain data; nothing here reads
or writes files.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``kind`` is ``"text"`` or ``"number"``. Bounds are inclusive unless named
    ``gt``/``lt``. ``default`` fills a blank optional cell. ``references``
    names ``"Table.column"`` whose values this column must be one of.

    ``choices`` lists the only names a text column may hold (compared ignoring
    case; blank allowed where the column is optional).

    ``whole`` marks a count (GPUs, requests): only whole numbers are valid.
    ``limit`` is the largest valid value where the bounds leave the column
    open-ended but the model breaks down far beyond any real deployment (a
    batch of 1e300 requests overflows the memory arithmetic). Every reader
    applies both through :meth:`problem` (CSV files, workbook tables,
    ``--set``, scenario tabs, function arguments); the workbook's own
    validation is built from the bounds and :meth:`rule_text` alone.
    """
    name: str
    unit: str
    description: str
    kind: str = "number"
    required: bool = True
    gt: Optional[float] = None
    ge: Optional[float] = None
    le: Optional[float] = None
    lt: Optional[float] = None
    default: Optional[float] = None
    references: Optional[str] = None
    whole: bool = False
    limit: Optional[float] = None
    #: another number column of the same table this one may not exceed in the same row
    #: (a cached-input price above the input price); checked where both are given
    le_column: Optional[str] = None
    #: False: not an input ``--set`` and variants may override (a per-row price or workload)
    overridable: bool = True
    choices: Optional[tuple] = None

    def rule_text(self) -> str:
        """The bounds in words, e.g. ``> 0`` or ``in (0, 1]`` (the workbook's
        validation text; :meth:`requirement` adds the whole-number rule)."""
        if self.gt is not None and self.le is not None:
            return f"in ({_fmt(self.gt)}, {_fmt(self.le)}]"
        if self.ge is not None and self.lt is not None:
            return f"in [{_fmt(self.ge)}, {_fmt(self.lt)})"
        parts = []
        for op, bound in ((">", self.gt), (">=", self.ge), ("<=", self.le), ("<", self.lt)):
            if bound is not None:
                parts.append(f"{op} {_fmt(bound)}")
        return " and ".join(parts)

    def requirement(self) -> str:
        """What a valid value is, in words: ``> 0``, ``in (0, 1]`` or, for a
        whole-number column, ``a whole number >= 1``."""
        if not self.whole:
            return self.rule_text()
        low = None  # the smallest whole number the bounds allow
        if self.gt is not None:
            low = math.floor(self.gt) + 1
        if self.ge is not None:
            low = max(low if low is not None else -math.inf, math.ceil(self.ge))
        return "a whole number" + (f" >= {low}" if low is not None else "")

    def violation(self, x: float) -> Optional[str]:
        """The rule the number *x* breaks (``must be a whole number >= 1``), None
        when it is a valid value of this column."""
        if not self.invalid(np.asarray(x, dtype=float)).any():
            return None
        if self.limit is not None and x > self.limit:
            return f"must be at most {self.limit:,.0f} (far beyond any real deployment)"
        return f"must be {self.requirement()}"

    def problem(self, x: float) -> Optional[str]:
        """Why the number *x* is not a valid value of this column, as text after the
        column name (``must be > 0, got 0``); None when it is valid."""
        rule = self.violation(x)
        return None if rule is None else f"{rule}, got {x:g}"

    def invalid(self, values: np.ndarray, bounds: bool = True) -> np.ndarray:
        """Element-wise: True where a value breaks a bound (unless *bounds* is
        False), the whole-number rule or the limit (NaN breaks every rule; blanks
        are the reader's business)."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values)
            for bound, op in ((self.gt, np.less_equal), (self.ge, np.less),
                              (self.le, np.greater), (self.lt, np.greater_equal)):
                if bound is not None and bounds:
                    bad |= op(values, bound)
            if self.whole:
                bad |= values != np.floor(values)
            if self.limit is not None:
                bad |= values > self.limit
        return bad


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class TableSpec:
    """One input table: its Excel Table name, data file, key and columns.

    ``min_rows`` is the fewest data rows the table may hold (the cost model needs
    at least one GPU, profile, price and subscription; the Variants table may be
    empty)."""
    name: str
    file: str
    key: str
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    unique_key: bool = True
    min_rows: int = 1
    #: True: the table may be absent (a data folder or a workbook made before it existed);
    #: it is then read as empty
    optional: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


#: the largest replica and batch a model profile may declare: a thousand times the
#: biggest clusters and batches in use, and small enough that the physics check's
#: memory arithmetic stays finite (a batch of 1e300 requests does not)
MAX_GPUS = 1e6
MAX_BATCH = 1e9

SOURCE = Column("source", "text", "Where the figure comes from (document, datasheet, assumption)",
                kind="text", required=False)

#: precision names the physics check knows (bytes per value in tokencost.inputs.catalog.PRECISION_BYTES)
PRECISIONS = ("bf16", "fp16", "fp8", "int8", "fp4", "nvfp4", "mxfp4", "int4", "fp32")

HARDWARE = TableSpec(
    "Hardware", "hardware.csv", "gpu", "One row per GPU type",
    (
        Column("gpu", "name", "GPU name, e.g. H100", kind="text"),
        Column("gpu_price_usd", "USD", "Purchase price of one GPU", ge=0),
        Column("power_w", "W", "Average electrical draw of one GPU (TDP as an upper estimate)", ge=0),
        Column("memory_gb", "GB", "GPU memory", gt=0, required=False),
        Column("memory_bandwidth_tb_s", "TB/s", "Memory bandwidth", gt=0, required=False),
        SOURCE,
    ),
)

COST_COMPONENTS = TableSpec(
    "CostComponents", "cost_components.csv", "gpu",
    "Operating assumptions, one row per GPU type in Hardware",
    (
        Column("gpu", "name", "GPU this row applies to (from Hardware)", kind="text",
               references="Hardware.gpu"),
        Column("depreciation_years", "years", "Economic life of the GPU", gt=0),
        Column("infra_usd_per_month", "USD/month", "Server, rack and network amortization per GPU", ge=0),
        Column("pue", "ratio", "Power usage effectiveness of the facility", ge=1),
        Column("power_price_usd_per_kwh", "USD/kWh", "Electricity price", ge=0),
        Column("staff_usd_per_month", "USD/month", "Pro-rated staff and operations per GPU", ge=0),
        Column("hours_per_month", "h/month", "Hours in a month (8760 / 12 = 730)", gt=0, default=730.0),
        Column("utilization", "share", "Share of paid hours spent serving at full rate", gt=0, le=1,
               default=1.0),
        Column("cost_of_capital", "1/year", "Annual cost of capital (0 = straight-line depreciation)",
               ge=0, lt=1, default=0.0),
        SOURCE,
    ),
)

MODELS = TableSpec(
    "Models", "models.csv", "model", "Model profiles: a model class served on a GPU type",
    (
        Column("model", "name", "Profile name, e.g. dense-70b", kind="text"),
        Column("gpu", "name", "GPU type serving it (from Hardware, with a CostComponents row)",
               kind="text", references="CostComponents.gpu"),
        Column("tokens_per_s", "tokens/s per GPU", "Output tokens per second per GPU", gt=0),
        Column("batch_size", "requests", "Concurrent requests per replica behind that rate", gt=0,
               required=False, whole=True, limit=MAX_BATCH),
        Column("architecture", "name", "Model architecture for the physics check (optional)",
               kind="text", required=False),
        Column("gpus", "GPUs", "GPUs in one serving replica", gt=0, required=False, default=1.0,
               whole=True, limit=MAX_GPUS),
        Column("weight_precision", "name",
               "Weight precision for the physics check (blank: the architecture's), e.g. fp8",
               kind="text", required=False, choices=PRECISIONS),
        Column("kv_precision", "name",
               "KV-cache precision for the physics check (blank: the architecture's), e.g. fp8",
               kind="text", required=False, choices=PRECISIONS),
        Column("description", "text", "What this profile stands for", kind="text", required=False),
        SOURCE,
    ),
)

PRICES = TableSpec(
    "Prices", "prices.csv", "model", "Providers' list prices and the profile each is compared against",
    (
        Column("provider", "name", "Provider", kind="text"),
        Column("model", "name", "Provider's model name", kind="text"),
        Column("price_usd_per_mtok", "USD/MTok", "List price for output tokens (the output price)",
               ge=0),
        Column("cost_basis", "name", "Model profile whose cost the price is compared against",
               kind="text", references="Models.model"),
        Column("price_input_usd_per_mtok", "USD/MTok",
               "List price for input tokens not served from cache (blank = not known)", ge=0,
               required=False),
        Column("price_cached_input_usd_per_mtok", "USD/MTok",
               "List price for cached input tokens (cache reads; blank = no cache discount, "
               "the input price)", ge=0, required=False, le_column="price_input_usd_per_mtok"),
        Column("as_of", "date", "When the prices were read (date as text, e.g. 2026-04-30)",
               kind="text", required=False),
        SOURCE,
    ),
)

SUBSCRIPTIONS = TableSpec(
    "Subscriptions", "subscriptions.csv", "plan", "Flat-rate plans recalculated at hardware cost",
    (
        Column("plan", "name", "Plan or user", kind="text"),
        Column("subscription_usd_per_month", "USD/month", "What the subscriber pays", ge=0),
        Column("api_equivalent_usd_per_month", "USD/month", "The same usage at API list prices", ge=0),
        Column("list_price_usd_per_mtok", "USD/MTok", "List price behind the API-equivalent bill", gt=0),
        Column("cost_basis", "name", "Model profile that serves the usage", kind="text",
               references="Models.model"),
        Column("rd_usd_per_mtok", "USD/MTok", "R&D amortization added per MTok", ge=0, default=0.0),
        Column("price_model", "name",
               "Price row (Prices model) whose input, cached and output prices split the bill by "
               "token type for a workload (blank = the seed's output-only reading)", kind="text",
               required=False, references="Prices.model"),
        SOURCE,
    ),
)

VARIANTS = TableSpec(
    "Variants", "variants.csv", "variant", "Named what-ifs: each row overrides one input everywhere",
    (
        Column("variant", "name", "Variant name", kind="text"),
        Column("name", "name", "Canonical input name to override", kind="text"),
        Column("value", "as the input", "Value that replaces the input"),
        SOURCE,
    ),
    unique_key=False,
    min_rows=0,
    optional=True,
)

WORKLOADS = TableSpec(
    "Workloads", "workloads.csv", "workload",
    "Named traffic mixes: input tokens per output token and the share of input served from cache",
    (
        Column("workload", "name", "Workload name, e.g. chat", kind="text"),
        Column("input_tokens_per_output_token", "tokens/token",
               "Input tokens sent per output token generated", ge=0),
        Column("cache_hit_share", "share", "Share of input tokens served from cache", ge=0, le=1),
        Column("description", "text", "What this workload stands for", kind="text", required=False),
        SOURCE,
    ),
    min_rows=0,
    optional=True,
)

TABLES: tuple[TableSpec, ...] = (HARDWARE, COST_COMPONENTS, MODELS, PRICES, SUBSCRIPTIONS, VARIANTS,
                                 WORKLOADS)
TABLES_BY_NAME = {t.name: t for t in TABLES}

#: the longest context a command or function argument may name [tokens]: a thousand
#: times the longest context windows offered, far inside the KV-cache arithmetic's range
MAX_CONTEXT_TOKENS = 1e9

#: arguments of commands and Excel functions that are in no input table but follow the
#: same kind of rules (``tokencost bound --context``, ``DECODE_TPS_BOUND(..., context_tokens)``)
ARGUMENTS: dict[str, Column] = {c.name: c for c in (
    Column("context_tokens", "tokens", "Tokens each sequence attends to", ge=0,
           limit=MAX_CONTEXT_TOKENS),
)}


def name_key(name) -> str:
    """How two names compare (a GPU, a profile, a cost basis): ignoring case and
    nothing else, as the workbook's own MATCH and COUNTIF formulas compare them.
    ``' H100'`` and ``'H100'`` differ: a name with surrounding spaces matches no
    other name (where it has to, :mod:`tokencost.inputs.validate` says so at its cell)."""
    return str(name).lower()


def overridable_inputs() -> dict[str, TableSpec]:
    """Numeric input names that ``--set name=value`` and variants may override,
    mapped to the table that holds them."""
    out: dict[str, TableSpec] = {}
    for table in TABLES:
        if table is VARIANTS:
            continue
        for col in table.columns:
            if col.kind == "number" and col.overridable:
                out.setdefault(col.name, table)
    return out


def count_rules() -> dict[str, Column]:
    """The number columns with a whole-number rule or a limit, by name (input tables
    and :data:`ARGUMENTS`): an Excel function argument of that name follows them too."""
    columns = [c for t in TABLES for c in t.columns] + list(ARGUMENTS.values())
    return {c.name: c for c in columns if c.kind == "number" and (c.whole or c.limit is not None)}

/**
 * Postgres catalog types -> the Parquet schema (as DuckDB types), decided from the catalog only, never from
 * the rows, so every file of a table has the same schema. Each column also gets the expression Postgres
 * selects for COPY (CSV) and the expression DuckDB turns that CSV field back into the typed value with.
 * See docs/ingest.md for the table.
 */

/** One column as the catalog describes it (domains already resolved to their base type). */
export interface CatalogColumn {
  name: string;
  /** `format_type()` of the declared type, e.g. `numeric(12,4)`, `mood`, `integer[]`. */
  declared: string;
  /** pg_type.typname of the base type (`int4`, `numeric`, `_int4` for arrays, the enum's name). */
  base: string;
  /** pg_type.typtype of the base type: b base, e enum, c composite, r range, m multirange. */
  kind: string;
  /** For arrays: the element's typname and typtype. */
  element?: { base: string; kind: string } | undefined;
  /** atttypmod (the element's for arrays): numeric precision/scale, varchar length, time precision. */
  typmod: number;
}

export interface ColumnPlan {
  name: string;
  declared: string;
  /** The DuckDB type written to Parquet. */
  parquetType: string;
  /** Postgres expression for the COPY select, given the quoted column. */
  pgExpr(quoted: string): string;
  /** Type of the CSV field as DuckDB reads it. */
  csvType: string;
  /** DuckDB expression turning the CSV field (given its quoted name) into the Parquet value. */
  duckExpr(field: string): string;
}

/** Element types that become a Parquet LIST of the same scalar type; other arrays are written as JSON. */
const LIST_ELEMENTS = new Set([
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'numeric',
  'bool',
  'text',
  'varchar',
  'bpchar',
  'name',
  'citext',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'uuid',
]);

/** DuckDB's DECIMAL holds at most 38 digits. */
const MAX_DECIMAL_PRECISION = 38;

/** numeric(p,s) from a typmod, or undefined for an unbounded numeric. */
export function numericPrecision(typmod: number): { precision: number; scale: number } | undefined {
  if (typmod < 4) return undefined;
  const packed = typmod - 4;
  const precision = (packed >> 16) & 0xffff;
  let scale = packed & 0x7ff;
  if (scale & 0x400) scale -= 0x800; // PostgreSQL 15+ allows a negative scale (11-bit two's complement)
  return { precision, scale };
}

/** The exact scalar DuckDB type for a Postgres base type, or undefined when it has none (kept as text). */
export function scalarType(base: string, kind: string, typmod: number): string | undefined {
  if (kind === 'e') return 'VARCHAR';
  switch (base) {
    case 'int2':
      return 'SMALLINT';
    case 'int4':
      return 'INTEGER';
    case 'int8':
      return 'BIGINT';
    case 'float4':
      return 'FLOAT';
    case 'float8':
      return 'DOUBLE';
    case 'numeric': {
      const p = numericPrecision(typmod);
      if (!p || p.precision > MAX_DECIMAL_PRECISION || p.scale < 0 || p.scale > p.precision) return undefined;
      return `DECIMAL(${p.precision},${p.scale})`;
    }
    case 'bool':
      return 'BOOLEAN';
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
    case 'citext':
      return 'VARCHAR';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'timestamptz':
      return 'TIMESTAMPTZ';
    case 'uuid':
      return 'UUID';
    default:
      return undefined;
  }
}

const INTERVAL_STRUCT = 'STRUCT(months INTEGER, days INTEGER, micros BIGINT)';
const INFINITE_INTERVAL = '{"months": 2147483647, "days": 2147483647, "micros": 9223372036854775807}';
const MINUS_INFINITE_INTERVAL =
  '{"months": -2147483648, "days": -2147483648, "micros": -9223372036854775808}';

export function planColumn(column: CatalogColumn): ColumnPlan {
  const common = { name: column.name, declared: column.declared };
  const text = (): ColumnPlan => ({
    ...common,
    parquetType: 'VARCHAR',
    pgExpr: (q) => `${q}::text`,
    csvType: 'VARCHAR',
    duckExpr: (f) => f,
  });
  if (column.element) {
    const base = column.element.base;
    if (base === 'json' || base === 'jsonb') {
      // A LIST of JSON, each element its own JSON text: array_to_json() of the array itself would write an SQL
      // NULL element and a JSON null element alike, as null.
      return {
        ...common,
        parquetType: 'JSON[]',
        pgExpr: (q) => `array_to_json(${q}::text[])::text`,
        csvType: 'VARCHAR',
        duckExpr: (f) => `list_transform(CAST(CAST(${f} AS JSON) AS VARCHAR[]), e -> CAST(e AS JSON))`,
      };
    }
    // An unbounded numeric element stays Postgres' exact text, as an unbounded numeric column does.
    const elementType = LIST_ELEMENTS.has(base)
      ? (scalarType(base, column.element.kind, column.typmod) ?? 'VARCHAR')
      : column.element.kind === 'e'
        ? 'VARCHAR'
        : undefined;
    if (elementType) {
      // Elements travel as JSON strings (Postgres' own text form of each element): exact for numeric,
      // which a JSON number would round through a double. char(n) goes as it is: a cast to text would drop
      // its padding. A BC date element ('0044-03-15 BC') is turned into the form DuckDB reads as BC.
      const elements = (f: string): string => `CAST(CAST(${f} AS JSON) AS VARCHAR[])`;
      return {
        ...common,
        parquetType: `${elementType}[]`,
        pgExpr: (q) =>
          base === 'bpchar' ? `array_to_json(${q})::text` : `array_to_json(${q}::text[])::text`,
        csvType: 'VARCHAR',
        duckExpr: (f) =>
          base === 'date'
            ? `list_transform(${elements(f)}, e -> CAST(regexp_replace(e, ' BC$', ' (BC)') AS DATE))`
            : `CAST(CAST(${f} AS JSON) AS ${elementType}[])`,
      };
    }
    return {
      ...common,
      parquetType: 'JSON',
      pgExpr: (q) => `array_to_json(${q})::text`,
      csvType: 'VARCHAR',
      duckExpr: (f) => `CAST(${f} AS JSON)`,
    };
  }
  switch (column.base) {
    case 'json':
    case 'jsonb':
      return {
        ...common,
        parquetType: 'JSON',
        pgExpr: (q) => `${q}::text`,
        csvType: 'VARCHAR',
        duckExpr: (f) => `CAST(${f} AS JSON)`,
      };
    case 'bytea':
      // bytea_output = hex: '\x' followed by two hex digits a byte.
      return {
        ...common,
        parquetType: 'BLOB',
        pgExpr: (q) => q,
        csvType: 'VARCHAR',
        duckExpr: (f) => `unhex(substr(${f}, 3))`,
      };
    case 'interval':
      // Parquet's INTERVAL holds milliseconds; Postgres keeps microseconds. A struct of Postgres' own three
      // fields is exact (docs/ingest.md shows how to turn it back into an INTERVAL).
      return {
        ...common,
        parquetType: INTERVAL_STRUCT,
        // PostgreSQL 17+ has ±infinity intervals, which extract() gives as ±Infinity (no int): they are written as
        // Postgres stores them, every field at its maximum (minimum).
        pgExpr: (q) =>
          `CASE WHEN ${q} IS NULL THEN NULL ` +
          `WHEN NOT isfinite(${q}) AND ${q} > interval '0' THEN '${INFINITE_INTERVAL}' ` +
          `WHEN NOT isfinite(${q}) THEN '${MINUS_INFINITE_INTERVAL}' ELSE json_build_object(` +
          `'months', (extract(year FROM ${q}) * 12 + extract(month FROM ${q}))::int, ` +
          `'days', extract(day FROM ${q})::int, ` +
          `'micros', (extract(hour FROM ${q}) * 3600000000 + extract(minute FROM ${q}) * 60000000 + extract(microseconds FROM ${q}))::bigint)::text END`,
        csvType: 'VARCHAR',
        duckExpr: (f) => `CAST(CAST(${f} AS JSON) AS ${INTERVAL_STRUCT})`,
      };
    case 'date':
    case 'timestamp':
    case 'timestamptz': {
      // Read as text and CAST, which fails naming the value, where a typed CSV column let DuckDB turn what it
      // cannot hold (a year past 294247) into NULL and read '0044-03-15 BC' as AD 44. BC dates are sent in
      // the form DuckDB reads; BC timestamps, which it cannot parse, fail the run instead of changing.
      const scalar = scalarType(column.base, column.kind, column.typmod) ?? 'VARCHAR';
      return {
        ...common,
        parquetType: scalar,
        pgExpr: (q) =>
          column.base === 'date'
            ? `CASE WHEN isfinite(${q}) AND ${q} < DATE '0001-01-01' THEN to_char(${q}, 'YYYY-MM-DD') || ' (BC)' ELSE ${q}::text END`
            : q,
        csvType: 'VARCHAR',
        duckExpr: (f) => `CAST(${f} AS ${scalar})`,
      };
    }
    default: {
      const scalar = scalarType(column.base, column.kind, column.typmod);
      if (!scalar) return text();
      return {
        ...common,
        parquetType: scalar,
        pgExpr: (q) => (column.kind === 'e' ? `${q}::text` : q),
        csvType: scalar,
        duckExpr: (f) => f,
      };
    }
  }
}

/**
 * The Parquet column name of each PostgreSQL column, in order. PostgreSQL tells `"ID"` from `id`; DuckDB,
 * Spark, Hive and Athena match column names without regard to case, so a later column whose name equals an
 * earlier one's in another case gets the first free `name_1`, `name_2`, … (what DuckDB would do anyway, now
 * known to the caller, which warns and reads the cursor and key back under these names).
 */
export function parquetColumnNames(names: readonly string[]): string[] {
  const taken = new Set(names.map((n) => n.toLowerCase()));
  const used = new Set<string>();
  return names.map((name) => {
    let out = name;
    if (used.has(name.toLowerCase())) {
      for (let i = 1; ; i++) {
        out = `${name}_${i}`;
        if (!taken.has(out.toLowerCase()) && !used.has(out.toLowerCase())) break;
      }
    }
    used.add(out.toLowerCase());
    return out;
  });
}

/**
 * Whether each CSV row COPY sends starts with an empty field of its own, before the columns: a CSV reader takes
 * a U+FEFF at the start of the file for a byte-order mark and drops it, which would cut it off a first text
 * value (the first row's).
 */
export function csvLeadField(plans: readonly ColumnPlan[]): boolean {
  return plans[0]?.csvType === 'VARCHAR';
}

/** `{name, type}` pairs as stored in the state file, for schema-change detection. */
export function schemaOf(plans: readonly ColumnPlan[]): { name: string; type: string }[] {
  return plans.map((p) => ({ name: p.name, type: p.parquetType }));
}

export interface SchemaChange {
  added: string[];
  removed: string[];
  changed: string[];
}

export function diffSchema(
  before: readonly { name: string; type: string }[],
  after: readonly { name: string; type: string }[],
): SchemaChange | undefined {
  const old = new Map(before.map((c) => [c.name, c.type]));
  const now = new Map(after.map((c) => [c.name, c.type]));
  const added = after.filter((c) => !old.has(c.name)).map((c) => c.name);
  const removed = before.filter((c) => !now.has(c.name)).map((c) => c.name);
  const changed = after.filter((c) => old.has(c.name) && old.get(c.name) !== c.type).map((c) => c.name);
  return added.length + removed.length + changed.length === 0 ? undefined : { added, removed, changed };
}

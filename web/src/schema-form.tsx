import type { ComponentChildren } from 'preact';
import type { FieldIssue, Json, Metadata, RegistryEntry } from './api.js';

/**
 * A form generated from a JSON Schema (the API's `DatasetMetadata` component in /openapi.json): a fieldset
 * per object, a checkbox per boolean, a text/date/URL input per string, a comma-separated input per string
 * array, a `key = value` textarea per string map, a select for registry references. Each validation issue
 * (`issues[].path` of the API) is shown beside the field it names, or the nearest enclosing fieldset.
 */

export interface JsonSchema {
  type?: string | string[];
  $ref?: string;
  title?: string;
  description?: string;
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: (string | number)[];
  maxLength?: number;
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
}

export type FormValues = Record<string, string | boolean>;

export interface Registry {
  organisations: RegistryEntry[];
  people: RegistryEntry[];
}

/** Resolves `#/components/schemas/X` references against the OpenAPI document's components. */
export function resolver(components: Record<string, JsonSchema>): (s: JsonSchema) => JsonSchema {
  const resolve = (s: JsonSchema): JsonSchema => {
    if (s.$ref) {
      const name = s.$ref.replace(/^#\/components\/schemas\//, '');
      const target = components[name];
      if (!target)
        throw new Error(`the metadata schema refers to ${s.$ref}, which the API does not describe`);
      return resolve({ ...target, ...(s.description ? { description: s.description } : {}) });
    }
    return s;
  };
  return resolve;
}

type Kind =
  'object' | 'map' | 'boolean' | 'list' | 'text' | 'longtext' | 'date' | 'url' | 'ref-org' | 'ref-person';

/**
 * The free-text fields written as sentences or paragraphs (Provena's CollectionFormat: what the data is, why it
 * was made, how to reach it, caveats, a citation) and the EWKT geometries, which can run to pages: textareas.
 * Every other string (a name, a point of contact, a rights holder, a resolution) is one line. The schema's
 * maxLength does not tell them apart (every free text allows 100,000 characters), so the form decides here.
 */
const MULTILINE = new Set([
  'datasetInfo.description',
  'datasetInfo.purpose',
  'datasetInfo.usageLimitations',
  'datasetInfo.preferredCitation',
  'datasetInfo.accessInfo.description',
  'datasetInfo.spatialInfo.coverage',
  'datasetInfo.spatialInfo.extent',
]);

function kindOf(path: string, s: JsonSchema): Kind {
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (type === 'object') return s.properties ? 'object' : 'map';
  if (type === 'boolean') return 'boolean';
  if (type === 'array') return 'list';
  if (s.format === 'date') return 'date';
  if (s.format === 'uri') return 'url';
  if (/^Registry id of the organisation/i.test(s.description ?? '')) return 'ref-org';
  if (/^Registry id of the person/i.test(s.description ?? '')) return 'ref-person';
  // A field the schema gains later is one line unless it is a description.
  if (MULTILINE.has(path) || path.split('.').pop() === 'description') return 'longtext';
  return 'text';
}

/** `datasetInfo.createdDate` -> `Created date`; `organisationId` -> `Organisation`. */
export function humanize(key: string): string {
  const words = key
    .replace(/Id$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const join = (base: string, key: string) => (base ? `${base}.${key}` : key);
export const fieldId = (path: string): string => `f-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** Every path the form renders a field or fieldset for. */
function collectPaths(
  schema: JsonSchema,
  resolve: (s: JsonSchema) => JsonSchema,
  base = '',
  out = new Set<string>(),
) {
  const s = resolve(schema);
  if (base) out.add(base);
  if (s.properties)
    for (const [k, child] of Object.entries(s.properties)) collectPaths(child, resolve, join(base, k), out);
  return out;
}

/** Form values from metadata (for the edit form). */
export function toValues(
  schema: JsonSchema,
  resolve: (s: JsonSchema) => JsonSchema,
  value: Json | undefined,
  base = '',
  out: FormValues = {},
): FormValues {
  const s = resolve(schema);
  const kind = base ? kindOf(base, s) : 'object';
  if (kind === 'object') {
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    for (const [k, child] of Object.entries(s.properties ?? {}))
      toValues(child, resolve, obj[k], join(base, k), out);
  } else if (kind === 'map') {
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
    out[base] = Object.entries(obj)
      .map(([k, v]) => `${k} = ${String(v)}`)
      .join('\n');
  } else if (kind === 'boolean') {
    out[base] = value === true;
  } else if (kind === 'list') {
    out[base] = Array.isArray(value) ? value.map(String).join(', ') : '';
  } else {
    out[base] = value === undefined || value === null ? '' : String(value);
  }
  return out;
}

/**
 * Metadata from form values. Empty strings and empty optional objects are left out, so the API's own
 * validation (not the browser's) decides and names every problem.
 */
export function fromValues(
  schema: JsonSchema,
  resolve: (s: JsonSchema) => JsonSchema,
  values: FormValues,
  base = '',
): Json | undefined {
  const s = resolve(schema);
  const kind = base ? kindOf(base, s) : 'object';
  const raw = values[base];
  switch (kind) {
    case 'object': {
      const obj: Metadata = {};
      const required = new Set(s.required ?? []);
      for (const [k, child] of Object.entries(s.properties ?? {})) {
        const v = fromValues(child, resolve, values, join(base, k));
        if (v !== undefined) obj[k] = v;
        else if (required.has(k) && resolve(child).properties) obj[k] = {};
      }
      return Object.keys(obj).length > 0 || !base ? obj : undefined;
    }
    case 'map': {
      const obj: Metadata = {};
      for (const line of String(raw ?? '').split('\n')) {
        if (!line.trim()) continue;
        const at = line.indexOf('=');
        if (at < 0) obj[line.trim()] = '';
        else obj[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      return Object.keys(obj).length > 0 ? obj : undefined;
    }
    case 'boolean':
      return raw === true;
    case 'list': {
      const items = String(raw ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return items.length > 0 ? items : undefined;
    }
    default: {
      const text = typeof raw === 'string' ? raw.trim() : '';
      return text === '' ? undefined : text;
    }
  }
}

/** One step of an API issue path: a field name, a list index, or a map key (`userMetadata["my key"]`). */
type PathStep = { name: string } | { index: number } | { key: string };

const STEP = /\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/** `a.b[2]["x.y"]` -> name a, name b, index 2, key x.y; null when the path is not in the API's shape. */
export function splitPath(path: string): PathStep[] | null {
  const steps: PathStep[] = [];
  for (let at = 0; at < path.length; at = STEP.lastIndex) {
    STEP.lastIndex = at;
    const m = STEP.exec(path);
    if (!m) return null;
    if (m[1] !== undefined) steps.push({ name: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else steps.push({ key: JSON.parse(m[3]!) as string });
  }
  return steps;
}

/** Issues by the rendered path they belong to ('' = none fits: shown above the form). */
export function placeIssues(
  schema: JsonSchema,
  resolve: (s: JsonSchema) => JsonSchema,
  issues: FieldIssue[],
  stripPrefix?: string,
): Map<string, string[]> {
  const paths = collectPaths(schema, resolve);
  const placed = new Map<string, string[]>();
  for (const issue of issues) {
    let path = issue.path;
    if (stripPrefix && (path === stripPrefix || path.startsWith(`${stripPrefix}.`)))
      path = path.slice(stripPrefix.length + 1);
    // The longest run of field names the form renders: keywords[2] -> keywords (a list is one input),
    // userMetadata["my key"] -> userMetadata (a map is one textarea), else the nearest rendered fieldset.
    const steps = splitPath(path) ?? [];
    let at = '';
    let used = 0;
    let names = '';
    for (const [i, step] of steps.entries()) {
      if (!('name' in step)) break;
      names = join(names, step.name);
      if (paths.has(names)) {
        at = names;
        used = i + 1;
      }
    }
    // What is below the field, for the reader: a map key or a deeper name (a list index is not shown).
    const below = steps
      .slice(used)
      .map((s) => ('name' in s ? s.name : 'key' in s ? s.key : ''))
      .filter((s) => s !== '')
      .join('.');
    const detail = at === '' && path ? `${path}: ${issue.message}` : issue.message;
    const suffix = at !== '' && below ? ` (${below})` : '';
    placed.set(at, [...(placed.get(at) ?? []), `${detail}${suffix}`]);
  }
  return placed;
}

interface FormProps {
  schema: JsonSchema;
  resolve: (s: JsonSchema) => JsonSchema;
  values: FormValues;
  onChange: (path: string, value: string | boolean) => void;
  issues: Map<string, string[]>;
  registry: Registry;
}

export function SchemaFields(props: FormProps) {
  const s = props.resolve(props.schema);
  return (
    <>
      {Object.entries(s.properties ?? {}).map(([k, child]) => (
        <Field
          {...props}
          key={k}
          name={k}
          path={k}
          schema={child}
          required={(s.required ?? []).includes(k)}
        />
      ))}
    </>
  );
}

function FieldErrors({ id, messages }: { id: string; messages: string[] | undefined }) {
  if (!messages || messages.length === 0) return null;
  return (
    <ul class="field-error" id={id}>
      {messages.map((m, i) => (
        <li key={i}>{m}</li>
      ))}
    </ul>
  );
}

function Field(props: FormProps & { name: string; path: string; required: boolean }) {
  const { path, name, required, values, onChange, issues, registry } = props;
  const s = props.resolve(props.schema);
  const kind = kindOf(path, s);
  const id = fieldId(path);
  const errId = `${id}-error`;
  const hintId = `${id}-hint`;
  const errors = issues.get(path);
  const label = (s.title && kind === 'object' ? s.title.replace(/^Dataset /, '') : null) ?? humanize(name);
  const hint = s.description ? (
    <p class="hint" id={hintId}>
      {s.description}
    </p>
  ) : null;
  const describedBy =
    [s.description ? hintId : '', errors ? errId : ''].filter(Boolean).join(' ') || undefined;
  const mark = required ? (
    <span class="required" aria-hidden="true">
      {' '}
      *
    </span>
  ) : null;

  if (kind === 'object') {
    const required = new Set(s.required ?? []);
    return (
      <fieldset
        class={errors ? 'invalid' : undefined}
        data-path={path}
        aria-describedby={describedBy}
        tabIndex={errors ? -1 : undefined}
      >
        <legend>
          {label}
          {mark}
        </legend>
        {hint}
        <FieldErrors id={errId} messages={errors} />
        {Object.entries(s.properties ?? {}).map(([k, child]) => (
          <Field {...props} key={k} name={k} path={join(path, k)} schema={child} required={required.has(k)} />
        ))}
      </fieldset>
    );
  }

  let control: ComponentChildren;
  const common = {
    id,
    name: path,
    'data-path': path,
    'aria-invalid': errors ? ('true' as const) : undefined,
    'aria-describedby': describedBy,
    'aria-required': required ? ('true' as const) : undefined,
  };
  const text = typeof values[path] === 'string' ? (values[path] as string) : '';
  const onInput = (e: Event) => onChange(path, (e.currentTarget as HTMLInputElement).value);
  if (kind === 'boolean') {
    return (
      <div class={`field checkbox${errors ? ' invalid' : ''}`}>
        <input
          {...common}
          type="checkbox"
          checked={values[path] === true}
          onChange={(e) => onChange(path, (e.currentTarget as HTMLInputElement).checked)}
        />
        <label for={id}>
          {label}
          {mark}
        </label>
        <FieldErrors id={errId} messages={errors} />
        {hint}
      </div>
    );
  }
  if (kind === 'ref-org' || kind === 'ref-person') {
    const entries = kind === 'ref-org' ? registry.organisations : registry.people;
    const known = entries.some((e) => e.id === text);
    control = (
      <select {...common} value={text} onChange={onInput}>
        <option value="">{required ? '— choose —' : '— none —'}</option>
        {!known && text ? <option value={text}>{text} (not in the registry)</option> : null}
        {entries.map((e) => (
          <option key={e.id} value={e.id}>
            {e.displayName} ({e.id})
          </option>
        ))}
      </select>
    );
  } else if (kind === 'longtext' || kind === 'map') {
    control = (
      <textarea
        {...common}
        rows={kind === 'map' ? 3 : 4}
        value={text}
        onInput={onInput}
        placeholder={kind === 'map' ? 'key = value (one per line)' : undefined}
      />
    );
  } else {
    control =
      kind === 'date' ? (
        <input {...common} type="date" value={text} onInput={onInput} />
      ) : (
        <input
          {...common}
          type="text"
          inputMode={kind === 'url' ? 'url' : undefined}
          value={text}
          onInput={onInput}
          placeholder={
            kind === 'list' ? 'comma, separated, values' : kind === 'url' ? 'https://…' : undefined
          }
        />
      );
  }
  return (
    <div class={`field${errors ? ' invalid' : ''}`}>
      <label for={id}>
        {label}
        {mark}
      </label>
      {control}
      <FieldErrors id={errId} messages={errors} />
      {hint}
    </div>
  );
}

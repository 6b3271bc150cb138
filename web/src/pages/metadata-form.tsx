import { useEffect, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  datasetPath,
  type DatasetRecord,
  type FieldIssue,
  type RegistryEntry,
} from '../api.js';
import {
  fromValues,
  placeIssues,
  resolver,
  SchemaFields,
  toValues,
  type FormValues,
  type JsonSchema,
  type Registry,
} from '../schema-form.js';
import { datasetHref, ErrorMessage, Loading, navigate, useAction, useLoad } from '../ui.js';

interface Setup {
  schema: JsonSchema;
  resolve: (s: JsonSchema) => JsonSchema;
  registry: Registry;
  record: DatasetRecord | null;
}

let openApi: Promise<{ components?: { schemas?: Record<string, JsonSchema> } }> | undefined;

async function loadRegistry(): Promise<Registry> {
  const [orgs, people] = await Promise.all([
    api<{ items: RegistryEntry[] }>('/organisations'),
    api<{ items: RegistryEntry[] }>('/people'),
  ]);
  return { organisations: orgs.items, people: people.items };
}

/**
 * Mint (`id` absent) or edit a dataset's metadata with a form generated from the API's metadata JSON Schema
 * (`components.schemas.DatasetMetadata` of /openapi.json). The API validates; each issue shows by its field.
 */
export function MetadataFormPage({ id }: { id?: string }) {
  const setup = useLoad<Setup>(async () => {
    openApi ??= api('/openapi.json');
    const doc = await openApi.catch((e: unknown) => {
      openApi = undefined;
      throw e;
    });
    const components = doc.components?.schemas ?? {};
    const schema = components.DatasetMetadata;
    if (!schema)
      throw new Error(
        'The API does not describe the dataset metadata (no DatasetMetadata in /openapi.json).',
      );
    const [registry, record] = await Promise.all([
      loadRegistry(),
      id ? api<DatasetRecord>(datasetPath(id)) : Promise.resolve(null),
    ]);
    return { schema, resolve: resolver(components), registry, record };
  }, [id]);
  const title = id ? `Edit metadata of ${id}` : 'Register a dataset';
  if (setup.error) {
    return (
      <section>
        <h1 tabIndex={-1}>{title}</h1>
        <ErrorMessage error={setup.error} />
      </section>
    );
  }
  if (!setup.data) return <Loading what="the metadata form" />;
  return <MetadataForm key={id ?? 'new'} id={id} title={title} setup={setup.data} />;
}

function MetadataForm({ id, title, setup }: { id?: string; title: string; setup: Setup }) {
  const { schema, resolve, record } = setup;
  const [registry, setRegistry] = useState(setup.registry);
  const [values, setValues] = useState<FormValues>(() => {
    if (record) return toValues(schema, resolve, record.metadata);
    const initial = toValues(schema, resolve, {});
    initial['datasetInfo.accessInfo.reposited'] = true;
    return initial;
  });
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [reason, setReason] = useState('');
  const [checked, setChecked] = useState<string | null>(null);
  const action = useAction();
  const strip = id ? 'metadata' : undefined;
  // The edit's reason is not metadata: its issue goes beside its own input, not to the summary.
  const reasonIssues = id ? issues.filter((i) => i.path === 'reason').map((i) => i.message) : [];
  const placed = placeIssues(
    schema,
    resolve,
    issues.filter((i) => !(id && i.path === 'reason')),
    strip,
  );
  const general = placed.get('') ?? [];
  const [focusFirst, setFocusFirst] = useState(0);

  useEffect(() => {
    if (focusFirst === 0) return;
    const first = document.querySelector<HTMLElement>('[aria-invalid="true"], fieldset.invalid');
    (first ?? document.getElementById('form-problems'))?.focus();
  }, [focusFirst]);

  const metadata = () => fromValues(schema, resolve, values);

  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.issues.length > 0) {
      setIssues(e.issues);
      setFocusFirst((n) => n + 1);
      return;
    }
    throw e;
  };

  const submit = () =>
    action.run(async () => {
      setChecked(null);
      try {
        if (id && record) {
          await api(`${datasetPath(id)}/metadata`, {
            method: 'PUT',
            body: {
              reason: reason.trim() || undefined,
              metadata: metadata(),
              expectedRevision: record.revision,
            },
          });
          navigate(datasetHref(id));
        } else {
          const minted = await api<DatasetRecord>('/datasets', { method: 'POST', body: metadata() });
          navigate(datasetHref(minted.id));
        }
        setIssues([]);
      } catch (e) {
        fail(e);
      }
    });

  const check = () =>
    action.run(async () => {
      const result = await api<{ valid: boolean; issues: FieldIssue[] }>('/datasets/validate', {
        method: 'POST',
        body: metadata(),
      });
      setIssues(result.issues);
      setChecked(result.valid ? 'The metadata is valid.' : null);
      if (!result.valid) setFocusFirst((n) => n + 1);
    });

  return (
    <section>
      <h1 tabIndex={-1}>{title}</h1>
      <p class="muted">
        Fields marked <span class="required">*</span> are required. The service checks everything when you
        save and names each problem beside its field.
      </p>
      <RegistryQuickAdd onAdded={(r) => setRegistry(r)} />
      <form
        class="metadata-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {issues.length > 0 ? (
          <div class="error" id="form-problems" role="alert" tabIndex={-1}>
            {issues.length === 1 ? 'There is 1 problem' : `There are ${issues.length} problems`} — fix the
            marked fields and save again.
            {general.length > 0 ? (
              <ul>
                {general.map((m, i) => (
                  <li key={i}>{m}</li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
        {checked ? (
          <div class="notice" role="status">
            {checked}
          </div>
        ) : null}
        {id ? (
          <div class={`field${reasonIssues.length > 0 ? ' invalid' : ''}`}>
            <label for="edit-reason">
              Reason for the change
              <span class="required" aria-hidden="true">
                {' '}
                *
              </span>
            </label>
            <input
              id="edit-reason"
              type="text"
              value={reason}
              aria-required="true"
              aria-invalid={reasonIssues.length > 0 ? 'true' : undefined}
              aria-describedby={reasonIssues.length > 0 ? 'edit-reason-error' : undefined}
              onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
            />
            {reasonIssues.length > 0 ? (
              <ul class="field-error" id="edit-reason-error">
                {reasonIssues.map((m, i) => (
                  <li key={i}>{m}</li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
        <SchemaFields
          schema={schema}
          resolve={resolve}
          values={values}
          registry={registry}
          issues={placed}
          onChange={(path, value) => {
            setValues((v) => ({ ...v, [path]: value }));
            setChecked(null);
          }}
        />
        <ErrorMessage error={action.error} />
        <div class="actions sticky-actions">
          <button type="submit" disabled={action.busy}>
            {id ? 'Save changes' : 'Register dataset'}
          </button>
          <button type="button" class="secondary" disabled={action.busy} onClick={() => void check()}>
            Check
          </button>
          <a class="button secondary" href={id ? datasetHref(id) : '#/datasets'}>
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

/** Organisations and people that metadata refers to, registered without leaving the form. */
function RegistryQuickAdd({ onAdded }: { onAdded: (r: Registry) => void }) {
  const [kind, setKind] = useState<'organisation' | 'person'>('organisation');
  const [name, setName] = useState('');
  const [lastName, setLastName] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const action = useAction();
  return (
    <details class="panel quick-add">
      <summary>Register an organisation or person</summary>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const entry =
              kind === 'organisation'
                ? await api<RegistryEntry>('/organisations', { method: 'POST', body: { name: name.trim() } })
                : await api<RegistryEntry>('/people', {
                    method: 'POST',
                    body: { firstName: name.trim(), lastName: lastName.trim() },
                  });
            setAdded(`Registered ${entry.displayName} as ${entry.id}.`);
            setName('');
            setLastName('');
            onAdded(await loadRegistry());
          });
        }}
      >
        <div class="field">
          <label for="reg-kind">Kind</label>
          <select
            id="reg-kind"
            value={kind}
            onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as 'organisation')}
          >
            <option value="organisation">Organisation</option>
            <option value="person">Person</option>
          </select>
        </div>
        <div class="field grow">
          <label for="reg-name">{kind === 'organisation' ? 'Organisation name' : 'First name'}</label>
          <input
            id="reg-name"
            type="text"
            value={name}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        {kind === 'person' ? (
          <div class="field grow">
            <label for="reg-last">Last name</label>
            <input
              id="reg-last"
              type="text"
              value={lastName}
              onInput={(e) => setLastName((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
        ) : null}
        <button type="submit" disabled={action.busy}>
          Register
        </button>
      </form>
      {added ? (
        <p class="notice" role="status">
          {added}
        </p>
      ) : null}
      <ErrorMessage error={action.error} />
    </details>
  );
}

// A project's API keys: the list, "Create API key" (scopes, optional expiry) and
// "Revoke". Rendered only for callers who may manage the project's keys.
import { useId, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import type { ApiKeyScope } from "../../gql/graphql";
import { ConfirmDialog } from "./ConfirmDialog";
import { formatWhen } from "./dates";
import { EXPIRIES, SCOPES, errorText, expiryDate, type ScopeValue } from "./snippets";

const CreateApiKey = graphql(`
  mutation CreateApiKey($projectId: ID!, $scopes: [ApiKeyScope!]!, $expiresAt: DateTime) {
    createApiKey(projectId: $projectId, scopes: $scopes, expiresAt: $expiresAt) {
      secret
      apiKey {
        id
        prefix
      }
    }
  }
`);

const RevokeApiKey = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      id
      revokedAt
    }
  }
`);

export interface ApiKeyRow {
  id: string;
  prefix: string;
  scopes: readonly ApiKeyScope[];
  createdAt: string;
  expiresAt?: string | null;
  revokedAt?: string | null;
  lastUsedAt?: string | null;
}

interface Props {
  projectId: string;
  projectName: string;
  keys: readonly ApiKeyRow[] | undefined;
  loading: boolean;
  onCreated(secret: string): void;
}

function statusOf(key: ApiKeyRow, now: number): "Revoked" | "Expired" | "Active" {
  if (key.revokedAt) return "Revoked";
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) return "Expired";
  return "Active";
}

// The list refreshes by itself after a change: the mutations answer with an ApiKey, and
// urql's document cache then re-runs the queries that hold ApiKeys (the page's details
// query declares them even when it holds none).
export function ApiKeys({ projectId, projectName, keys, loading, onCreated }: Props) {
  const [creating, setCreating] = useState(false);
  const [scopes, setScopes] = useState<ScopeValue[]>(["INGEST", "READ"]);
  const [expiry, setExpiry] = useState("");
  const [createError, setCreateError] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyRow | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const [created, createKey] = useMutation(CreateApiKey);
  const [revoked, revokeKey] = useMutation(RevokeApiKey);
  const now = Date.now();
  const formId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setCreateError(null);
    const result = await createKey({ projectId, scopes, expiresAt: expiryDate(expiry, Date.now()) });
    if (result.error || !result.data) {
      setCreateError(result.error ? errorText(result.error) : "no answer from the server");
      return;
    }
    setCreating(false);
    setScopes(["INGEST", "READ"]);
    setExpiry("");
    onCreated(result.data.createApiKey.secret);
  }

  async function revoke() {
    if (!revoking) return;
    setRevokeError(null);
    const result = await revokeKey({ id: revoking.id });
    if (result.error) {
      setRevokeError(errorText(result.error));
      return;
    }
    setRevoking(null);
  }

  return (
    <>
      {keys === undefined ? (
        <p className="muted">{loading ? "Loading keys…" : "The keys could not be loaded."}</p>
      ) : keys.length === 0 ? (
        <p className="muted">No API keys: create one to send traces to this project.</p>
      ) : (
        <div className="table-scroll">
          <table className="grid keys" aria-label={`API keys of ${projectName}`}>
            <thead>
              <tr>
                <th scope="col">Prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => {
                const status = statusOf(key, now);
                return (
                  <tr key={key.id} className={status === "Active" ? undefined : "inactive"}>
                    <td>
                      <code>{key.prefix}…</code>
                    </td>
                    <td>
                      {key.scopes.map((scope) => (
                        <span key={scope} className="scope">
                          {scope.toLowerCase()}
                        </span>
                      ))}
                    </td>
                    <td>{formatWhen(key.createdAt)}</td>
                    <td>{key.lastUsedAt ? formatWhen(key.lastUsedAt) : "never"}</td>
                    <td>{key.expiresAt ? formatWhen(key.expiresAt) : "never"}</td>
                    <td className={`key-${status.toLowerCase()}`}>
                      {status}
                      {status === "Revoked" && key.revokedAt && <small>{formatWhen(key.revokedAt)}</small>}
                    </td>
                    <td className="actions">
                      {status === "Active" && (
                        <button
                          type="button"
                          className="ghost small"
                          onClick={() => {
                            setRevokeError(null);
                            setRevoking(key);
                          }}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      {creating ? (
        <form className="create-key" aria-label="Create API key" onSubmit={(event) => void submit(event)}>
          <fieldset>
            <legend>Scopes</legend>
            {SCOPES.map((scope) => (
              <span key={scope.value} className="check">
                <input
                  type="checkbox"
                  id={`${formId}-${scope.value}`}
                  aria-describedby={`${formId}-${scope.value}-hint`}
                  checked={scopes.includes(scope.value)}
                  onChange={(event) =>
                    setScopes((current) =>
                      event.target.checked ? [...current, scope.value] : current.filter((s) => s !== scope.value),
                    )
                  }
                />
                <label htmlFor={`${formId}-${scope.value}`}>{scope.label}</label>
                <span className="muted" id={`${formId}-${scope.value}-hint`}>
                  ({scope.hint})
                </span>
              </span>
            ))}
          </fieldset>
          <div className="field">
            <label htmlFor={`${formId}-expires`}>Expires</label>
            <select id={`${formId}-expires`} value={expiry} onChange={(event) => setExpiry(event.target.value)}>
              {EXPIRIES.map((choice) => (
                <option key={choice.value} value={choice.value}>
                  {choice.label}
                </option>
              ))}
            </select>
          </div>
          {createError && (
            <p className="error" role="alert">
              {createError}
            </p>
          )}
          <div className="row-actions">
            <button type="submit" disabled={created.fetching || scopes.length === 0}>
              {created.fetching ? "Creating…" : "Create key"}
            </button>
            <button type="button" className="ghost" onClick={() => setCreating(false)}>
              Cancel
            </button>
          </div>
          {scopes.length === 0 && <p className="muted">Choose at least one scope.</p>}
        </form>
      ) : (
        <button
          type="button"
          onClick={() => {
            setCreateError(null);
            setCreating(true);
          }}
        >
          Create API key
        </button>
      )}

      {revoking && (
        <ConfirmDialog
          title={`Revoke API key ${revoking.prefix}…?`}
          confirmLabel="Revoke key"
          busy={revoked.fetching}
          error={revokeError}
          onConfirm={() => void revoke()}
          onCancel={() => setRevoking(null)}
        >
          <p>
            The key <code>{revoking.prefix}…</code> of <strong>{projectName}</strong> (
            {revoking.scopes.map((s) => s.toLowerCase()).join(", ")}) stops working at once. Anything still using it
            will be refused. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

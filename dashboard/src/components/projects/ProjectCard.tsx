// One project: its name (with "Rename"), numbers, "Delete", and its "API keys" section.
// Each control is rendered only when the caller's permissions in the project allow it.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import { formatNumber } from "../../lib/format";
import { ApiKeys, type ApiKeyRow } from "./ApiKeys";
import { ConfirmDialog } from "./ConfirmDialog";
import { formatWhen } from "./dates";
import { NewKeyPanel } from "./NewKeyPanel";
import { errorText } from "./snippets";

const RenameProject = graphql(`
  mutation RenameProject($id: ID!, $name: String!) {
    renameProject(id: $id, name: $name) {
      id
      name
    }
  }
`);

const DeleteProject = graphql(`
  mutation DeleteProject($id: ID!) {
    deleteProject(id: $id)
  }
`);

export interface ProjectRow {
  id: string;
  name: string;
  createdAt: string;
  traceCount: number;
  spanCount: number;
  lastTraceAt?: string | null;
  viewerPermissions: readonly string[];
}

interface Props {
  project: ProjectRow;
  organizationName: string;
  keys: readonly ApiKeyRow[] | undefined;
  keysLoading: boolean;
  /** A secret just made for this project, shown once. */
  fresh: { secret: string; intro?: string } | null;
  onSecret(secret: string): void;
  onDismissSecret(): void;
  /** The project was deleted. (A rename needs no help: the answered Project makes urql
   * re-run every query holding Projects, the header's list too.) */
  onDeleted(): void;
}

export function ProjectCard(props: Props) {
  const { project, organizationName, keys, keysLoading, fresh } = props;
  const may = (permission: string) => project.viewerPermissions.includes(permission);
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(project.name);
  const [renameError, setRenameError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [renamed, rename] = useMutation(RenameProject);
  const [deleted, remove] = useMutation(DeleteProject);
  const headingId = `project-${project.id.replace(/\W/g, "")}`;

  async function submitRename(event: FormEvent) {
    event.preventDefault();
    const next = name.trim();
    if (next === project.name) {
      setRenaming(false);
      return;
    }
    setRenameError(null);
    const result = await rename({ id: project.id, name: next });
    if (result.error) {
      setRenameError(errorText(result.error));
      return;
    }
    setRenaming(false);
  }

  async function confirmDelete() {
    setDeleteError(null);
    const result = await remove({ id: project.id });
    if (result.error) {
      setDeleteError(errorText(result.error));
      return;
    }
    setDeleting(false);
    props.onDeleted();
  }

  return (
    <article className="project card" aria-labelledby={headingId}>
      <header className="project-head">
        {renaming ? (
          <form className="rename" aria-label={`Rename ${project.name}`} onSubmit={(event) => void submitRename(event)}>
            <label className="sr-only" htmlFor={`${headingId}-name`}>
              New name
            </label>
            <input
              id={`${headingId}-name`}
              value={name}
              onChange={(event) => setName(event.target.value)}
              onKeyDown={(event) => event.key === "Escape" && setRenaming(false)}
              required
              maxLength={200}
              autoFocus
            />
            <button type="submit" disabled={renamed.fetching || !name.trim()}>
              Save
            </button>
            <button type="button" className="ghost" onClick={() => setRenaming(false)}>
              Cancel
            </button>
            <h3 id={headingId} className="sr-only">
              {project.name}
            </h3>
          </form>
        ) : (
          <h3 id={headingId}>{project.name}</h3>
        )}
        <span className="spacer" />
        {!renaming && may("manage_project") && (
          <button
            type="button"
            className="ghost"
            onClick={() => {
              setName(project.name);
              setRenameError(null);
              setRenaming(true);
            }}
          >
            Rename
          </button>
        )}
        {may("delete_project") && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              setDeleteError(null);
              setDeleting(true);
            }}
          >
            Delete
          </button>
        )}
      </header>
      {renameError && (
        <p className="error" role="alert">
          {renameError}
        </p>
      )}
      <p className="project-facts">
        <span>{formatNumber(project.traceCount)} traces</span>
        <span>{formatNumber(project.spanCount)} spans</span>
        <span>{project.lastTraceAt ? `last trace ${formatWhen(project.lastTraceAt)}` : "no traces yet"}</span>
        <span>created {formatWhen(project.createdAt)}</span>
      </p>

      {fresh && (
        <NewKeyPanel secret={fresh.secret} intro={fresh.intro} projectName={project.name} onDone={props.onDismissSecret} />
      )}

      <section className="api-keys" aria-labelledby={`${headingId}-keys`}>
        <h4 id={`${headingId}-keys`}>API keys</h4>
        {may("manage_keys") ? (
          <>
            {project.traceCount === 0 && !fresh && (
              <p className="muted">No traces yet: create an API key, and it comes with the snippet that sends the first one.</p>
            )}
            <ApiKeys
              projectId={project.id}
              projectName={project.name}
              keys={keys}
              loading={keysLoading}
              onCreated={props.onSecret}
            />
          </>
        ) : (
          <p className="muted">Admins and owners of {organizationName} manage this project's API keys.</p>
        )}
      </section>

      {deleting && (
        <ConfirmDialog
          title={`Delete project “${project.name}”?`}
          confirmLabel="Delete project"
          busy={deleted.fetching}
          error={deleteError}
          onConfirm={() => void confirmDelete()}
          onCancel={() => setDeleting(false)}
        >
          <p>
            This deletes <strong>{project.name}</strong> in {organizationName} with all its{" "}
            {formatNumber(project.traceCount)} traces, {formatNumber(project.spanCount)} spans, annotations and API keys.
            It cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </article>
  );
}

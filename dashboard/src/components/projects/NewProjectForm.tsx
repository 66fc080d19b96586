// "New project": a name and, when the caller may create projects in several, the
// organisation. The answer carries the project's first API key, shown once.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import { errorText } from "./snippets";

const CreateProject = graphql(`
  mutation CreateProject($name: String!, $organizationId: ID) {
    createProject(name: $name, organizationId: $organizationId) {
      project {
        id
        name
      }
      secret
    }
  }
`);

interface Props {
  organizations: readonly { id: string; name: string }[];
  onCreated(project: { id: string; name: string }, secret: string): void;
  onCancel(): void;
}

export function NewProjectForm({ organizations, onCreated, onCancel }: Props) {
  const [name, setName] = useState("");
  const [organizationId, setOrganizationId] = useState(organizations[0]?.id ?? "");
  const [error, setError] = useState<string | null>(null);
  const [state, create] = useMutation(CreateProject);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const result = await create({ name: name.trim(), organizationId: organizationId || null });
    if (result.error || !result.data) {
      setError(result.error ? errorText(result.error) : "no answer from the server");
      return;
    }
    onCreated(result.data.createProject.project, result.data.createProject.secret);
  }

  return (
    <form className="new-project card" aria-label="New project" onSubmit={(event) => void submit(event)}>
      <label className="field">
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} required maxLength={200} autoFocus />
      </label>
      {organizations.length > 1 && (
        <div className="field">
          <label htmlFor="new-project-organization">Organisation</label>
          <select
            id="new-project-organization"
            value={organizationId}
            onChange={(event) => setOrganizationId(event.target.value)}
          >
            {organizations.map((org) => (
              <option key={org.id} value={org.id}>
                {org.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <button type="submit" disabled={state.fetching || !name.trim()}>
        {state.fetching ? "Creating…" : "Create project"}
      </button>
      <button type="button" className="ghost" onClick={onCancel}>
        Cancel
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

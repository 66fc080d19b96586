// /projects: the caller's organisations and their projects; create, rename and delete
// projects; each project's API keys; each organisation's members (admins and owners).
// Controls the caller may not use are not rendered: the server tells us what it may do
// (Organization.permissions, Project.viewerPermissions).
//
// Two queries, whatever the number of projects: the structure with the permissions, then
// (only for what the caller may manage) every listed project's keys in one `nodes`
// call and the members.
import { useMemo, useState } from "react";
import { useQuery } from "urql";
import { useProject } from "../components/ProjectContext";
import type { ApiKeyRow } from "../components/projects/ApiKeys";
import { Members, type MemberRow } from "../components/projects/Members";
import { NewKeyPanel } from "../components/projects/NewKeyPanel";
import { NewProjectForm } from "../components/projects/NewProjectForm";
import { ProjectCard } from "../components/projects/ProjectCard";
import { errorText } from "../components/projects/snippets";
import "../components/projects/projects.css";
import { graphql } from "../gql";

const ProjectsPageQuery = graphql(`
  query ProjectsPage {
    viewer {
      principal
      organizations {
        id
        name
        permissions
        projects {
          id
          name
          createdAt
          traceCount
          spanCount
          lastTraceAt
          viewerPermissions
        }
      }
    }
  }
`);

const ProjectsDetailsQuery = graphql(`
  query ProjectsDetails($keyProjects: [ID!]!, $members: Boolean!) {
    keys: nodes(ids: $keyProjects) {
      ... on Project {
        id
        apiKeys {
          id
          prefix
          scopes
          createdAt
          expiresAt
          revokedAt
          lastUsedAt
        }
      }
    }
    viewer {
      organizations {
        id
        members @include(if: $members) {
          userId
          email
          role
          since
        }
      }
    }
  }
`);

// An empty list carries no __typename: declare what the details may hold, so that a
// mutation answering with an ApiKey or a Member re-runs the query even then.
const DETAILS_CONTEXT = { additionalTypenames: ["ApiKey", "Member"] };

interface Fresh {
  projectId: string;
  secret: string;
  intro?: string;
  projectName: string;
}

export function ProjectsPage() {
  const context = useProject();
  const [structure, refetchStructure] = useQuery({ query: ProjectsPageQuery });
  const organizations = useMemo(() => structure.data?.viewer.organizations ?? [], [structure.data]);
  const me = structure.data?.viewer.principal.startsWith("user:")
    ? structure.data.viewer.principal.slice("user:".length)
    : null;

  const keyProjects = useMemo(
    () =>
      organizations.flatMap((org) =>
        org.projects.filter((p) => p.viewerPermissions.includes("manage_keys")).map((p) => p.id),
      ),
    [organizations],
  );
  const memberOrgs = organizations.filter((org) => org.permissions.includes("manage_members"));
  // Organization.members refuses callers who may not manage members, and the refusal
  // would void the whole answer: ask only when the caller may in every organisation.
  const allMembers = memberOrgs.length > 0 && memberOrgs.length === organizations.length;
  const [details, refetchDetails] = useQuery({
    query: ProjectsDetailsQuery,
    variables: { keyProjects, members: allMembers },
    context: DETAILS_CONTEXT,
    pause: !structure.data || (keyProjects.length === 0 && !allMembers),
  });
  const keysByProject = useMemo(() => {
    const found = new Map<string, ApiKeyRow[]>();
    for (const node of details.data?.keys ?? []) {
      if (node && "apiKeys" in node) found.set(node.id, node.apiKeys);
    }
    return found;
  }, [details.data]);
  const membersByOrg = useMemo(() => {
    const found = new Map<string, MemberRow[]>();
    for (const org of details.data?.viewer.organizations ?? []) if (org.members) found.set(org.id, org.members);
    return found;
  }, [details.data]);

  const creatable = organizations.filter((org) => org.permissions.includes("create_projects"));
  const [creating, setCreating] = useState(false);
  const [fresh, setFresh] = useState<Fresh | null>(null);

  // What a mutation's answer does not refresh by itself (see ApiKeys, Members and
  // ProjectCard), asked again here.
  function projectsChanged() {
    refetchStructure({ requestPolicy: "network-only" });
    context.refetch();
  }
  function membersChanged({ userId, removed }: { userId: string; removed: boolean }) {
    if (removed) refetchDetails({ requestPolicy: "network-only" });
    if (userId === me) projectsChanged();
  }

  if (structure.fetching && !structure.data) return <div className="splash">Loading…</div>;
  if (structure.error && !structure.data) {
    return (
      <p className="error" role="alert">
        {errorText(structure.error)}
      </p>
    );
  }

  const freshShown = fresh && organizations.some((org) => org.projects.some((p) => p.id === fresh.projectId));

  return (
    <div className="projects-page">
      <div className="projects-toolbar">
        <h1>Projects</h1>
        <span className="spacer" />
        {creatable.length > 0 && (
          <button type="button" aria-expanded={creating} onClick={() => setCreating((open) => !open)}>
            New project
          </button>
        )}
      </div>
      {creating && creatable.length > 0 && (
        <NewProjectForm
          organizations={creatable}
          onCancel={() => setCreating(false)}
          onCreated={(project, secret) => {
            setCreating(false);
            setFresh({
              projectId: project.id,
              projectName: project.name,
              secret,
              intro: `Project ${project.name} created with its first API key (all scopes).`,
            });
          }}
        />
      )}
      {/* Until the new project appears in the list, its key is shown here. */}
      {fresh && !freshShown && (
        <NewKeyPanel
          secret={fresh.secret}
          intro={fresh.intro}
          projectName={fresh.projectName}
          onDone={() => setFresh(null)}
        />
      )}
      {details.error && (
        <p className="error" role="alert">
          {errorText(details.error)}
        </p>
      )}
      {organizations.length === 0 && <p className="empty">You are not a member of any organisation yet.</p>}

      {organizations.map((org) => (
        <section key={org.id} className="organization" aria-labelledby={`org-${org.id}`}>
          <h2 id={`org-${org.id}`}>
            {org.name} <span className="muted role">{roleOf(org.permissions, org.projects)}</span>
          </h2>
          {org.projects.length === 0 && (
            <p className="muted">
              No projects here yet{org.permissions.includes("create_projects") ? ": create one with New project." : "."}
            </p>
          )}
          <div className="project-list">
            {org.projects.map((project) => (
              <ProjectCard
                key={project.id}
                project={project}
                organizationName={org.name}
                keys={keysByProject.get(project.id)}
                keysLoading={details.fetching}
                fresh={fresh?.projectId === project.id ? fresh : null}
                onSecret={(secret) => setFresh({ projectId: project.id, projectName: project.name, secret })}
                onDismissSecret={() => setFresh(null)}
                onDeleted={projectsChanged}
              />
            ))}
          </div>
          {org.permissions.includes("manage_members") && (
            <Members
              organizationId={org.id}
              organizationName={org.name}
              members={membersByOrg.get(org.id)}
              unavailable={
                allMembers
                  ? undefined
                  : "The member list cannot be shown while you are not an admin in every one of your organisations; you can still set roles here."
              }
              me={me}
              onChanged={membersChanged}
            />
          )}
        </section>
      ))}
    </div>
  );
}

/** The caller's role in an organisation, as its permissions there imply. */
function roleOf(permissions: readonly string[], projects: readonly { viewerPermissions: readonly string[] }[]): string {
  if (permissions.includes("manage_owners")) return "you are an owner";
  if (permissions.includes("manage_members")) return "you are an admin";
  const inProjects = projects[0]?.viewerPermissions ?? [];
  if (inProjects.includes("annotate")) return "you are a member";
  if (inProjects.includes("read_traces")) return "you are a viewer";
  return "";
}

// The projects page against a fake GraphQL client: what each role is shown, and how many
// queries the page makes.
import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { Provider, type Client } from "urql";
import { fromValue } from "wonka";
import { ProjectsPage } from "../../pages/Projects";

vi.mock("../ProjectContext", () => ({
  useProject: () => ({ refetch: vi.fn(), projects: [], project: null, organizations: [] }),
}));

const ADMIN = [
  "annotate",
  "create_projects",
  "delete_traces",
  "manage_keys",
  "manage_members",
  "manage_project",
  "read_audit_log",
  "read_traces",
  "tag_traces",
];

function fakeClient(orgPermissions: string[], projectPermissions: string[]) {
  const queries: { name: string; variables: unknown }[] = [];
  const structure = {
    viewer: {
      __typename: "Viewer",
      principal: "user:u1",
      organizations: [
        {
          __typename: "Organization",
          id: "org1",
          name: "Acme",
          permissions: orgPermissions,
          projects: [
            {
              __typename: "Project",
              id: "p1",
              name: "support-bot",
              createdAt: "2026-03-01T10:00:00Z",
              traceCount: 3,
              spanCount: 9,
              lastTraceAt: "2026-03-02T10:00:00Z",
              viewerPermissions: projectPermissions,
            },
          ],
        },
      ],
    },
  };
  const details = {
    keys: [
      {
        __typename: "Project",
        id: "p1",
        apiKeys: [
          {
            __typename: "ApiKey",
            id: "k1",
            prefix: "at_abcd",
            scopes: ["INGEST", "READ"],
            createdAt: "2026-03-01T10:00:00Z",
            expiresAt: null,
            revokedAt: null,
            lastUsedAt: null,
          },
        ],
      },
    ],
    viewer: {
      __typename: "Viewer",
      organizations: [
        {
          __typename: "Organization",
          id: "org1",
          members: [
            { __typename: "Member", userId: "u1", email: "me@example.com", role: "OWNER", since: "2026-03-01T10:00:00Z" },
          ],
        },
      ],
    },
  };
  const client = {
    executeQuery: vi.fn((operation: { query: { definitions: { name?: { value: string } }[] }; variables: unknown }) => {
      const name = operation.query.definitions[0]?.name?.value ?? "";
      queries.push({ name, variables: operation.variables });
      return fromValue({ operation, data: name === "ProjectsPage" ? structure : details, stale: false, hasNext: false });
    }),
    executeMutation: vi.fn(),
    executeSubscription: vi.fn(),
  } as unknown as Client;
  return { client, queries };
}

function renderPage(client: Client) {
  return render(
    <Provider value={client}>
      <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <ProjectsPage />
      </MemoryRouter>
    </Provider>,
  );
}

describe("ProjectsPage", () => {
  it("shows a viewer the projects but no control it may not use, in one query", async () => {
    const { client, queries } = fakeClient([], ["read_traces"]);
    renderPage(client);
    expect(await screen.findByRole("heading", { name: "support-bot" })).toBeInTheDocument();
    for (const name of ["New project", "Rename", "Delete", "Create API key", "Revoke", "Set role"]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
    expect(screen.queryByRole("heading", { name: "Members" })).not.toBeInTheDocument();
    expect(queries.map((q) => q.name)).toEqual(["ProjectsPage"]);
  });

  it("gives an owner every control: keys and members come in one more query", async () => {
    const { client, queries } = fakeClient(
      ["create_projects", "manage_members", "manage_owners", "read_audit_log"],
      [...ADMIN, "delete_project", "manage_owners"].sort(),
    );
    renderPage(client);
    const card = await screen.findByRole("article", { name: "support-bot" });
    expect(screen.getByRole("button", { name: "New project" })).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Rename" })).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Delete" })).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Create API key" })).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Revoke" })).toBeInTheDocument();
    expect(within(card).getByText("at_abcd…")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Members" })).toBeInTheDocument();
    expect(screen.getByRole("combobox", { name: "Role of me@example.com" })).toHaveValue("OWNER");
    expect(queries.map((q) => q.name)).toEqual(["ProjectsPage", "ProjectsDetails"]);
    expect(queries[1]?.variables).toEqual({ keyProjects: ["p1"], members: true });
  });

  it("lets an admin manage keys but not delete the project", async () => {
    const { client } = fakeClient(["create_projects", "manage_members", "read_audit_log"], ADMIN);
    renderPage(client);
    const card = await screen.findByRole("article", { name: "support-bot" });
    expect(within(card).getByRole("button", { name: "Create API key" })).toBeInTheDocument();
    expect(within(card).queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
  });
});

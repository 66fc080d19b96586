// The project every page shows: chosen in the header's switcher, kept in localStorage,
// and in the URL as ?project=<id> when a link must open the same project.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";

const ProjectsQuery = graphql(`
  query DashboardProjects {
    viewer {
      email
      isAdmin
      organizations {
        id
        name
        permissions
      }
    }
    projects {
      id
      name
    }
  }
`);

export interface ProjectChoice {
  id: string;
  name: string;
}

interface ProjectState {
  projects: ProjectChoice[];
  project: ProjectChoice | null;
  select(id: string): void;
  email: string | null;
  isAdmin: boolean;
  organizations: { id: string; name: string; permissions: string[] }[];
  refetch(): void;
}

const STORAGE_KEY = "agenttrace.project";
const Context = createContext<ProjectState | null>(null);

export function ProjectProvider({ children }: { children: ReactNode }) {
  const [result, refetch] = useQuery({ query: ProjectsQuery });
  const fromUrl = new URLSearchParams(window.location.search).get("project");
  const [chosen, setChosen] = useState<string | null>(fromUrl ?? localStorage.getItem(STORAGE_KEY));
  const projects = useMemo(() => result.data?.projects ?? [], [result.data]);
  const project = projects.find((p) => p.id === chosen) ?? projects[0] ?? null;
  useEffect(() => {
    if (project) localStorage.setItem(STORAGE_KEY, project.id);
  }, [project]);
  const value: ProjectState = {
    projects,
    project,
    select: setChosen,
    email: result.data?.viewer.email ?? null,
    isAdmin: result.data?.viewer.isAdmin ?? false,
    organizations: result.data?.viewer.organizations ?? [],
    refetch: () => refetch({ requestPolicy: "network-only" }),
  };
  if (result.fetching && !result.data) return <div className="splash">Loading…</div>;
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useProject(): ProjectState {
  const state = useContext(Context);
  if (!state) throw new Error("useProject outside ProjectProvider");
  return state;
}

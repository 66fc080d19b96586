import { useEffect, useState, type ReactNode } from "react";
import { NavLink, useNavigate } from "react-router-dom";
import { logout } from "../api/auth";
import { useProject } from "./ProjectContext";

type Theme = "light" | "dark";
const THEME_KEY = "agenttrace.theme";

export function initialTheme(): Theme {
  const stored = localStorage.getItem(THEME_KEY);
  if (stored === "light" || stored === "dark") return stored;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function useTheme(): [Theme, (theme: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);
  return [theme, setTheme];
}

const PAGES = [
  ["/", "Overview"],
  ["/traces", "Traces"],
  ["/sessions", "Sessions"],
  ["/analytics", "Analytics"],
  ["/projects", "Projects"],
] as const;

export function Layout({ children }: { children: ReactNode }) {
  const { projects, project, select, email } = useProject();
  const [theme, setTheme] = useTheme();
  const navigate = useNavigate();
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">AgentTrace</span>
        <nav aria-label="Pages">
          {PAGES.map(([to, label]) => (
            <NavLink key={to} to={to} end={to === "/"}>
              {label}
            </NavLink>
          ))}
        </nav>
        <span className="spacer" />
        <label className="switcher">
          <span className="sr-only">Project</span>
          <select
            aria-label="Project"
            value={project?.id ?? ""}
            onChange={(event) => select(event.target.value)}
            disabled={projects.length === 0}
          >
            {projects.length === 0 && <option value="">No project</option>}
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="ghost"
          aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
        >
          {theme === "dark" ? "☀" : "☾"}
        </button>
        <span className="who" title={email ?? undefined}>
          {email}
        </span>
        <button
          type="button"
          className="ghost"
          onClick={() => {
            void logout().then(() => navigate("/login"));
          }}
        >
          Log out
        </button>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}

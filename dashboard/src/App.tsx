import { useEffect, useState } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router-dom";
import { onSessionChange, resume, session, type Session } from "./api/auth";
import { Layout } from "./components/Layout";
import { ProjectProvider } from "./components/ProjectContext";
import { AnalyticsPage } from "./pages/Analytics";
import { LoginPage } from "./pages/Login";
import { OverviewPage } from "./pages/Overview";
import { ProjectsPage } from "./pages/Projects";
import { SessionsPage } from "./pages/Sessions";
import { TraceDetailPage } from "./pages/TraceDetail";
import { TracesPage } from "./pages/Traces";

/** The signed-in person's session; undefined while a stored one is being resumed. */
function useSession(): Session | null | undefined {
  const [current, setCurrent] = useState<Session | null | undefined>(() =>
    session() ?? undefined,
  );
  useEffect(() => {
    const stop = onSessionChange(setCurrent);
    if (current === undefined) void resume().then(setCurrent);
    return stop;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return current;
}

export function App() {
  const current = useSession();
  const location = useLocation();
  if (current === undefined) return <div className="splash">Loading…</div>;
  if (current === null || current.mustChangePassword) {
    return (
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route
          path="*"
          element={<Navigate to="/login" replace state={{ from: location.pathname + location.search }} />}
        />
      </Routes>
    );
  }
  return (
    <ProjectProvider>
      <Layout>
        <Routes>
          <Route path="/" element={<OverviewPage />} />
          <Route path="/traces" element={<TracesPage />} />
          <Route path="/traces/:traceId" element={<TraceDetailPage />} />
          <Route path="/sessions" element={<SessionsPage />} />
          <Route path="/analytics" element={<AnalyticsPage />} />
          <Route path="/projects" element={<ProjectsPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route path="*" element={<div className="empty">No such page.</div>} />
        </Routes>
      </Layout>
    </ProjectProvider>
  );
}

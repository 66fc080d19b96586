export function ProjectsPage() {
  return <div className="empty">Projects: coming in this issue.</div>;
}
